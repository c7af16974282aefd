"""Bad input against a live server, over raw sockets: each case gets the right error or a closed
connection (never a hang, never a crash), while a well-behaved client keeps producing on the
same broker throughout and a connection opened before keeps answering."""
import os
import random
import struct
import threading
import time

import pytest
from confluent_kafka import Producer

import helpers
import kafka_wire as kw
from helpers import RESULTS, xfail_tansu

CLOSE_WITHIN = 5.0  # seconds a broker may take to drop a connection it cannot use (Kafka: at once)


class Canary:
    """A confluent-kafka producer sending one acks=all record every 20 ms, counting acks and
    errors, plus one raw connection opened at the start and used after every case."""

    def __init__(self, b):
        self.b = b
        self.topic = helpers.topic_name("canary")
        helpers.ck_create_topic(b.bootstrap, self.topic, 1)
        self.acked = 0
        self.errors = []
        self.stop = threading.Event()
        self.p = Producer(helpers.ck_conf(b.bootstrap, **{"acks": "all", "linger.ms": 0,
                                                          "message.timeout.ms": 15000}))
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()
        self.raw = kw.Conn(b.host, b.port)
        self.raw.call(kw.API_API_VERSIONS, 0, b"")

    def run(self):
        i = 0
        while not self.stop.is_set():
            self.p.produce(self.topic, value=f"canary-{i}".encode(), on_delivery=self.cb)
            i += 1
            self.p.poll(0)
            time.sleep(0.02)
        self.p.flush(15)

    def cb(self, err, msg):
        if err is None:
            self.acked += 1
        else:
            self.errors.append(err)

    def check(self, since: int):
        """The canary made progress after `since` acks, had no errors, and the old connection answers."""
        helpers.wait_until(lambda: self.acked >= since + 5, 15, what="canary acks after the bad input")
        assert not self.errors, f"canary producer errors: {self.errors[:3]}"
        assert self.b.alive(), "the broker died"
        body = kw.parse_api_versions_v0(self.raw.call(kw.API_API_VERSIONS, 0, b"", timeout=10))
        assert body["error_code"] == 0

    def close(self):
        self.stop.set()
        self.t.join(20)
        self.raw.close()


@pytest.fixture(scope="module")
def bad_broker(broker_factory):
    b = broker_factory("bad-input")
    yield b
    b.stop()


@pytest.fixture(scope="module")
def canary(bad_broker):
    c = Canary(bad_broker)
    yield c
    c.close()
    RESULTS["bad input: canary records acknowledged meanwhile"] = c.acked


@pytest.fixture
def guard(bad_broker, canary):
    """Per test: remember the canary's count and the broker's RSS; check both afterwards."""
    before = canary.acked
    rss0 = bad_broker.rss_kib()
    yield bad_broker
    canary.check(before)
    rss1 = bad_broker.rss_kib()
    if rss0 and rss1:
        assert rss1 - rss0 < 64 * 1024, f"broker RSS grew {(rss1 - rss0) // 1024} MiB on one bad input"


def _closed_or_answered(c: kw.Conn, corr: int | None = None):
    """The broker either closes the connection or sends a response frame (then we close)."""
    try:
        data = c.wait_closed(CLOSE_WITHIN)
    except TimeoutError as e:
        pytest.fail(f"connection neither closed nor answered: {e}")
    if data and corr is not None and len(data) >= 8:
        (rcorr,) = struct.unpack(">i", data[4:8])
        assert rcorr == corr, f"an answer with correlation id {rcorr}, expected {corr}"
    return data


# ----------------------------------------------------------------------------- framing
GARBAGE = {
    "http-get": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",  # size prefix 0x47455420 (1.2 GB)
    "tls-client-hello": bytes.fromhex("16030100f5010000f10303") + os.urandom(64),
    "random-in-a-frame": struct.pack(">i", 996) + random.Random(7).randbytes(996),
    "produce-header-then-garbage": kw.request_frame(0, 9, 77, random.Random(8).randbytes(300)),
    "zero-length-frame": struct.pack(">i", 0),
    "truncated-header": struct.pack(">i", 3) + b"\x00\x12\x00",
}


