"""Log compaction (cleanup.policy=compact): the background cleaner keeps the latest record of every
key at its original offset, removes tombstones once delete.retention.ms has passed after the pass
that first saw them, and keyless records are refused on compacted topics.

The broker runs with log.cleaner.backoff.ms=500 (Kafka's name: how long the cleaner sleeps when
nothing is cleanable); the topics with segment.ms=1000 and min.cleanable.dirty.ratio=0.01, so
that, once a record produced more than a second after the others rolls the active segment, the
whole history is cleanable."""
import random
import time

import pytest

import helpers
import kafka_wire as kw
from helpers import RESULTS, xfail_tansu

CLEANER = {"log.cleaner.backoff.ms": "500"}
# Tansu has no log cleaner: these would only wait out their whole timeout there, so they are not run
NO_CLEANER_ON_TANSU = pytest.mark.xfail(helpers.IS_TANSU, run=False, strict=False,
                                        reason="Tansu: no log cleaner (not run: it would only wait out the timeout)")
KEYS = 1000
UPDATES = 1_000_000
SEGMENT_MS = 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _compacted_topic(b, name: str, **extra) -> str:
    topic = helpers.topic_name(name)
    config = {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01",
              "segment.ms": str(SEGMENT_MS), "min.compaction.lag.ms": "0"}
    config.update({k.replace("_", "."): str(v) for k, v in extra.items()})
    helpers.ck_create_topic(b.bootstrap, topic, 1, config=config)
    return topic


def _roll_active_segment(b, topic: str, key: bytes = b"sentinel") -> int:
    """Wait past segment.ms, then produce one record: the broker rolls the active segment (it is
    older than segment.ms) before appending it, so everything produced before becomes cleanable.
    Returns the record's offset. (A sleep: what is awaited is the broker's clock passing segment.ms.)"""
    time.sleep(SEGMENT_MS / 1000 + 0.5)
    [(p, off)] = helpers.ck_produce(b.bootstrap, topic, [helpers.Rec(0, key, b"roll", [], _now_ms())])
    return off


def _read_all(b, topic: str, limit: int, timeout: float = 30):
    """Every record of partition 0 from the start up to the high watermark, as (offset, key,
    value); None when more than `limit` records come before the end (not compacted yet)."""
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    c = Consumer(helpers.ck_conf(b.bootstrap, **{
        "group.id": helpers.topic_name("cmp"), "enable.auto.commit": False, "fetch.wait.max.ms": 50,
        "max.partition.fetch.bytes": 262144, "queued.max.messages.kbytes": 4096, "check.crcs": True}))
    try:
        hwm = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=15, cached=False)[1]
        c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        out, nxt = [], 0
        end = time.monotonic() + timeout
        while nxt < hwm:
            assert time.monotonic() < end, f"read up to {nxt} of {hwm} in {timeout}s"
            for m in c.consume(num_messages=2000, timeout=0.5):
                if m.error():
                    raise AssertionError(f"consume error: {m.error()}")
                out.append((m.offset(), m.key(), m.value()))
                nxt = m.offset() + 1
            if len(out) > limit:
                return None
        return out
    finally:
        c.close()


def _wait_compacted(b, topic, limit, timeout, done=lambda recs: True):
    """Poll until a read from the start holds at most `limit` records and done(records)."""
    got = {}

    def check():
        recs = _read_all(b, topic, limit)
        if recs is not None and done(recs):
            got["recs"] = recs
            return True
        return False
    helpers.wait_until(check, timeout, 0.5, what=f"{topic} compacted to <= {limit} records")
    return got["recs"]


