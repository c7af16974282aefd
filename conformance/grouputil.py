"""Shared pieces of the consumer-group tests: a live keyed producer, the member processes' log
directory, and the checks on what group members reported (group_member.py events)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import helpers
import kafka_wire as kw
import group_wire as gw


def member_log_dir(name: str) -> Path:
    """Where the group_member.py processes of one test write their client logs: next to the broker
    logs of the session (conftest.session_dir())."""
    import conftest
    d = conftest.session_dir() / "members" / name[:80].replace("/", "_")
    d.mkdir(parents=True, exist_ok=True)
    return d


class LiveProducer:
    """A confluent-kafka producer thread writing keyed records (`live-<i>`) round-robin over the
    partitions at about `rate` records/s, acks=all; `acked` holds (partition, offset, key)."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, rate: float = 200, tag: str = "live"):
        from confluent_kafka import Producer
        self.topic, self.partitions, self.rate, self.tag = topic, partitions, rate, tag
        self.p = Producer(helpers.ck_conf(bootstrap, **{"acks": "all", "linger.ms": 5,
                                                        "message.timeout.ms": 30000}))
        self.acked: list[tuple[int, int, str]] = []
        self.errors: list = []
        self.sent = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _cb(self, err, msg):
        if err is not None:
            self.errors.append(err)
        else:
            with self._lock:
                self.acked.append((msg.partition(), msg.offset(), msg.key().decode()))

    def _run(self):
        t0 = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - t0) * self.rate)
            while self.sent < due:
                i = self.sent
                self.p.produce(self.topic, key=f"{self.tag}-{i}".encode(), value=f"v{i}".encode(),
                               partition=i % self.partitions, on_delivery=self._cb)
                self.sent += 1
            self.p.poll(0.01)
        self.p.flush(30)

    def acked_since(self, t_index: int) -> int:
        with self._lock:
            return len(self.acked) - t_index

    def stop(self) -> list[tuple[int, int, str]]:
        self._stop.set()
        self.t.join(40)
        self.p = None   # destroy the client now (it flushed), not when the broker is gone
        assert not self.errors, f"live producer errors: {self.errors[:3]}"
        with self._lock:
            return list(self.acked)


def all_read(members, wanted: set[tuple[int, int]]):
    """A wait_until predicate: every (partition, offset) in `wanted` was read by some member."""
    def pred():
        got = {(p, o) for m in members for _, p, o, _ in m.reads()}
        return not (wanted - got)
    return pred


def check_consumption(members, expected: set[tuple[int, int]]) -> dict:
    """What the members reported, against Kafka's group semantics:

    * no loss: every expected (partition, offset) was read by some member;
    * no read of a record after the group had committed past it: a read of (p, o) at time t with a
      commit of p at an offset > o reported (by any member) before t is a violation. Re-reads are
      only allowed for records the group had not committed yet (a killed member's uncommitted
      tail, a batch whose commit failed in a rebalance);
    * a member only reads partitions it owns (its last assignment before the batch).

    Returns counts for the report."""
    reads = sorted((t, p, o, m.name) for m in members for t, p, o, _ in m.reads())
    commits = sorted((t, p, o, m.name) for m in members for t, p, o in m.commits())
    committed: dict[int, tuple[int, str, float]] = {}
    violations = []
    ci = 0
    for t, p, o, who in reads:
        while ci < len(commits) and commits[ci][0] < t:
            ct, cp, co, cwho = commits[ci]
            if co > committed.get(cp, (-1,))[0]:
                committed[cp] = (co, cwho, ct)
            ci += 1
        c = committed.get(p)
        if c and o < c[0]:
            violations.append(f"{who} read {p}/{o} at {t:.3f} after {c[1]} committed {p}@{c[0]} at {c[2]:.3f}")
    assert not violations, (f"{len(violations)} records read again after the group committed past them: "
                            f"{violations[:5]}")
    seen: dict[tuple[int, int], int] = {}
    for _, p, o, _ in reads:
        seen[(p, o)] = seen.get((p, o), 0) + 1
    missing = sorted(expected - set(seen))
    assert not missing, f"{len(missing)} records never consumed, e.g. {missing[:10]}"
    outside = []
    for m in members:
        owned: set[int] | None = None
        for e in m.snapshot():
            if e["event"] in ("assigned", "revoked", "lost"):
                owned = set(e["assignment"])
            elif e["event"] == "records":
                ps = {r[0] for r in e["records"]}
                if owned is None or not ps <= owned:
                    outside.append(f"{m.name} read partitions {sorted(ps)} owning {sorted(owned or [])}")
    assert not outside, f"records read from partitions the member did not own: {outside[:5]}"
    dups = sum(c - 1 for c in seen.values() if c > 1)
    return {"records": len(seen), "duplicates": dups, "commits": len(commits)}


def describe_raw(b, group: str) -> dict:
    """DescribeGroups v4 over a raw connection (state, protocol, members with instance ids)."""
    with kw.Conn(b.host, b.port) as c:
        gw.find_coordinator(c, group)
        return gw.describe(c, group)


def fetch_offsets_raw(b, group: str, topics: dict[str, list[int]] | None) -> dict:
    with kw.Conn(b.host, b.port) as c:
        gw.find_coordinator(c, group)
        return gw.fetch_offsets(c, group, topics)

