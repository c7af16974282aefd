"""Shared test helpers: broker selection, xfail-on-Tansu, records, and one small produce/consume
wrapper per stock client (kcat, confluent-kafka, kafka-python, aiokafka)."""
from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import pytest

import brokerproc

KIND = brokerproc.broker_kind()
IS_TANSU = KIND == "tansu"
RESULTS: dict[str, object] = {}   # printed in the terminal summary

CLIENTS = ("kcat", "confluent-kafka", "kafka-python", "aiokafka")
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


def xfail_tansu(reason: str):
    """xfail only when the broker under test is Tansu (never strict: Tansu may improve)."""
    return pytest.mark.xfail(IS_TANSU, reason=f"Tansu: {reason}", strict=False)


def topic_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(fn, timeout: float, interval: float = 0.1, what: str = "condition"):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# ----------------------------------------------------------------------------- records
@dataclass
class Rec:
    partition: int
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    ts: int


@dataclass
class Got:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    ts: int
    ts_type: int  # 1 CreateTime, 2 LogAppendTime, 0 none


def make_records(n: int, tag: str, partitions: int = 2, base_ts: int | None = None,
                 text_only: bool = False) -> list[Rec]:
    """Deterministic records: unique key, a value with a compressible text part and (unless
    text_only) some random bytes including 0x00 and newlines, three headers, CreateTime
    base_ts+i (default: ten minutes ago, so retention and timestamp limits never bite)."""
    if base_ts is None:
        base_ts = int(time.time() * 1000) - 600_000
    rnd = random.Random(tag)
    out = []
    for i in range(n):
        key = f"{tag}-k{i:07d}".encode()
        text = f"{tag} value {i:07d} " + "lorem ipsum dolor sit amet " * (1 + i % 4)
        if text_only:
            value = (text + "".join(rnd.choice("0123456789abcdef") for _ in range(24))).encode()
        else:
            value = text.encode() + bytes(rnd.getrandbits(8) for _ in range(24)) + b"\x00\n\r\t"
        headers = [("h-idx", str(i).encode()), ("h-tag", tag.encode()), ("h-empty", b"")]
        out.append(Rec(i % partitions, key, value, headers, base_ts + i))
    return out


def verify_roundtrip(sent: list[Rec], got: list[Got], *, check_ts: bool = True,
                     check_headers: bool = True, expect_headers=None, ts_range=None):
    """Every sent record read back exactly once, byte-for-byte, in per-partition order with
    contiguous offsets from 0."""
    assert len(got) == len(sent), f"read {len(got)} records, sent {len(sent)}"
    by_key = {r.key: r for r in sent}
    seen = set()
    for g in got:
        assert g.key in by_key, f"unexpected key {g.key!r} at {g.partition}/{g.offset}"
        assert g.key not in seen, f"duplicate key {g.key!r} at {g.partition}/{g.offset}"
        seen.add(g.key)
        r = by_key[g.key]
        assert g.partition == r.partition, f"{g.key!r}: partition {g.partition} != {r.partition}"
        assert g.value == r.value, f"{g.key!r}: value differs: {g.value!r} != {r.value!r}"
        if check_headers:
            want = r.headers if expect_headers is None else expect_headers
            assert list(g.headers) == list(want), f"{g.key!r}: headers {g.headers!r} != {want!r}"
        if check_ts:
            assert g.ts_type == 1, f"{g.key!r}: timestamp type {g.ts_type}, expected CreateTime"
            assert g.ts == r.ts, f"{g.key!r}: timestamp {g.ts} != {r.ts}"
        if ts_range:
            assert ts_range[0] <= g.ts <= ts_range[1], f"{g.key!r}: timestamp {g.ts} not in {ts_range}"
    parts: dict[int, list[Got]] = {}
    for g in got:
        parts.setdefault(g.partition, []).append(g)
    index = {r.key: i for i, r in enumerate(sent)}
    for p, gs in parts.items():
        gs.sort(key=lambda g: g.offset)
        offs = [g.offset for g in gs]
        assert offs == list(range(len(gs))), f"partition {p}: offsets not contiguous from 0: {offs[:5]}..."
        idx = [index[g.key] for g in gs]
        assert idx == sorted(idx), f"partition {p}: records out of order"


