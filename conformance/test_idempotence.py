"""An idempotent producer delivers exactly once through retries.

The broker is paused (SIGSTOP) for longer than the producer's request timeout while records are
in flight, then continued: the client times out, reconnects and resends the same sequence
numbers while the broker still holds (and then appends) the originals. Every value must be in
the log exactly once, in the order produced, and the test checks that retries really happened."""
import threading
import time

import pytest

import helpers
from helpers import RESULTS, xfail_tansu

N = 3000
PAUSE_S = 3.0
PARTITIONS = 2


def _pause_when(b, ready, secs, done):
    """SIGSTOP the broker for `secs` once ready() is true (records are flowing)."""
    def run():
        end = time.monotonic() + 30
        while not ready() and time.monotonic() < end:
            time.sleep(0.01)
        b.pause()
        time.sleep(secs)
        b.resume()
        done.set()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _check_exactly_once(values_by_partition, n):
    seen = {}
    for p, vals in values_by_partition.items():
        idx = [int(v.split(b"-")[-1]) for v in vals]
        assert idx == sorted(idx), f"partition {p}: order not kept"
        for v in vals:
            seen[v] = seen.get(v, 0) + 1
    dups = {v: c for v, c in seen.items() if c > 1}
    assert not dups, f"{len(dups)} values duplicated, e.g. {list(dups.items())[:3]}"
    assert len(seen) == n, f"{n - len(seen)} values missing"


def _read_values(b, topic, n):
    got = helpers.ck_consume(b.bootstrap, topic, PARTITIONS, n, timeout=30)  # + a short look for extras
    by_p = {}
    for g in sorted(got, key=lambda g: (g.partition, g.offset)):
        by_p.setdefault(g.partition, []).append(g.value)
    return by_p, len(got)


@pytest.mark.timeout(180)
def test_idempotent_confluent(fresh_broker):
    import json
    from confluent_kafka import Producer
    b = fresh_broker
    topic = helpers.topic_name("idem-ck")
    helpers.ck_create_topic(b.bootstrap, topic, PARTITIONS)
    stats = {}
    errors = []

    def on_stats(s):
        j = json.loads(s)
        for k in ("txretries", "req_timeouts", "disconnects"):
            v = sum(br.get(k, 0) for br in j["brokers"].values())
            stats[k] = max(v, stats.get(k, 0))  # counters may restart with a broker handle

    p = Producer(helpers.ck_conf(b.bootstrap, **{
        "enable.idempotence": True, "acks": "all", "linger.ms": 5, "max.in.flight": 5,
        "request.timeout.ms": 1000, "socket.timeout.ms": 1000, "message.timeout.ms": 60000,
        "retry.backoff.ms": 100, "statistics.interval.ms": 200, "stats_cb": on_stats,
        "error_cb": lambda e: errors.append(e)}))
    delivered, failed = [], []
    done = threading.Event()
    _pause_when(b, lambda: len(delivered) >= N // 10, PAUSE_S, done)
    t0 = time.monotonic()
    for i in range(N):
        p.produce(topic, value=f"idem-{i}".encode(), partition=i % PARTITIONS,
                  on_delivery=lambda err, m: (failed if err else delivered).append(err or m.offset()))
        p.poll(0)
        if i >= N // 10:
            time.sleep((PAUSE_S + 1.5) / N)  # spread the rest over the pause
        elif i == N // 10 - 1:
            p.flush(30)
    done.wait(30)
    assert p.flush(60) == 0
    p.poll(0.5)
    fatal = [e for e in errors if e.fatal()]
    assert not fatal, f"fatal producer error: {fatal}"
    assert not failed, f"{len(failed)} deliveries failed: {failed[:3]}"
    assert len(delivered) == N
    RESULTS["idempotence confluent: retries, request timeouts"] = (stats.get("txretries"), stats.get("req_timeouts"))
    assert stats.get("txretries", 0) > 0 or stats.get("req_timeouts", 0) > 0, \
        f"the pause caused no retry (stats {stats}): the test proved nothing"
    by_p, total = _read_values(b, topic, N)
    _check_exactly_once(by_p, N)
    assert total == N
    assert time.monotonic() - t0 < 150


@pytest.mark.timeout(180)
def test_idempotent_kafka_python(fresh_broker):
    import logging
    from kafka import KafkaProducer
    b = fresh_broker

    class Count(logging.Handler):  # kafka-python exposes only retry *rates*: count its log lines
        n = 0

        def emit(self, rec):
            msg = rec.getMessage().lower()
            if "retry" in msg or "retrying" in msg or "timed out" in msg or "timeout" in msg:
                Count.n += 1

    handler = Count(level=logging.DEBUG)
    kafka_log = logging.getLogger("kafka")
    old_level = kafka_log.level
    kafka_log.setLevel(logging.INFO)
    kafka_log.addHandler(handler)
    topic = helpers.topic_name("idem-kp")
    helpers.ck_create_topic(b.bootstrap, topic, PARTITIONS)
    p = KafkaProducer(bootstrap_servers=b.bootstrap, enable_idempotence=True, acks="all", linger_ms=5,
                      request_timeout_ms=1000, retry_backoff_ms=100, delivery_timeout_ms=60000,
                      max_in_flight_requests_per_connection=5, client_id="martlet-conformance-kp")
    done = threading.Event()
    futs = []
    _pause_when(b, lambda: len(futs) >= N // 10 and all(f.is_done for f in futs[:N // 10]), PAUSE_S, done)
    try:
        for i in range(N):
            futs.append(p.send(topic, value=f"idem-{i}".encode(), partition=i % PARTITIONS))
            if i >= N // 10:
                time.sleep((PAUSE_S + 1.5) / N)
            elif i == N // 10 - 1:
                p.flush(30)
        done.wait(30)
        p.flush(60)
        for f in futs:
            f.get(timeout=30)
    finally:
        p.close(timeout=5)
        kafka_log.removeHandler(handler)
        kafka_log.setLevel(old_level)
    retries = Count.n
    RESULTS["idempotence kafka-python: timeout/retry log lines"] = retries
    assert retries and retries > 0, "the pause caused no retry: the test proved nothing"
    by_p, total = _read_values(b, topic, N)
    _check_exactly_once(by_p, N)
    assert total == N
