"""One consumer-group member as a separate process, for the group tests, plus `MemberProc`, the
test side that starts one and follows what it reports.

  python3 conformance/group_member.py --client confluent|kafka-python|aiokafka \\
      --bootstrap H:P --group G --topic T [--strategy range|roundrobin|cooperative-sticky] \\
      [--instance-id ID] [--session-timeout-ms 6000] [--heartbeat-interval-ms 1000] \\
      [--max-poll-interval-ms 20000] [--commit sync-per-batch|none] [--max-seconds 120] [--name N]

It subscribes to T in group G (auto.offset.reset=earliest, no auto commit) and prints one JSON line
per event on stdout, flushed, each with "t" (time.time()) and "name":

  {"event":"started"}
  {"event":"assigned","partitions":[..],"assignment":[..],"member_id":"..","incremental":bool}
  {"event":"revoked","partitions":[..],"assignment":[..],"incremental":bool}
  {"event":"lost","partitions":[..],"assignment":[..]}
  {"event":"records","records":[[partition, offset, key], ...]}       (one line per batch)
  {"event":"committed","offsets":{"partition": next_offset, ...}}     (after a successful commit)
  {"event":"commit_failed","error":"..","offsets":{..}}
  {"event":"error","error":".."}
  {"event":"closed","reason":"sigterm|max-seconds"}

"partitions" is what the callback got (the change, for incremental rebalancing; the whole set for
eager), "assignment" the member's whole assignment after it. With --commit sync-per-batch the
member commits the offsets after each batch synchronously before it polls again. SIGTERM: close
cleanly (LeaveGroup for a dynamic member) and exit 0. SIGKILL is for the tests' crash cases.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STOP = threading.Event()
_NAME = "member"
_OUT_LOCK = threading.Lock()


def emit(event: str, **fields) -> None:
    line = json.dumps({"event": event, "t": time.time(), "name": _NAME, **fields})
    with _OUT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _key(k) -> str | None:
    if k is None:
        return None
    return k.decode(errors="replace") if isinstance(k, (bytes, bytearray)) else str(k)


# ----------------------------------------------------------------------------- confluent-kafka
def run_confluent(a) -> str:
    from confluent_kafka import Consumer, KafkaException, TopicPartition
    conf = {
        "bootstrap.servers": a.bootstrap, "group.id": a.group, "client.id": f"gm-{a.name}",
        "enable.auto.commit": False, "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest", "enable.metrics.push": False,
        "session.timeout.ms": a.session_timeout_ms, "heartbeat.interval.ms": a.heartbeat_interval_ms,
        "max.poll.interval.ms": a.max_poll_interval_ms, "fetch.wait.max.ms": 100,
        "partition.assignment.strategy": a.strategy, "socket.timeout.ms": 10000,
    }
    if a.instance_id:
        conf["group.instance.id"] = a.instance_id
    c = Consumer(conf)
    current: set[int] = set()

    def incremental() -> bool:
        # librdkafka's rebalance protocol follows the assignor; the Python binding does not expose it
        return a.strategy == "cooperative-sticky"

    def on_assign(consumer, parts):
        inc = incremental()
        ps = sorted(p.partition for p in parts)
        if inc:
            current.update(ps)
        else:
            current.clear()
            current.update(ps)
        emit("assigned", partitions=ps, assignment=sorted(current), member_id=consumer.memberid(),
             incremental=inc)

    def on_revoke(consumer, parts):
        inc = incremental()
        ps = sorted(p.partition for p in parts)
        if inc:
            current.difference_update(ps)
        else:
            current.clear()
        emit("revoked", partitions=ps, assignment=sorted(current), incremental=inc)

    def on_lost(consumer, parts):
        ps = sorted(p.partition for p in parts)
        current.difference_update(ps)
        emit("lost", partitions=ps, assignment=sorted(current))

    c.subscribe([a.topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    reason = "max-seconds"
    deadline = time.monotonic() + a.max_seconds
    try:
        while time.monotonic() < deadline:
            if STOP.is_set():
                reason = "sigterm"
                break
            msgs = c.consume(num_messages=500, timeout=0.2)
            recs, nxt = [], {}
            for m in msgs:
                if m.error():
                    emit("error", error=str(m.error()))
                    continue
                recs.append([m.partition(), m.offset(), _key(m.key())])
                nxt[m.partition()] = max(nxt.get(m.partition(), 0), m.offset() + 1)
            if not recs:
                continue
            emit("records", records=recs)
            if a.commit == "sync-per-batch":
                tps = [TopicPartition(a.topic, p, o) for p, o in sorted(nxt.items())]
                try:
                    res = c.commit(offsets=tps, asynchronous=False)
                    bad = [str(tp.error) for tp in res or [] if tp.error]
                    if bad:
                        emit("commit_failed", error="; ".join(bad), offsets=nxt)
                    else:
                        emit("committed", offsets=nxt)
                except KafkaException as e:
                    emit("commit_failed", error=str(e), offsets=nxt)
    finally:
        c.close()
    return reason


# ----------------------------------------------------------------------------- kafka-python
def run_kafka_python(a) -> str:
    from kafka import KafkaConsumer, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.structs import OffsetAndMetadata
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
    strategies = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor,
                  "cooperative-sticky": CooperativeStickyAssignor}
    extra = {}
    if a.instance_id:
        extra["group_instance_id"] = a.instance_id
    c = KafkaConsumer(
        bootstrap_servers=a.bootstrap, group_id=a.group, client_id=f"gm-{a.name}",
        enable_auto_commit=False, auto_offset_reset="earliest",
        session_timeout_ms=a.session_timeout_ms, heartbeat_interval_ms=a.heartbeat_interval_ms,
        max_poll_interval_ms=a.max_poll_interval_ms, fetch_max_wait_ms=100,
        partition_assignment_strategy=[strategies[a.strategy]], **extra)
    current: set[int] = set()
    inc = a.strategy == "cooperative-sticky"

    def member_id():
        try:
            return c._coordinator._generation.member_id
        except Exception:
            return None

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            ps = sorted(tp.partition for tp in revoked)
            current.difference_update(ps)
            emit("revoked", partitions=ps, assignment=sorted(current), incremental=inc)

        def on_partitions_assigned(self, assigned):
            ps = sorted(tp.partition for tp in assigned)
            if not inc:
                current.clear()
            current.update(ps)
            emit("assigned", partitions=ps, assignment=sorted(current), member_id=member_id(),
                 incremental=inc)

        def on_partitions_lost(self, lost):
            ps = sorted(tp.partition for tp in lost)
            current.difference_update(ps)
            emit("lost", partitions=ps, assignment=sorted(current))

    c.subscribe(topics=[a.topic], listener=Listener())
    reason = "max-seconds"
    deadline = time.monotonic() + a.max_seconds
    try:
        while time.monotonic() < deadline:
            if STOP.is_set():
                reason = "sigterm"
                break
            batch = c.poll(timeout_ms=200, max_records=500)
            recs, nxt = [], {}
            for tp, msgs in batch.items():
                for m in msgs:
                    recs.append([m.partition, m.offset, _key(m.key)])
                    nxt[m.partition] = max(nxt.get(m.partition, 0), m.offset + 1)
            if not recs:
                continue
            emit("records", records=recs)
            if a.commit == "sync-per-batch":
                offs = {TopicPartition(a.topic, p): OffsetAndMetadata(o, "", -1) for p, o in nxt.items()}
                try:
                    c.commit(offs)
                    emit("committed", offsets=nxt)
                except Exception as e:  # CommitFailedError, RebalanceInProgressError, ...
                    emit("commit_failed", error=f"{type(e).__name__}: {e}", offsets=nxt)
    finally:
        c.close()
    return reason


# ----------------------------------------------------------------------------- aiokafka
def run_aiokafka(a) -> str:
    import asyncio
    from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
    from aiokafka.structs import OffsetAndMetadata
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor
    from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    strategies = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    if a.strategy not in strategies:
        raise SystemExit(f"aiokafka: no {a.strategy} assignor")

    async def main() -> str:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        extra = {}
        if a.instance_id:
            extra["group_instance_id"] = a.instance_id
        c = AIOKafkaConsumer(
            bootstrap_servers=a.bootstrap, group_id=a.group, client_id=f"gm-{a.name}",
            enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=a.session_timeout_ms, heartbeat_interval_ms=a.heartbeat_interval_ms,
            max_poll_interval_ms=a.max_poll_interval_ms, rebalance_timeout_ms=a.max_poll_interval_ms,
            fetch_max_wait_ms=100, partition_assignment_strategy=(strategies[a.strategy],), **extra)
        current: set[int] = set()

        class Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                ps = sorted(tp.partition for tp in revoked)
                current.clear()
                emit("revoked", partitions=ps, assignment=[], incremental=False)

            async def on_partitions_assigned(self, assigned):
                ps = sorted(tp.partition for tp in assigned)
                current.clear()
                current.update(ps)
                mid = getattr(c._coordinator, "member_id", None)
                emit("assigned", partitions=ps, assignment=sorted(current), member_id=mid,
                     incremental=False)

        await c.start()
        c.subscribe([a.topic], listener=Listener())
        reason = "max-seconds"
        deadline = time.monotonic() + a.max_seconds
        try:
            while time.monotonic() < deadline:
                if stop.is_set():
                    reason = "sigterm"
                    break
                batch = await c.getmany(timeout_ms=200, max_records=500)
                recs, nxt = [], {}
                for tp, msgs in batch.items():
                    for m in msgs:
                        recs.append([m.partition, m.offset, _key(m.key)])
                        nxt[m.partition] = max(nxt.get(m.partition, 0), m.offset + 1)
                if not recs:
                    continue
                emit("records", records=recs)
                if a.commit == "sync-per-batch":
                    offs = {TopicPartition(a.topic, p): OffsetAndMetadata(o, "") for p, o in nxt.items()}
                    try:
                        await c.commit(offs)
                        emit("committed", offsets=nxt)
                    except Exception as e:  # CommitFailedError, IllegalStateError, ...
                        emit("commit_failed", error=f"{type(e).__name__}: {e}", offsets=nxt)
        finally:
            await c.stop()
        return reason

    return asyncio.run(main())


RUNNERS = {"confluent": run_confluent, "confluent-kafka": run_confluent,
           "kafka-python": run_kafka_python, "aiokafka": run_aiokafka}


def main(argv=None) -> int:
    global _NAME
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--client", required=True, choices=sorted(RUNNERS))
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--strategy", default="range", choices=["range", "roundrobin", "cooperative-sticky"])
    ap.add_argument("--instance-id", default=None)
    ap.add_argument("--session-timeout-ms", type=int, default=6000)
    ap.add_argument("--heartbeat-interval-ms", type=int, default=1000)
    ap.add_argument("--max-poll-interval-ms", type=int, default=20000)
    ap.add_argument("--commit", default="sync-per-batch", choices=["sync-per-batch", "none"])
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--name", default=None)
    a = ap.parse_args(argv)
    # the rebalance timeout (max.poll.interval.ms) may not be below the session timeout
    a.max_poll_interval_ms = max(a.max_poll_interval_ms, a.session_timeout_ms)
    _NAME = a.name or f"{a.client}-{os.getpid()}"
    a.name = _NAME
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())
    emit("started", client=a.client, pid=os.getpid())
    try:
        reason = RUNNERS[a.client](a)
    except Exception as e:
        emit("error", error=f"{type(e).__name__}: {e}")
        emit("closed", reason="exception")
        return 1
    emit("closed", reason=reason)
    return 0


# ----------------------------------------------------------------------------- test side
class MemberProc:
    """A running group_member.py. A reader thread collects its events; `wait_for` blocks on them.
    stderr (client logs) goes to `log_path`."""

    def __init__(self, client: str, bootstrap: str, group: str, topic: str, name: str,
                 log_dir: Path | str, strategy: str = "range", instance_id: str | None = None,
                 session_timeout_ms: int = 6000, heartbeat_interval_ms: int = 1000,
                 max_poll_interval_ms: int = 20000, commit: str = "sync-per-batch",
                 max_seconds: float = 120):
        self.name = name
        self.client = client
        self.log_path = Path(log_dir) / f"member-{name}.log"
        self.events: list[dict] = []
        self.cond = threading.Condition()
        cmd = [sys.executable, str(HERE / "group_member.py"), "--client", client, "--bootstrap", bootstrap,
               "--group", group, "--topic", topic, "--strategy", strategy, "--name", name,
               "--session-timeout-ms", str(session_timeout_ms),
               "--heartbeat-interval-ms", str(heartbeat_interval_ms),
               "--max-poll-interval-ms", str(max_poll_interval_ms), "--commit", commit,
               "--max-seconds", str(max_seconds)]
        if instance_id:
            cmd += ["--instance-id", instance_id]
        self.cmd = cmd
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                ev = json.loads(raw)
            except ValueError:
                ev = {"event": "garbage", "line": raw.decode(errors="replace"), "t": time.time()}
            with self.cond:
                self.events.append(ev)
                self.cond.notify_all()
        with self.cond:
            self.events.append({"event": "eof", "t": time.time(), "name": self.name})
            self.cond.notify_all()

    # -- observation
    def snapshot(self) -> list[dict]:
        with self.cond:
            return list(self.events)

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.snapshot() if e["event"] == kind]

    def assignment(self) -> set[int] | None:
        """The member's whole assignment after its last rebalance event (None before any)."""
        for e in reversed(self.snapshot()):
            if e["event"] in ("assigned", "revoked", "lost"):
                return set(e["assignment"])
        return None

    def wait_for(self, pred, timeout: float, what: str):
        """Block until pred(events) is truthy; returns its value."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred(self.events)
                if v:
                    return v
                left = end - time.monotonic()
                gone = bool(self.events) and self.events[-1]["event"] == "eof"
                if left <= 0 or gone:
                    tail = "\n".join(json.dumps(e)[:300] for e in self.events[-8:])
                    raise AssertionError(f"member {self.name}: {'exited' if gone else f'timed out after {timeout}s'} waiting for "
                                         f"{what}; last events:\n{tail}\n(client log {self.log_path})")
                self.cond.wait(min(left, 0.5))

    def reads(self) -> list[tuple[float, int, int, str | None]]:
        """(t, partition, offset, key) of every record the member reported."""
        return [(e["t"], p, o, k) for e in self.snapshot() if e["event"] == "records"
                for p, o, k in e["records"]]

    def commits(self) -> list[tuple[float, int, int]]:
        """(t, partition, next_offset) of every successful commit the member reported."""
        return [(e["t"], int(p), o) for e in self.snapshot() if e["event"] == "committed"
                for p, o in e["offsets"].items()]

    def errors(self) -> list[dict]:
        return [e for e in self.snapshot() if e["event"] in ("error", "garbage")]

    # -- control
    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait for the process to close (LeaveGroup) and exit."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"member {self.name} did not exit {timeout}s after SIGTERM")

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass

    def cleanup(self) -> None:
        self.kill()
        self.reader.join(5)
        try:
            self._log.close()
        except OSError:
            pass


def assignment_is(n: int | None = None, parts: set[int] | None = None):
    """A wait_for predicate: the member's current assignment has n partitions (or is `parts`)."""
    def pred(events):
        for e in reversed(events):
            if e["event"] in ("assigned", "revoked", "lost"):
                got = set(e["assignment"])
                if parts is not None:
                    return got == parts and e
                return len(got) == n and e
        return False
    return pred


if __name__ == "__main__":
    sys.exit(main())