# ----------------------------------------------------------------------------- confluent-kafka
def ck_conf(bootstrap: str, **extra) -> dict:
    c = {"bootstrap.servers": bootstrap, "enable.metrics.push": False,
         "socket.timeout.ms": 10000, "client.id": "martlet-conformance-ck"}
    c.update(extra)
    return c


def ck_admin(bootstrap: str):
    from confluent_kafka.admin import AdminClient
    return AdminClient(ck_conf(bootstrap))


def ck_create_topic(bootstrap: str, topic: str, partitions: int = 1, config: dict | None = None):
    from confluent_kafka.admin import NewTopic
    a = ck_admin(bootstrap)
    fs = a.create_topics([NewTopic(topic, partitions, 1, config=config or {})], request_timeout=20)
    fs[topic].result(30)
    wait_until(lambda: (t := a.list_topics(topic, timeout=10).topics.get(topic)) is not None
               and t.error is None and len(t.partitions) == partitions,
               20, what=f"metadata for {topic}")


def ck_produce(bootstrap: str, topic: str, records: list[Rec], codec: str = "none",
               timeout: float = 120, **extra) -> list:
    from confluent_kafka import Producer
    conf = ck_conf(bootstrap, **{"compression.type": codec, "linger.ms": 20, "acks": "all",
                                 "queue.buffering.max.messages": 1_000_000,
                                 "queue.buffering.max.kbytes": 1_048_576,
                                 "batch.num.messages": 10000, "batch.size": 1_000_000})
    conf.update(extra)
    p = Producer(conf)
    errors, acked = [], []

    def cb(err, msg):
        if err is not None:
            errors.append(err)
        else:
            acked.append((msg.partition(), msg.offset()))

    deadline = time.monotonic() + timeout
    for i, r in enumerate(records):
        while True:
            try:
                p.produce(topic, value=r.value, key=r.key, partition=r.partition,
                          timestamp=r.ts, headers=r.headers, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
                assert time.monotonic() < deadline, "producer queue never drained"
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(max(1.0, deadline - time.monotonic()))
    assert left == 0, f"{left} records not delivered in {timeout}s"
    assert not errors, f"delivery errors: {errors[:3]} ({len(errors)} total)"
    assert len(acked) == len(records)
    return acked


def ck_consume(bootstrap: str, topic: str, partitions: int, n: int, timeout: float = 120,
               **extra) -> list[Got]:
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    conf = ck_conf(bootstrap, **{"group.id": topic_name("ck-grp"), "enable.auto.commit": False,
                                 "auto.offset.reset": "earliest", "check.crcs": True,
                                 "fetch.wait.max.ms": 100})
    conf.update(extra)
    c = Consumer(conf)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    out: list[Got] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < n and time.monotonic() < deadline:
            for m in c.consume(num_messages=10000, timeout=0.5):
                if m.error():
                    raise AssertionError(f"consume error: {m.error()}")
                tt, ts = m.timestamp()
                out.append(Got(m.partition(), m.offset(), m.key(), m.value(),
                               [(k, v if v is not None else None) for k, v in (m.headers() or [])],
                               ts, tt))
        # anything past n would be a duplicate: give it a moment to show up
        extra_msgs = c.consume(num_messages=100, timeout=0.3)
        out += [Got(m.partition(), m.offset(), m.key(), m.value(), m.headers() or [], m.timestamp()[1],
                    m.timestamp()[0]) for m in extra_msgs if not m.error()]
    finally:
        c.close()
    return out


def ck_consume_all(bootstrap: str, topic: str, partitions: int, timeout: float = 60) -> list[Got]:
    """Everything from offset 0 up to each partition's high watermark (asked first)."""
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    c = Consumer(ck_conf(bootstrap, **{"group.id": topic_name("ck-all"), "enable.auto.commit": False,
                                       "check.crcs": True, "fetch.wait.max.ms": 100}))
    out: list[Got] = []
    try:
        hwm = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=15, cached=False)[1]
               for p in range(partitions)}
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        nxt = {p: 0 for p in range(partitions)}
        deadline = time.monotonic() + timeout
        while any(nxt[p] < hwm[p] for p in hwm):
            assert time.monotonic() < deadline, f"read up to {nxt}, high watermarks {hwm}"
            for m in c.consume(num_messages=10000, timeout=0.5):
                if m.error():
                    raise AssertionError(f"consume error: {m.error()}")
                tt, ts = m.timestamp()
                out.append(Got(m.partition(), m.offset(), m.key(), m.value(), m.headers() or [], ts, tt))
                nxt[m.partition()] = m.offset() + 1
    finally:
        c.close()
    return out