HUGE_PREFIX = xfail_tansu("waits for the body of a frame whose size prefix is above "
                          "socket.request.max.bytes (100 MiB) instead of closing the connection")


@pytest.mark.parametrize("name", [pytest.param(n, marks=HUGE_PREFIX) if n in ("http-get", "tls-client-hello")
                                  else n for n in GARBAGE])
def test_garbage(guard, name):
    b = guard
    with kw.Conn(b.host, b.port) as c:
        c.send_raw(GARBAGE[name])
        _closed_or_answered(c)


@pytest.mark.parametrize("size", [pytest.param(0x7FFFFFFF, id="2GiB-1", marks=HUGE_PREFIX),
                                  pytest.param(-0x80000000, id="int32-min"),
                                  pytest.param(-1, id="minus-1"),
                                  pytest.param(100 * 1024 * 1024 + 1, id="100MiB+1", marks=HUGE_PREFIX)])
def test_huge_or_negative_length_prefix(guard, size):
    """Kafka closes at once for a size above socket.request.max.bytes (100 MiB) or negative,
    without allocating or waiting for the body."""
    b = guard
    with kw.Conn(b.host, b.port) as c:
        t0 = time.monotonic()
        c.send_raw(struct.pack(">i", size) + b"\x00" * 64)
        try:
            data = c.wait_closed(CLOSE_WITHIN)
        except TimeoutError:
            pytest.fail(f"size prefix {size}: connection still open after {CLOSE_WITHIN}s "
                        "(waiting for a body it should refuse)")
        assert data == b"", f"size prefix {size}: got {len(data)} bytes back"
        RESULTS[f"bad input: close after size prefix {size} (s)"] = round(time.monotonic() - t0, 3)


# ----------------------------------------------------------------------------- API and version
@pytest.mark.parametrize("api_key", [1000, 32767, -1])
def test_unknown_api_key(guard, api_key):
    b = guard
    with kw.Conn(b.host, b.port) as c:
        c.send_raw(kw.request_frame(api_key, 0, 42, b""))
        _closed_or_answered(c, corr=42)


@xfail_tansu("answers ApiVersions v99 with error 0 in the flexible (v3) layout, not a v0 response "
             "with UNSUPPORTED_VERSION (KIP-511)")
def test_api_versions_unsupported_version(guard):
    """KIP-511: ApiVersions at a version above the broker's gets an ApiVersions v0 answer (v0
    response header) with UNSUPPORTED_VERSION (35) and the broker's ranges, so the client can
    retry lower. The request is sent as a newer client would: header v2, a v3-shaped body."""
    b = guard
    with kw.Conn(b.host, b.port) as c:
        r = kw.parse_api_versions_v0(c.call(kw.API_API_VERSIONS, 99, kw.api_versions_v3(), flexible=True))
        assert r["error_code"] == kw.UNSUPPORTED_VERSION
        assert kw.API_API_VERSIONS in r["apis"], r
        # the connection stays usable: a supported version now works
        r = kw.parse_api_versions_v0(c.call(kw.API_API_VERSIONS, 0, b""))
        assert r["error_code"] == 0 and r["apis"][kw.API_PRODUCE][1] >= 3


@pytest.mark.parametrize("api_key,version", [(kw.API_METADATA, 99), (kw.API_PRODUCE, 99),
                                              (kw.API_CREATE_TOPICS, 0)],
                         ids=["metadata-v99", "produce-v99", "createtopics-v0-removed"])
def test_unsupported_version(guard, api_key, version):
    """A version the broker does not advertise: closed (Kafka), or an error answer."""
    b = guard
    with kw.Conn(b.host, b.port) as c:
        c.send_raw(kw.request_frame(api_key, version, 43, kw.metadata_v1(None)))
        _closed_or_answered(c, corr=43)


# ----------------------------------------------------------------------------- Produce / CreateTopics errors
def _hwm(b, topic):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer(helpers.ck_conf(b.bootstrap, **{"group.id": helpers.topic_name("bad-g")}))
    try:
        return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=15, cached=False)[1]
    finally:
        c.close()


