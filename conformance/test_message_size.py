"""message.max.bytes: a batch of exactly the limit passes, one byte more gets MESSAGE_TOO_LARGE
(10). Kafka compares the whole batch (its 61-byte header included) with the limit.

A broker started with message.max.bytes=100000 keeps it fast; the topic-level
max.message.bytes and the 1 MiB default are checked on the session broker."""
import pytest
from confluent_kafka import KafkaError, Producer

import helpers
import kafka_wire as kw
from helpers import xfail_tansu

LIMIT = 100_000


@pytest.fixture(scope="module")
def small_broker(broker_factory):
    b = broker_factory("small-message-max", {"message.max.bytes": str(LIMIT)})
    yield b
    b.stop()


def _produce_raw(b, topic, batch):
    with kw.Conn(b.host, b.port, timeout=30) as c:
        r = kw.parse_produce_v3(c.call(kw.API_PRODUCE, 3, kw.produce_v3(topic, {0: batch}, acks=-1)))
    [t] = r["topics"]
    [p] = t["partitions"]
    return p["error_code"], p["base_offset"]


def _boundary(b, topic, limit):
    ok = kw.batch_with_size(limit)
    over = kw.batch_with_size(limit + 1)
    assert (len(ok), len(over)) == (limit, limit + 1)
    err, off = _produce_raw(b, topic, ok)
    assert err == kw.NONE, f"a batch of exactly {limit} bytes was rejected with error {err}"
    assert off == 0
    err, _ = _produce_raw(b, topic, over)
    assert err == kw.MESSAGE_TOO_LARGE, f"a batch of {limit + 1} bytes: error {err}, want MESSAGE_TOO_LARGE (10)"
    err, off = _produce_raw(b, topic, kw.batch_with_size(1000))
    assert (err, off) == (kw.NONE, 1), "the rejected batch must not take an offset"


@xfail_tansu("has no message.max.bytes setting (and no record batch size limit)")
def test_broker_message_max_bytes_boundary(small_broker):
    topic = helpers.topic_name("size")
    helpers.ck_create_topic(small_broker.bootstrap, topic, 1)
    _boundary(small_broker, topic, LIMIT)


@xfail_tansu("has no message.max.bytes setting (and no record batch size limit)")
def test_broker_message_max_bytes_clients(small_broker):
    """Through stock producers: just under passes, over gets MSG_SIZE_TOO_LARGE; kafka-python too."""
    topic = helpers.topic_name("size-ck")
    helpers.ck_create_topic(small_broker.bootstrap, topic, 1)
    p = Producer(helpers.ck_conf(small_broker.bootstrap, **{"message.max.bytes": 10_000_000,
                                                            "compression.type": "none", "acks": "all"}))
    results = {}
    for name, size in (("under", LIMIT - 200), ("over", LIMIT + 100)):
        p.produce(topic, value=b"u" * size, key=name.encode(),
                  on_delivery=lambda err, msg, name=name: results.__setitem__(name, err))
        p.flush(30)
    assert results["under"] is None, f"{LIMIT - 200}-byte record: {results['under']}"
    assert results["over"] is not None and results["over"].code() == KafkaError.MSG_SIZE_TOO_LARGE, results["over"]

    from kafka import KafkaProducer
    from kafka.errors import MessageSizeTooLargeError
    kp = KafkaProducer(bootstrap_servers=small_broker.bootstrap, max_request_size=10_000_000, acks="all",
                       retries=0)
    try:
        kp.send(topic, value=b"k" * (LIMIT - 200)).get(timeout=30)
        with pytest.raises(MessageSizeTooLargeError):
            kp.send(topic, value=b"k" * (LIMIT + 100)).get(timeout=30)
    finally:
        kp.close(timeout=5)


@xfail_tansu("ignores the topic config max.message.bytes")
def test_topic_max_message_bytes_boundary(broker):
    topic = helpers.topic_name("size-topic")
    helpers.ck_create_topic(broker.bootstrap, topic, 1, config={"max.message.bytes": "50000"})
    _boundary(broker, topic, 50_000)


@xfail_tansu("has no record batch size limit")
def test_default_limit(broker):
    """Kafka's default message.max.bytes is 1,048,588 (1 MiB + 12 bytes of log overhead)."""
    topic = helpers.topic_name("size-default")
    helpers.ck_create_topic(broker.bootstrap, topic, 1)
    _boundary(broker, topic, 1_048_588)