# ----------------------------------------------------------------------------- kafka-python
def kp_produce(bootstrap: str, topic: str, records: list[Rec], codec: str = "none",
               timeout: float = 120, **extra):
    from kafka import KafkaProducer
    conf = dict(bootstrap_servers=bootstrap, compression_type=None if codec == "none" else codec,
                linger_ms=20, batch_size=512 * 1024, acks="all", client_id="martlet-conformance-kp",
                max_request_size=8 * 1024 * 1024, request_timeout_ms=30000)
    conf.update(extra)
    p = KafkaProducer(**conf)
    try:
        futs = [p.send(topic, value=r.value, key=r.key, partition=r.partition,
                       timestamp_ms=r.ts, headers=r.headers) for r in records]
        p.flush(timeout)
        return [(m.partition, m.offset) for m in (f.get(timeout=10) for f in futs)]
    finally:
        p.close(timeout=5)


def kp_consume(bootstrap: str, topic: str, partitions: int, n: int, timeout: float = 120) -> list[Got]:
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", client_id="martlet-conformance-kp",
                      fetch_max_wait_ms=100, max_partition_fetch_bytes=4 * 1024 * 1024,
                      check_crcs=True)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out: list[Got] = []
    deadline = time.monotonic() + timeout
    try:
        polls_after = 0
        while time.monotonic() < deadline and (len(out) < n or polls_after < 1):
            if len(out) >= n:
                polls_after += 1
            batch = c.poll(timeout_ms=300 if len(out) >= n else 1000, max_records=20000)
            for tp, msgs in batch.items():
                for m in msgs:
                    out.append(Got(m.partition, m.offset, m.key, m.value,
                                   [(k, v) for k, v in (m.headers or [])], m.timestamp,
                                   m.timestamp_type + 1 if m.timestamp_type is not None else 0))
    finally:
        c.close()
    return out


# ----------------------------------------------------------------------------- aiokafka
async def _ak_produce(bootstrap, topic, records, codec, timeout, extra):
    from aiokafka import AIOKafkaProducer
    conf = dict(bootstrap_servers=bootstrap, compression_type=None if codec == "none" else codec,
                linger_ms=20, max_batch_size=512 * 1024, acks="all", client_id="martlet-conformance-ak",
                max_request_size=8 * 1024 * 1024, request_timeout_ms=30000)
    conf.update(extra)
    p = AIOKafkaProducer(**conf)
    await p.start()
    try:
        futs = []
        for r in records:
            futs.append(await p.send(topic, value=r.value, key=r.key, partition=r.partition,
                                     timestamp_ms=r.ts, headers=r.headers))
        await asyncio.wait_for(p.flush(), timeout)
        mds = await asyncio.wait_for(asyncio.gather(*futs), timeout)
        return [(m.partition, m.offset) for m in mds]
    finally:
        await p.stop()


async def _ak_consume(bootstrap, topic, partitions, n, timeout):
    from aiokafka import AIOKafkaConsumer, TopicPartition
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         auto_offset_reset="earliest", client_id="martlet-conformance-ak",
                         fetch_max_wait_ms=100, max_partition_fetch_bytes=4 * 1024 * 1024,
                         check_crcs=True)
    await c.start()
    out: list[Got] = []
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        polls_after = 0
        while time.monotonic() < deadline and (len(out) < n or polls_after < 1):
            if len(out) >= n:
                polls_after += 1
            batch = await c.getmany(timeout_ms=300 if len(out) >= n else 1000, max_records=20000)
            for tp, msgs in batch.items():
                for m in msgs:
                    out.append(Got(m.partition, m.offset, m.key, m.value,
                                   [(k, v) for k, v in (m.headers or [])], m.timestamp,
                                   m.timestamp_type + 1 if m.timestamp_type is not None else 0))
    finally:
        await c.stop()
    return out


def ak_produce(bootstrap, topic, records, codec="none", timeout=120, **extra):
    return asyncio.run(_ak_produce(bootstrap, topic, records, codec, timeout, extra))


def ak_consume(bootstrap, topic, partitions, n, timeout=120):
    return asyncio.run(_ak_consume(bootstrap, topic, partitions, n, timeout))


