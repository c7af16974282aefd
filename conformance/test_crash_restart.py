"""kill -9 during a produce loop (acks=all), restart on the same log dir: every acknowledged
record is there, at the offset it was acknowledged with, with its content; the whole log reads
back without a CRC or decode error; appends continue after the recovered end. Two crash cycles.
The restart-to-ready time is recorded."""
import time

import pytest
from confluent_kafka import Producer

import helpers
from helpers import RESULTS, xfail_tansu

PARTITIONS = 2
CYCLES = 2
ACKED_BEFORE_KILL = 4000
MAX_OUTSTANDING = 2000


def _produce_until_killed(b, topic, cycle, acked: dict):
    """Produce unique values with acks=all (at most MAX_OUTSTANDING unacknowledged); kill -9 the
    broker once ACKED_BEFORE_KILL more records are acknowledged (or after 10 s), with requests
    in flight; then keep the producer polling against the dead broker for 0.5 s."""
    p = Producer(helpers.ck_conf(b.bootstrap, **{
        "acks": "all", "linger.ms": 2, "batch.num.messages": 500, "message.timeout.ms": 60000,
        "compression.type": "lz4" if cycle % 2 else "none", "reconnect.backoff.max.ms": 200}))
    start = len(acked)

    def cb(err, m):
        if err is None:
            acked[m.value()] = (m.partition(), m.offset(), m.key())

    i = 0
    t0 = time.monotonic()
    killed_at = None
    while killed_at is None:
        if len(p) >= MAX_OUTSTANDING:
            p.poll(0.001)
            continue
        key = f"c{cycle}-k{i}".encode()
        value = f"crash-{cycle}-{i}-".encode() + b"payload" * (1 + i % 7)
        try:
            p.produce(topic, value=value, key=key, partition=i % PARTITIONS, on_delivery=cb)
        except BufferError:
            p.poll(0.01)
            continue
        i += 1
        p.poll(0)
        if len(acked) - start >= ACKED_BEFORE_KILL or time.monotonic() - t0 > 10:
            b.kill()
            killed_at = time.monotonic()
    while time.monotonic() - killed_at < 0.5:
        p.poll(0.05)
    return p, i


@xfail_tansu("runs with memory:// storage here: nothing survives a restart")
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill9_restart_keeps_acked_records(fresh_broker):
    b = fresh_broker
    topic = helpers.topic_name("crash")
    helpers.ck_create_topic(b.bootstrap, topic, PARTITIONS)
    acked: dict[bytes, tuple] = {}
    restart_times = []
    for cycle in range(CYCLES):
        p, sent = _produce_until_killed(b, topic, cycle, acked)
        n_acked_at_kill = len(acked)
        restart_times.append(round(b.restart(timeout=120), 3))
        # the producer reconnects and delivers (or fails) what it still holds
        p.flush(60)
        assert n_acked_at_kill > 0, "nothing was acknowledged before the kill"

    RESULTS["kill -9 restart-to-ready s (per cycle)"] = restart_times
    RESULTS["kill -9 acknowledged records"] = len(acked)

    got = helpers.ck_consume_all(b.bootstrap, topic, PARTITIONS, timeout=60)
    at = {(g.partition, g.offset): g for g in got}
    assert len(at) == len(got), "the same offset was read twice"
    missing = [(v, po) for v, po in acked.items() if (po[0], po[1]) not in at]
    assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:3]}"
    wrong = [(v, po) for v, po in acked.items() if at[(po[0], po[1])].value != v or at[(po[0], po[1])].key != po[2]]
    assert not wrong, f"{len(wrong)} acknowledged offsets hold other data, e.g. {wrong[:3]}"
    for part in range(PARTITIONS):
        offs = sorted(o for (pp, o) in at if pp == part)
        assert offs == list(range(len(offs))), f"partition {part}: offsets have gaps after recovery"

    # the recovered log takes appends after its end
    from confluent_kafka import Consumer, TopicPartition
    ends = {}
    c = Consumer(helpers.ck_conf(b.bootstrap, **{"group.id": helpers.topic_name("crash-g")}))
    try:
        for part in range(PARTITIONS):
            ends[part] = c.get_watermark_offsets(TopicPartition(topic, part), timeout=15, cached=False)[1]
    finally:
        c.close()
    more = [helpers.Rec(part, f"after-{part}".encode(), b"after", [], int(time.time() * 1000))
            for part in range(PARTITIONS)]
    offsets = helpers.ck_produce(b.bootstrap, topic, more)
    assert sorted(offsets) == sorted((part, ends[part]) for part in range(PARTITIONS))


@xfail_tansu("runs with memory:// storage here: nothing survives a restart")
@pytest.mark.timeout(120)
def test_clean_restart_keeps_topics_and_configs(fresh_broker):
    """SIGTERM, start again: topics, partition counts, configs and records are all there."""
    b = fresh_broker
    topic = helpers.topic_name("restart")
    helpers.ck_create_topic(b.bootstrap, topic, 3, config={"retention.ms": "7200000"})
    recs = helpers.make_records(500, "restart", 3)
    helpers.ck_produce(b.bootstrap, topic, recs, "zstd")
    t0 = time.monotonic()
    assert b.stop(grace=30) == 0, "the broker should exit 0 on SIGTERM"
    RESULTS["SIGTERM shutdown s"] = round(time.monotonic() - t0, 3)
    RESULTS["clean restart-to-ready s"] = round(b.restart(), 3)
    helpers.verify_roundtrip(recs, helpers.ck_consume_all(b.bootstrap, topic, 3, timeout=60))
    from confluent_kafka.admin import ConfigResource
    res = ConfigResource("topic", topic)
    admin = helpers.ck_admin(b.bootstrap)  # keep the handle alive until the future resolves
    cfg = admin.describe_configs([res], request_timeout=20)[res].result(30)
    assert cfg["retention.ms"].value == "7200000"