def _produce(c, topic, batches, acks=-1):
    r = kw.parse_produce_v3(c.call(kw.API_PRODUCE, 3, kw.produce_v3(topic, batches, acks=acks)))
    [t] = r["topics"]
    assert t["name"] == topic
    return {p["partition"]: (p["error_code"], p["base_offset"]) for p in t["partitions"]}


@xfail_tansu("does not check the record batch CRC-32C: the corrupt batch is appended")
def test_produce_bad_crc(guard):
    b = guard
    topic = helpers.topic_name("bad-crc")
    helpers.ck_create_topic(b.bootstrap, topic, 1)
    recs = [(b"k%d" % i, b"v%d" % i) for i in range(3)]
    with kw.Conn(b.host, b.port) as c:
        assert _produce(c, topic, {0: kw.record_batch(recs)}) == {0: (0, 0)}
        hwm = _hwm(b, topic)
        err, _ = _produce(c, topic, {0: kw.record_batch(recs, corrupt_crc=True)})[0]
        assert err == kw.CORRUPT_MESSAGE, f"bad CRC: error {err}, want CORRUPT_MESSAGE (2)"
        assert _hwm(b, topic) == hwm, "the corrupt batch moved the high watermark"
    got = helpers.ck_consume(b.bootstrap, topic, 1, 3, timeout=20)
    assert [(g.key, g.value) for g in got] == recs


@xfail_tansu("accepts Produce to a partition the topic does not have")
def test_produce_missing_partition(guard):
    b = guard
    topic = helpers.topic_name("bad-part")
    helpers.ck_create_topic(b.bootstrap, topic, 1)
    with kw.Conn(b.host, b.port) as c:
        got = _produce(c, topic, {0: kw.record_batch([(None, b"ok")]), 7: kw.record_batch([(None, b"no")])})
        assert got[0][0] == 0
        assert got[7][0] == kw.UNKNOWN_TOPIC_OR_PARTITION, f"partition 7 of 1: error {got[7][0]}"


@xfail_tansu("accepts Produce to a topic that does not exist")
def test_produce_missing_topic(guard):
    b = guard
    topic = helpers.topic_name("bad-notopic")
    with kw.Conn(b.host, b.port) as c:
        got = _produce(c, topic, {0: kw.record_batch([(None, b"no")])})
        assert got[0][0] == kw.UNKNOWN_TOPIC_OR_PARTITION, f"missing topic: error {got[0][0]}"


@xfail_tansu("accepts acks=2")
def test_produce_invalid_acks(guard):
    b = guard
    topic = helpers.topic_name("bad-acks")
    helpers.ck_create_topic(b.bootstrap, topic, 1)
    with kw.Conn(b.host, b.port) as c:
        got = _produce(c, topic, {0: kw.record_batch([(None, b"x")])}, acks=2)
        assert got[0][0] == kw.INVALID_REQUIRED_ACKS, f"acks=2: error {got[0][0]}, want 21"


@xfail_tansu("accepts any topic name in CreateTopics (no INVALID_TOPIC_EXCEPTION)")
def test_create_topics_invalid_name_raw(guard):
    """One request, a valid and two invalid names: per-topic results, 17 for the invalid ones."""
    b = guard
    good = helpers.topic_name("bad-ct")
    with kw.Conn(b.host, b.port) as c:
        r = kw.parse_create_topics_v2(c.call(kw.API_CREATE_TOPICS, 2, kw.create_topics_v2(
            [(good, 1, 1), ("in/valid", 1, 1), ("x" * 300, 1, 1)])))
    errs = {t["name"]: t["error_code"] for t in r["topics"]}
    assert errs == {good: 0, "in/valid": kw.INVALID_TOPIC_EXCEPTION, "x" * 300: kw.INVALID_TOPIC_EXCEPTION}, errs


def test_pipelined_requests_answered_in_order(guard):
    """Ten requests written at once on one connection come back in order (correlation ids)."""
    b = guard
    with kw.Conn(b.host, b.port) as c:
        c.send_raw(b"".join(kw.request_frame(kw.API_API_VERSIONS, 0, 100 + i, b"") if i % 2 == 0 else
                            kw.request_frame(kw.API_METADATA, 1, 100 + i, kw.metadata_v1([]))
                            for i in range(10)))
        assert [c.recv_frame()[0] for _ in range(10)] == list(range(100, 110))