# ----------------------------------------------------------------------------- kcat
def kcat_env(system_lib: bool = False) -> dict:
    """kcat links Debian's librdkafka 2.0.2, which cannot parse Tansu 0.6's ApiVersions v3
    answer (tagged fields, PITFALLS.md). Against Tansu the tests swap in the librdkafka
    bundled with the pinned confluent-kafka wheel so the test logic is still exercised;
    test_metadata.py::test_kcat_debian_librdkafka checks the Debian library on its own."""
    env = dict(os.environ)
    if IS_TANSU and not system_lib:
        d = brokerproc.wheel_librdkafka_dir()
        if d:
            env["LD_LIBRARY_PATH"] = f"{d}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")
    return env


def kcat(bootstrap: str, *args: str, input: bytes | None = None, timeout: float = 60,
         system_lib: bool = False, check: bool = True) -> subprocess.CompletedProcess:
    cmd = ["kcat", "-b", bootstrap, "-X", "client.id=martlet-conformance-kcat", *args]
    p = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout,
                       env=kcat_env(system_lib), stdin=None if input is not None else subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}")
    return p


KCAT_HEADERS = [("h-tag", b"kcat-fixed"), ("h-client", b"kcat")]


def kc_produce(bootstrap: str, topic: str, records: list[Rec], codec: str = "none", timeout: float = 120):
    """kcat cannot set per-record timestamps or headers: every record gets KCAT_HEADERS and
    the producer's wall-clock CreateTime. Values must be text without tab/newline."""
    parts = sorted({r.partition for r in records})
    for p in parts:
        lines = b"".join(r.key + b"\t" + r.value + b"\n" for r in records if r.partition == p)
        kcat(bootstrap, "-P", "-t", topic, "-p", str(p), "-K", "\t", "-z", codec,
             *[x for k, v in KCAT_HEADERS for x in ("-H", f"{k}={v.decode()}")],
             "-X", "linger.ms=20", "-X", "acks=all", "-X", "batch.num.messages=10000",
             input=lines, timeout=timeout)


def kc_consume(bootstrap: str, topic: str, partitions: int, n: int, timeout: float = 120) -> list[Got]:
    p = kcat(bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q",
             "-X", "check.crcs=true", "-X", "fetch.wait.max.ms=100", timeout=timeout)
    out = []
    for line in p.stdout.decode().splitlines():
        if not line.strip():
            continue
        j = json.loads(line)
        h = j.get("headers") or []
        headers = [(h[i], h[i + 1].encode() if h[i + 1] is not None else None) for i in range(0, len(h), 2)]
        out.append(Got(j["partition"], j["offset"],
                       j["key"].encode() if j.get("key") is not None else None,
                       j["payload"].encode() if j.get("payload") is not None else None,
                       headers, j.get("ts", -1), {"create": 1, "logappend": 2}.get(j.get("tstype"), 0)))
    return out


PRODUCE = {"kcat": kc_produce, "confluent-kafka": ck_produce, "kafka-python": kp_produce,
           "aiokafka": ak_produce}
CONSUME = {"kcat": kc_consume, "confluent-kafka": ck_consume, "kafka-python": kp_consume,
           "aiokafka": ak_consume}


def roundtrip(client: str, bootstrap: str, n: int, codec: str, tag: str, partitions: int = 2,
              timeout: float = 180) -> dict:
    """Create a topic, produce n records with `client` and `codec`, read them back with the
    same client, verify everything. Returns timings."""
    topic = topic_name(f"rt-{client}-{codec}")
    ck_create_topic(bootstrap, topic, partitions)
    recs = make_records(n, tag, partitions, text_only=(client == "kcat"))
    t0 = time.monotonic()
    wall0 = int(time.time() * 1000)
    PRODUCE[client](bootstrap, topic, recs, codec, timeout=timeout)
    t1 = time.monotonic()
    wall1 = int(time.time() * 1000)
    got = CONSUME[client](bootstrap, topic, partitions, n, timeout=timeout)
    t2 = time.monotonic()
    if client == "kcat":
        verify_roundtrip(recs, got, check_ts=False, expect_headers=KCAT_HEADERS,
                         ts_range=(wall0 - 1000, wall1 + 1000))
        assert all(g.ts_type == 1 for g in got), "kcat records should carry CreateTime"
    else:
        verify_roundtrip(recs, got)
    return {"topic": topic, "produce_s": round(t1 - t0, 2), "consume_s": round(t2 - t1, 2)}