# ----------------------------------------------------------------------------- 1M updates
@NO_CLEANER_ON_TANSU
@pytest.mark.slow
@pytest.mark.broker_overrides(CLEANER)
@pytest.mark.timeout(240)
def test_million_updates_compact_to_latest_per_key(fresh_broker):
    """1,000,000 updates over 1,000 keys (idempotent confluent-kafka producer, lz4, 512 KiB
    segments). Key k's last update lands anywhere in the log: the updates move through the keys so
    that low keys stop being written early. After the roll, the partition shrinks to about one
    record per key (<= 1,100) and a consumer from the beginning sees, for every key, exactly its
    latest value at the offset its delivery report gave; the offsets of what is kept are
    unchanged (gaps where records were removed), the high watermark too."""
    from confluent_kafka import Producer
    b = fresh_broker
    topic = _compacted_topic(b, "cmp-1m", segment_bytes=524288)
    rng = random.Random(6)
    keys = list(range(KEYS))
    for i in range(KEYS, UPDATES):
        lo = (i - KEYS) * KEYS // (UPDATES - KEYS)
        keys.append(lo + int(rng.random() * (KEYS - lo)))
    last = {}
    for i, k in enumerate(keys):
        last[k] = i
    latest_index = set(last.values())

    delivered: dict[int, int] = {}   # index of a key's latest update -> offset
    errors = []

    def cb_latest(i):
        def cb(err, msg):
            if err is not None:
                errors.append(err)
            else:
                delivered[i] = msg.offset()
        return cb

    def cb_err(err, msg):
        if err is not None:
            errors.append(err)

    p = Producer(helpers.ck_conf(b.bootstrap, **{
        "enable.idempotence": True, "acks": "all", "compression.type": "lz4", "linger.ms": 50,
        "batch.size": 1_000_000, "batch.num.messages": 100_000,
        "queue.buffering.max.messages": 2_000_000, "queue.buffering.max.kbytes": 2_097_151,
        "message.timeout.ms": 120000}))
    t0 = time.monotonic()
    for i, k in enumerate(keys):
        key = b"key-%04d" % k
        value = b"key-%04d:update-%07d" % (k, i)
        cb = cb_latest(i) if i in latest_index else cb_err
        while True:
            try:
                p.produce(topic, key=key, value=value, partition=0, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
        if i % 20000 == 0:
            p.poll(0)
    left = p.flush(120)
    produce_s = time.monotonic() - t0
    assert left == 0 and not errors, f"{left} undelivered, errors {errors[:3]}"
    assert len(delivered) == KEYS
    RESULTS["compaction: produce 1M updates s"] = round(produce_s, 1)

    sentinel = _roll_active_segment(b, topic)
    assert sentinel == UPDATES, f"the sentinel landed at {sentinel}, expected {UPDATES}"
    t1 = time.monotonic()
    recs = _wait_compacted(b, topic, KEYS + 100, 120)
    RESULTS["compaction: roll -> <= 1,100 records s"] = round(time.monotonic() - t1, 1)
    RESULTS["compaction: records after cleaning"] = len(recs)

    offsets = [o for o, _, _ in recs]
    assert offsets == sorted(set(offsets)), "offsets are not strictly increasing"
    assert recs[-1] == (UPDATES, b"sentinel", b"roll")
    by_key: dict[bytes, list[tuple[int, bytes]]] = {}
    for o, k, v in recs[:-1]:
        by_key.setdefault(k, []).append((o, v))
    assert len(by_key) == KEYS, f"{KEYS - len(by_key)} keys lost by the cleaner"
    wrong = []
    for k in range(KEYS):
        i = last[k]
        want = (delivered[i], b"key-%04d:update-%07d" % (k, i))
        have = by_key[b"key-%04d" % k]
        if have[-1] != want:
            wrong.append((k, have[-1], want))
    assert not wrong, f"{len(wrong)} keys without their latest value at its offset, e.g. {wrong[:3]}"
    stale = {k: v for k, v in by_key.items() if len(v) > 1}
    RESULTS["compaction: keys still holding an older value"] = len(stale)


# ----------------------------------------------------------------------------- tombstones
DELETE_RETENTION_MS = 3000


@NO_CLEANER_ON_TANSU
@pytest.mark.broker_overrides(CLEANER)
@pytest.mark.timeout(120)
def test_tombstones_removed_after_delete_retention(fresh_broker):
    """200 keys with 3 updates each, then tombstones (null values) for 50 of them, on a topic with
    delete.retention.ms=3000. The first cleaning drops every superseded value but keeps the
    tombstones, so a consumer reading from the beginning still learns of the deletes: 150 live
    keys + 50 tombstones. A later pass, delete.retention.ms after that, removes the tombstones
    too: the 150 live keys hold their latest values at their offsets, the 50 deleted keys are gone
    entirely."""
    b = fresh_broker
    topic = _compacted_topic(b, "cmp-tomb", delete_retention_ms=DELETE_RETENTION_MS)
    recs = [helpers.Rec(0, b"k%03d" % k, b"k%03d-v%d" % (k, u), [], _now_ms())
            for u in range(3) for k in range(200)]
    acked = helpers.ck_produce(b.bootstrap, topic, recs)
    from confluent_kafka import Producer
    p = Producer(helpers.ck_conf(b.bootstrap, **{"acks": "all", "linger.ms": 5}))
    errors, tomb_offsets = [], {}

    def cb(err, msg):
        if err is not None:
            errors.append(err)
        else:
            tomb_offsets[msg.key()] = msg.offset()

    for k in range(50):
        p.produce(topic, key=b"k%03d" % k, value=None, partition=0, on_delivery=cb)
    assert p.flush(30) == 0 and not errors, errors
    live_offsets = {b"k%03d" % k: acked[400 + k][1] for k in range(50, 200)}
    sentinel = _roll_active_segment(b, topic)
    assert sentinel == 650

    def once_each(rs):
        keys = [k for _, k, _ in rs]
        return len(keys) == len(set(keys))

    # 1. superseded values gone, tombstones still there
    first = _wait_compacted(b, topic, 201, 60, done=once_each)
    t_first = time.monotonic()
    tombs = {k: o for o, k, v in first if v is None}
    if len(first) == 201:
        assert tombs == tomb_offsets, f"tombstones after the first cleaning: {sorted(tombs)[:5]}..."
    else:
        # the tombstones were already gone at the first look: they must have been kept for
        # delete.retention.ms after the cleaning that first saw them, which is impossible this soon
        pytest.fail(f"the first read after the roll held {len(first)} records: tombstones were removed "
                    f"by the first cleaning, not {DELETE_RETENTION_MS} ms later")

    # 2. the tombstones removed by a later pass
    got = _wait_compacted(b, topic, 151, 60, done=lambda rs: once_each(rs) and not any(v is None for _, _, v in rs))
    kept_s = time.monotonic() - t_first
    RESULTS["compaction: tombstones still readable for s (at least)"] = round(kept_s, 1)
    assert kept_s >= DELETE_RETENTION_MS / 1000 - 1.5, \
        f"tombstones removed {kept_s:.1f}s after they were first seen cleaned (delete.retention.ms={DELETE_RETENTION_MS})"
    live = {k: (o, v) for o, k, v in got if k != b"sentinel"}
    assert set(live) == set(live_offsets), \
        f"deleted keys left: {sorted(set(live) - set(live_offsets))[:5]}, live keys missing: " \
        f"{sorted(set(live_offsets) - set(live))[:5]}"
    for k, (o, v) in live.items():
        assert (o, v) == (live_offsets[k], k + b"-v2"), (k, o, v)


# ----------------------------------------------------------------------------- keyless records
@xfail_tansu("accepts keyless records on a compacted topic")
@pytest.mark.parametrize("policy", ["compact", "compact,delete"])
@pytest.mark.timeout(90)
def test_keyless_record_refused_on_compacted_topic(broker, policy):
    """A record without a key cannot be compacted: Kafka refuses it with INVALID_RECORD (87),
    through confluent-kafka's delivery report and over a raw Produce v3, where a batch mixing keyed
    and keyless records is refused whole (the high watermark does not move). The partition keeps
    taking keyed records, which a consumer then reads (and nothing else)."""
    from confluent_kafka import KafkaError, Producer
    b = broker
    topic = helpers.topic_name("cmp-nokey")
    helpers.ck_create_topic(b.bootstrap, topic, 1, config={"cleanup.policy": policy})
    p = Producer(helpers.ck_conf(b.bootstrap, **{"acks": "all", "linger.ms": 0, "retries": 0}))
    res = []
    p.produce(topic, value=b"no key", partition=0, on_delivery=lambda err, msg: res.append(err))
    assert p.flush(30) == 0
    assert res and res[0] is not None and res[0].code() == KafkaError.INVALID_RECORD, \
        f"a keyless record on a {policy} topic: {res}"
    acked = helpers.ck_produce(b.bootstrap, topic, [helpers.Rec(0, b"k1", b"with key", [], _now_ms())])
    assert acked == [(0, 0)], acked

    with kw.Conn(b.host, b.port) as c:
        for batch in ([(None, b"raw no key")], [(b"k2", b"keyed"), (None, b"keyless")]):
            r = kw.parse_produce_v3(c.call(kw.API_PRODUCE, 3, kw.produce_v3(topic, {0: kw.record_batch(batch)})))
            part = r["topics"][0]["partitions"][0]
            assert part["error_code"] == 87, f"raw Produce of {batch}: error {part['error_code']}, expected 87"
        r = kw.parse_produce_v3(c.call(kw.API_PRODUCE, 3, kw.produce_v3(topic, {0: kw.record_batch([(b"k3", b"raw keyed")])})))
        part = r["topics"][0]["partitions"][0]
        assert (part["error_code"], part["base_offset"]) == (0, 1), part
    got = helpers.ck_consume_all(b.bootstrap, topic, 1, timeout=30)
    assert [(g.offset, g.key, g.value) for g in got] == [(0, b"k1", b"with key"), (1, b"k3", b"raw keyed")]
