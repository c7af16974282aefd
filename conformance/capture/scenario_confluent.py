#!/usr/bin/env python3
"""confluent-kafka (librdkafka) scenario: CreateTopics, one Produce per codec,
an idempotent producer (InitProducerId), a classic consumer group
(FindCoordinator/JoinGroup/SyncGroup/OffsetFetch/ListOffsets/Fetch/Heartbeat/
OffsetCommit/LeaveGroup) and an offsets-for-times query (ListOffsets).

Every wait is bounded. Usage: scenario_confluent.py BOOTSTRAP"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from scenario_common import BASE_TS, CODECS, records_for, topic_for

CLIENT = "confluent-kafka"
CLIENT_ID = "martlet-confluent-kafka"
TOPIC = topic_for(CLIENT)
GROUP = f"martlet-{CLIENT}-group"


def log(*a):
    print("[confluent]", *a, file=sys.stderr, flush=True)


def main(bootstrap):
    base = {"bootstrap.servers": bootstrap, "client.id": CLIENT_ID,
            # no KIP-714 telemetry push; keep the capture about the basics
            "enable.metrics.push": False}

    admin = AdminClient(dict(base))
    fs = admin.create_topics([NewTopic(TOPIC, num_partitions=3,
                                       replication_factor=1)],
                             operation_timeout=10, request_timeout=15)
    for t, f in fs.items():
        try:
            f.result(timeout=20)
            log("created", t)
        except Exception as e:  # already exists on a re-run is fine
            log("create_topics:", t, e)
    del admin
    time.sleep(0.5)

    for codec in CODECS:
        p = Producer(dict(base, **{"compression.type": codec,
                                   "linger.ms": 1000,
                                   "enable.idempotence": False,
                                   "acks": "all"}))
        for key, value, headers, ts in records_for(CLIENT, codec):
            p.produce(TOPIC, value=value, key=key, partition=0,
                      timestamp=ts, headers=headers)
        left = p.flush(20)
        log("produced", codec, "left", left)
        del p
        time.sleep(0.3)

    # idempotent producer -> InitProducerId, batch with producer id/sequence
    p = Producer(dict(base, **{"enable.idempotence": True, "linger.ms": 1000,
                               "compression.type": "none"}))
    p.produce(TOPIC, value=b"idempotent-value", key=b"idempotent-key",
              partition=1, timestamp=BASE_TS + 100_000,
              headers=[("h-idem", b"1")])
    log("idempotent left", p.flush(20))
    del p
    time.sleep(0.3)

    c = Consumer(dict(base, **{"group.id": GROUP,
                               "auto.offset.reset": "earliest",
                               "enable.auto.commit": False,
                               "session.timeout.ms": 10000,
                               "heartbeat.interval.ms": 1000,
                               "fetch.wait.max.ms": 200}))
    c.subscribe([TOPIC])
    want = len(CODECS) * 3 + 1
    got = 0
    deadline = time.time() + 40
    while got < want and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            log("consumer error", m.error())
            continue
        got += 1
    log("consumed", got, "of", want)
    # keep polling a little so Heartbeat (interval 1 s) and empty Fetch
    # polls are captured too
    end = time.time() + 3
    while time.time() < end:
        c.poll(0.5)
    try:
        c.commit(asynchronous=False)
    except Exception as e:
        log("commit:", e)
    try:
        offs = c.offsets_for_times(
            [TopicPartition(TOPIC, 0, BASE_TS + 20_000)], timeout=10)
        log("offsets_for_times", offs)
    except Exception as e:
        log("offsets_for_times:", e)
    c.close()
    return 0 if got == want else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
