"""ListOffsets: by timestamp (the first offset whose timestamp is >= the target, also inside a
batch), earliest / latest, and -1 / None past the end."""
import asyncio

import pytest

import helpers
from helpers import xfail_tansu

N = 100
STEP = 1000  # ms between record timestamps
BATCH = 10   # records per produced batch


@pytest.fixture(scope="module")
def timed_topic(broker):
    """One partition, N records with CreateTime base + i*STEP, written as N/BATCH batches so a
    target inside a batch must resolve to a record, not to the batch's base offset."""
    topic = helpers.topic_name("lo")
    helpers.ck_create_topic(broker.bootstrap, topic, 1)
    base = helpers.make_records(1, "lo")[0].ts - 3_600_000  # an hour ago
    recs = [helpers.Rec(0, f"k{i}".encode(), f"v{i}".encode(), [], base + i * STEP) for i in range(N)]
    for b in range(0, N, BATCH):
        helpers.ck_produce(broker.bootstrap, topic, recs[b:b + BATCH], "none", **{"linger.ms": 50})
    return topic, base


def _targets(base):
    # (timestamp asked, offset expected, timestamp of that record or None)
    return [
        (base - 5_000, 0, base),                           # before the first record
        (base, 0, base),                                   # exactly the first
        (base + 50 * STEP, 50, base + 50 * STEP),          # exactly a batch's first record
        (base + 53 * STEP, 53, base + 53 * STEP),          # exactly a record inside a batch
        (base + 53 * STEP + 1, 54, base + 54 * STEP),      # between records, inside a batch
        (base + 59 * STEP + 1, 60, base + 60 * STEP),      # between batches
        (base + (N - 1) * STEP, N - 1, base + (N - 1) * STEP),  # the last record
        (base + (N - 1) * STEP + 1, -1, None),             # past the end
        (base + 10 * N * STEP, -1, None),                  # far past the end
    ]


@xfail_tansu("ListOffsets by timestamp answers offset 0 and the broker's current time, whatever is asked")
def test_offsets_for_times_confluent(broker, timed_topic):
    from confluent_kafka import Consumer, TopicPartition
    topic, base = timed_topic
    c = Consumer(helpers.ck_conf(broker.bootstrap, **{"group.id": helpers.topic_name("lo-g")}))
    try:
        for ts, want, _ in _targets(base):
            [tp] = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=15)
            assert tp.error is None, tp.error
            assert tp.offset == want, f"timestamp {ts - base:+d} ms from base: offset {tp.offset}, want {want}"
    finally:
        c.close()


@xfail_tansu("ListOffsets by timestamp answers offset 0 and the broker's current time, whatever is asked")
def test_offsets_for_times_kafka_python(broker, timed_topic):
    from kafka import KafkaConsumer, TopicPartition
    topic, base = timed_topic
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None, client_id="martlet-conformance-kp")
    tp = TopicPartition(topic, 0)
    try:
        for ts, want, want_ts in _targets(base):
            got = c.offsets_for_times({tp: ts})[tp]
            if want == -1:
                assert got is None, f"past the end: want None, got {got}"
            else:
                assert got is not None and got.offset == want, f"{ts - base:+d} ms: {got}, want offset {want}"
                assert got.timestamp == want_ts, f"{ts - base:+d} ms: timestamp {got.timestamp}, want {want_ts}"
    finally:
        c.close()


@xfail_tansu("ListOffsets by timestamp answers offset 0 and the broker's current time, whatever is asked")
def test_offsets_for_times_aiokafka(broker, timed_topic):
    from aiokafka import AIOKafkaConsumer, TopicPartition
    topic, base = timed_topic

    async def go():
        c = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
        await c.start()
        try:
            tp = TopicPartition(topic, 0)
            return [(ts, want, (await c.offsets_for_times({tp: ts}))[tp]) for ts, want, _ in _targets(base)]
        finally:
            await c.stop()

    for ts, want, got in asyncio.run(asyncio.wait_for(go(), 60)):
        assert (got.offset if got else -1) == want, f"{ts - base:+d} ms: {got}, want {want}"


@xfail_tansu("ListOffsets latest answers the last batch's base offset + 1, not the log end offset")
def test_earliest_latest(broker, timed_topic):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING, OFFSET_END
    from kafka import KafkaConsumer, TopicPartition as KTP
    topic, _ = timed_topic
    c = Consumer(helpers.ck_conf(broker.bootstrap, **{"group.id": helpers.topic_name("lo-g")}))
    try:
        assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=15, cached=False) == (0, N)
        # ListOffsets with the special timestamps -2 (earliest) and -1 (latest)
        got = c.offsets_for_times([TopicPartition(topic, 0, OFFSET_BEGINNING)], timeout=15)
        assert got[0].offset == 0
        got = c.offsets_for_times([TopicPartition(topic, 0, OFFSET_END)], timeout=15)
        assert got[0].offset == N
    finally:
        c.close()
    k = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    try:
        tp = KTP(topic, 0)
        assert k.beginning_offsets([tp]) == {tp: 0}
        assert k.end_offsets([tp]) == {tp: N}
    finally:
        k.close()


@xfail_tansu("ListOffsets by timestamp answers offset 0 and the broker's current time, whatever is asked")
def test_empty_partition_offsets(broker):
    """A new, empty partition: earliest == latest == 0 and any timestamp is past the end."""
    from kafka import KafkaConsumer, TopicPartition
    topic = helpers.topic_name("lo-empty")
    helpers.ck_create_topic(broker.bootstrap, topic, 1)
    k = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
    try:
        tp = TopicPartition(topic, 0)
        assert k.beginning_offsets([tp]) == {tp: 0}
        assert k.end_offsets([tp]) == {tp: 0}
        assert k.offsets_for_times({tp: 0})[tp] is None
    finally:
        k.close()
