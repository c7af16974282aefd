#!/usr/bin/env python3
"""kafka-python scenario: CreateTopics, one Produce per codec, an idempotent
producer (InitProducerId), a classic consumer group and an offsets-for-times
query. Every wait is bounded. Usage: scenario_kafka_python.py BOOTSTRAP"""
import logging
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from scenario_common import BASE_TS, CODECS, records_for, topic_for

CLIENT = "kafka-python"
CLIENT_ID = "martlet-kafka-python"
TOPIC = topic_for(CLIENT)
GROUP = f"martlet-{CLIENT}-group"


def log(*a):
    print("[kafka-python]", *a, file=sys.stderr, flush=True)


def main(bootstrap):
    logging.basicConfig(level=logging.WARNING)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=CLIENT_ID,
                             request_timeout_ms=15000)
    try:
        admin.create_topics([NewTopic(TOPIC, num_partitions=3,
                                      replication_factor=1)], timeout_ms=10000)
        log("created", TOPIC)
    except Exception as e:
        log("create_topics:", e)
    admin.close()
    time.sleep(0.5)

    for codec in CODECS:
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id=CLIENT_ID,
                          compression_type=None if codec == "none" else codec,
                          enable_idempotence=False, acks="all",
                          linger_ms=1000)
        futs = [p.send(TOPIC, value=value, key=key, headers=headers,
                       partition=0, timestamp_ms=ts)
                for key, value, headers, ts in records_for(CLIENT, codec)]
        p.flush(timeout=20)
        ok = sum(1 for f in futs if f.succeeded())
        log("produced", codec, ok, "ok")
        p.close(timeout=10)
        time.sleep(0.3)

    p = KafkaProducer(bootstrap_servers=bootstrap, client_id=CLIENT_ID,
                      enable_idempotence=True, linger_ms=1000)
    f = p.send(TOPIC, value=b"idempotent-value", key=b"idempotent-key",
               headers=[("h-idem", b"1")], partition=1,
               timestamp_ms=BASE_TS + 100_000)
    p.flush(timeout=20)
    log("idempotent", f.succeeded(), f.exception)
    p.close(timeout=10)
    time.sleep(0.3)

    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id=CLIENT_ID,
                      group_id=GROUP, auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=10000,
                      heartbeat_interval_ms=1000, fetch_max_wait_ms=200)
    c.subscribe([TOPIC])
    want = len(CODECS) * 3 + 1
    got = 0
    deadline = time.time() + 40
    while got < want and time.time() < deadline:
        batch = c.poll(timeout_ms=500)
        got += sum(len(v) for v in batch.values())
    log("consumed", got, "of", want)
    # keep polling a little so Heartbeat (interval 1 s) and empty Fetch
    # polls are captured too
    end = time.time() + 3
    while time.time() < end:
        c.poll(timeout_ms=500)
    try:
        c.commit()
    except Exception as e:
        log("commit:", e)
    try:
        log("offsets_for_times", c.offsets_for_times(
            {TopicPartition(TOPIC, 0): BASE_TS + 20_000}))
    except Exception as e:
        log("offsets_for_times:", e)
    c.close()
    return 0 if got == want else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
