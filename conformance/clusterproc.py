"""A KRaft-style Martlet cluster as real processes: N `process.roles=controller` processes (node ids
1..N) and M `process.roles=broker` processes (node ids 100+... by default N+1..N+M), each a
`brokerproc.BrokerProcess` with its own port, data dir and log, all on 127.0.0.1.

    c = Cluster(workdir, controllers=3, brokers=3,
                controller_overrides={"broker.session.timeout.ms": 3000},
                broker_overrides={"broker.heartbeat.interval.ms": 500})
    c.start()          # controllers, an active controller, brokers, every broker listing every broker
    c.bootstrap()      # "127.0.0.1:P4,127.0.0.1:P5,127.0.0.1:P6"
    c.metadata(4)      # raw Metadata v7 from broker 4 (leader epochs, ISR, offline replicas)
    c.brokers[5].kill()   # kill -9 (BrokerProcess)
    c.stop()

Also raw wire helpers the cluster tests need at exact versions (Metadata v7, DescribeQuorum v0,
FindCoordinator v1, InitProducerId v1, Fetch v4, DescribeConfigs v1), and a reader of the
`__cluster_metadata` log on disk (Kafka's record batches of metadata records).
"""
from __future__ import annotations

import struct
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brokerproc
import kafka_wire as kw

CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qg"
METADATA_TOPIC = "__cluster_metadata"

# Kafka error codes used by the cluster tests (the rest are in kafka_wire)
LEADER_NOT_AVAILABLE = 5
NOT_LEADER_OR_FOLLOWER = 6
REQUEST_TIMED_OUT = 7
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38

API_FETCH, API_FIND_COORDINATOR, API_DESCRIBE_CONFIGS = 1, 10, 32
API_INIT_PRODUCER_ID, API_DESCRIBE_QUORUM = 22, 55

# DescribeConfigs config_source values
SOURCE_DYNAMIC_TOPIC, SOURCE_DEFAULT = 1, 5


# ----------------------------------------------------------------------------- raw requests
def call(port: int, api_key: int, version: int, body: bytes, flexible: bool = False,
         timeout: float = 10.0) -> bytes:
    """One request on a fresh connection to 127.0.0.1:port; the response body (for a flexible
    version, still starting with the response header's tagged fields)."""
    with kw.Conn("127.0.0.1", port, timeout=timeout) as c:
        return c.call(api_key, version, body, flexible=flexible)


def metadata_v7(port: int, topics: list[str] | None = None, auto_create: bool = False,
                timeout: float = 5.0) -> dict:
    """Metadata v7: {'brokers': {id: (host, port)}, 'cluster_id', 'controller_id',
    'topics': {name: {'error_code', 'internal', 'partitions': {p: {...}}}}}; each partition has
    error_code, leader, leader_epoch, replicas, isr, offline."""
    body = call(port, kw.API_METADATA, 7, kw.metadata_v4(topics, auto_create), timeout=timeout)
    r = kw.Reader(body)
    r.i32()  # throttle
    brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
    cluster_id = r.string()
    controller = r.i32()

    def part(r):
        return {"error_code": r.i16(), "partition": r.i32(), "leader": r.i32(), "leader_epoch": r.i32(),
                "replicas": r.array(lambda r: r.i32()), "isr": r.array(lambda r: r.i32()),
                "offline": r.array(lambda r: r.i32())}

    def topic(r):
        t = {"error_code": r.i16(), "name": r.string(), "internal": bool(r.i8())}
        t["partitions"] = {p["partition"]: p for p in r.array(part) or []}
        return t

    return {"brokers": {b[0]: (b[1], b[2]) for b in brokers or []}, "cluster_id": cluster_id,
            "controller_id": controller, "topics": {t["name"]: t for t in r.array(topic) or []}}


def describe_quorum_v0(port: int, timeout: float = 3.0) -> dict | None:
    """DescribeQuorum v0 of __cluster_metadata-0: {'error_code', 'leader', 'epoch', 'high_watermark',
    'voters': {id: leo}, 'observers': {id: leo}}; None when the connection fails."""
    part = kw.i32(0) + b"\x00"
    body = kw.carray([kw.cstring(METADATA_TOPIC) + kw.carray([part]) + b"\x00"]) + b"\x00"
    try:
        data = call(port, API_DESCRIBE_QUORUM, 0, body, flexible=True, timeout=timeout)
    except (OSError, kw.Closed):
        return None
    r = kw.Reader(data)
    r.uvarint()  # response header tags
    top = r.i16()
    if top != 0:
        return {"error_code": top}
    assert r.uvarint() == 2, "one topic"
    r.cstr()
    assert r.uvarint() == 2, "one partition"
    r.i32()
    out = {"error_code": r.i16(), "leader": r.i32(), "epoch": r.i32(), "high_watermark": r.i64()}

    def replicas():
        got = {}
        for _ in range(r.uvarint() - 1):
            rid, leo = r.i32(), r.i64()
            r.skip_tags()
            got[rid] = leo
        return got

    out["voters"] = replicas()
    out["observers"] = replicas()
    return out


def find_coordinator_v1(port: int, group: str) -> dict:
    """FindCoordinator v1 (group key): {'error_code', 'node_id', 'host', 'port'}."""
    body = call(port, API_FIND_COORDINATOR, 1, kw.string(group) + kw.i8(0))
    r = kw.Reader(body)
    r.i32()
    return {"error_code": r.i16(), "error_message": r.string(), "node_id": r.i32(), "host": r.string(),
            "port": r.i32()}


def init_producer_id_v1(port: int) -> dict:
    """InitProducerId v1 for an idempotent (non-transactional) producer."""
    body = call(port, API_INIT_PRODUCER_ID, 1, kw.string(None) + kw.i32(60000), timeout=15)
    r = kw.Reader(body)
    r.i32()
    return {"error_code": r.i16(), "producer_id": r.i64(), "producer_epoch": r.i16()}


def produce_v3(port: int, topic: str, partition: int, records: list[tuple[bytes | None, bytes | None]],
               acks: int = 1, batch: bytes | None = None) -> dict:
    """Produce v3 of one batch to one partition: {'error_code', 'base_offset'}."""
    batch = batch if batch is not None else kw.record_batch(records)
    body = call(port, kw.API_PRODUCE, 3, kw.produce_v3(topic, {partition: batch}, acks=acks), timeout=15)
    (t,) = kw.parse_produce_v3(body)["topics"]
    (p,) = t["partitions"]
    return p


def fetch_v4(port: int, topic: str, partition: int, offset: int = 0, max_wait_ms: int = 0) -> dict:
    """Fetch v4 (a consumer: replica id -1) of one partition: {'error_code', 'high_watermark',
    'records' (raw bytes)}."""
    part = kw.i32(partition) + kw.i64(offset) + kw.i32(1 << 20)
    body = (kw.i32(-1) + kw.i32(max_wait_ms) + kw.i32(0) + kw.i32(1 << 20) + kw.i8(0)
            + kw.array([kw.string(topic) + kw.array([part])]))
    data = call(port, API_FETCH, 4, body, timeout=15)
    r = kw.Reader(data)
    r.i32()
    ((_name, (p,)),) = r.array(lambda r: (r.string(), r.array(lambda r: {
        "partition": r.i32(), "error_code": r.i16(), "high_watermark": r.i64(), "last_stable_offset": r.i64(),
        "aborted": r.array(lambda r: (r.i64(), r.i64())), "records": _nullable_bytes(r)})))
    return p


def _nullable_bytes(r: kw.Reader) -> bytes | None:
    n = r.i32()
    return None if n < 0 else r.take(n)


def describe_topic_configs_v1(port: int, topic: str) -> dict:
    """DescribeConfigs v1 of one topic: {'error_code', 'configs': {name: (value, source)}}."""
    body = kw.array([kw.i8(2) + kw.string(topic) + kw.i32(-1)]) + kw.i8(0)
    r = kw.Reader(call(port, API_DESCRIBE_CONFIGS, 1, body))
    r.i32()

    def entry(r):
        name, value, _ro, source, _sens = r.string(), r.string(), r.i8(), r.i8(), r.i8()
        r.array(lambda r: (r.string(), r.string(), r.i8()))
        return name, (value, source)

    ((err, _msg, _typ, _name, configs),) = r.array(lambda r: (r.i16(), r.string(), r.i8(), r.string(),
                                                              r.array(entry)))
    return {"error_code": err, "configs": dict(configs or [])}


def create_partitions_v1(port: int, topic: str, count: int, assignments: list[list[int]] | None = None) -> tuple[int, str | None]:
    """CreatePartitions v1 of one topic (assignments null unless given): (error code, message)."""
    a = kw.i32(-1) if assignments is None else kw.array([kw.array([kw.i32(b) for b in asg]) for asg in assignments])
    body = kw.array([kw.string(topic) + kw.i32(count) + a]) + kw.i32(10000) + kw.i8(0)
    r = kw.Reader(call(port, 37, 1, body, timeout=15))
    r.i32()
    ((_name, code, message),) = r.array(lambda r: (r.string(), r.i16(), r.string()))
    return code, message


def delete_topics_v1(port: int, topic: str) -> int:
    """DeleteTopics v1 of one topic: its error code."""
    r = kw.Reader(call(port, 20, 1, kw.array([kw.string(topic)]) + kw.i32(10000), timeout=15))
    r.i32()
    ((_name, code),) = r.array(lambda r: (r.string(), r.i16()))
    return code


def incremental_alter_topic_config_v0(port: int, topic: str, name: str, value: str | None, op: int = 0) -> int:
    """IncrementalAlterConfigs v0 of one topic config (op 0 SET, 1 DELETE): the resource's error code."""
    body = (kw.array([kw.i8(2) + kw.string(topic) + kw.array([kw.string(name) + kw.i8(op) + kw.string(value)])])
            + kw.i8(0))
    r = kw.Reader(call(port, 44, 0, body, timeout=15))
    r.i32()
    ((code, _msg, _type, _name),) = r.array(lambda r: (r.i16(), r.string(), r.i8(), r.string()))
    return code


def create_topic_v2(port: int, topic: str, partitions: int, rf: int) -> int:
    """CreateTopics v2 of one topic: its error code."""
    (t,) = kw.parse_create_topics_v2(call(port, kw.API_CREATE_TOPICS, 2,
                                          kw.create_topics_v2([(topic, partitions, rf)]), timeout=15))["topics"]
    return t["error_code"]


def java_hash(s: str) -> int:
    """Java's String.hashCode (UTF-16 code units, int32 wrap-around)."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def offsets_partition(group: str, partitions: int) -> int:
    """The __consumer_offsets partition of a group: Utils.abs(groupId.hashCode) % partitions."""
    h = java_hash(group)
    return (0 if h == -(1 << 31) else abs(h)) % partitions


# ----------------------------------------------------------------------------- the metadata log on disk
def metadata_log_records(log_dir: Path | str) -> list[tuple[int, int, int, bytes]]:
    """Every metadata record of the `__cluster_metadata-0` log under `log_dir`, in order, as
    (offset, api_key, version, body). Control batches are skipped; only uncompressed batches are
    read (a compressed one raises)."""
    part = Path(log_dir) / f"{METADATA_TOPIC}-0"
    segments = sorted(part.glob("*.log"))
    if not segments:
        raise AssertionError(f"no {METADATA_TOPIC}-0/*.log under {log_dir}: "
                             f"{sorted(p.name for p in Path(log_dir).iterdir()) if Path(log_dir).is_dir() else 'missing'}")
    out = []
    for seg in segments:
        data = seg.read_bytes()
        pos = 0
        while pos + 12 <= len(data):
            base_offset, length = struct.unpack(">qi", data[pos:pos + 12])
            if length <= 0 or pos + 12 + length > len(data):
                break  # preallocated or torn tail
            batch = data[pos:pos + 12 + length]
            pos += 12 + length
            attributes = struct.unpack(">h", batch[21:23])[0]
            if attributes & 0x20:
                continue  # control batch
            if attributes & 0x07:
                raise AssertionError(f"{seg}: compressed metadata batch at {base_offset}")
            (count,) = struct.unpack(">i", batch[57:61])
            r = kw.Reader(batch, 61)
            for _ in range(count):
                end = r.varint() + r.pos
                r.take(1)  # attributes
                r.varint()  # timestamp delta
                delta = r.varint()
                klen = r.varint()
                if klen > 0:
                    r.take(klen)
                vlen = r.varint()
                value = r.take(vlen) if vlen >= 0 else b""
                r.pos = end
                v = kw.Reader(value, 0)
                v.uvarint()  # frame version
                api_key, version = v.uvarint(), v.uvarint()
                out.append((base_offset + delta, api_key, version, value[v.pos:]))
    return out


REGISTER_BROKER_RECORD, TOPIC_RECORD = 0, 2


def broker_registrations(log_dir: Path | str) -> list[tuple[int, int, int]]:
    """(offset, broker id, broker epoch) of every RegisterBrokerRecord in the metadata log."""
    out = []
    for offset, key, version, body in metadata_log_records(log_dir):
        if key == REGISTER_BROKER_RECORD:
            (broker,) = struct.unpack(">i", body[:4])
            pos = 4 + (1 if version >= 2 else 0) + 16
            (epoch,) = struct.unpack(">q", body[pos:pos + 8])
            out.append((offset, broker, epoch))
    return out


def topic_records(log_dir: Path | str) -> list[str]:
    """Names of the TopicRecords in the metadata log."""
    out = []
    for _offset, key, _version, body in metadata_log_records(log_dir):
        if key == TOPIC_RECORD:
            r = kw.Reader(body, 0)
            out.append(r.take(r.uvarint() - 1).decode())
    return out


# ----------------------------------------------------------------------------- the cluster
class Cluster:
    """Controllers (ids 1..controllers) and brokers (ids controllers+1..), each a BrokerProcess
    under workdir/controller-N and workdir/broker-N."""

    def __init__(self, workdir: Path | str, controllers: int = 3, brokers: int = 3,
                 controller_overrides: dict | None = None, broker_overrides: dict | None = None,
                 broker_ids: list[int] | None = None, cluster_id: str = CLUSTER_ID):
        self.workdir = Path(workdir)
        self.cluster_id = cluster_id
        cports = {i: brokerproc.free_port() for i in range(1, controllers + 1)}
        self.voters = ",".join(f"{i}@127.0.0.1:{p}" for i, p in cports.items())
        self.controllers: dict[int, brokerproc.BrokerProcess] = {}
        for i, port in cports.items():
            o = {"node.id": i, "process.roles": "controller", "controller.quorum.voters": self.voters,
                 "controller.listener.names": "CONTROLLER", "cluster.id": cluster_id,
                 "listeners": f"CONTROLLER://127.0.0.1:{port}",
                 "advertised.listeners": f"CONTROLLER://127.0.0.1:{port}"}
            o.update(controller_overrides or {})
            self.controllers[i] = brokerproc.BrokerProcess(
                "martlet", self.workdir / f"controller-{i}", overrides=o, port=port, name=f"controller-{i}")
        self.broker_overrides = dict(broker_overrides or {})
        ids = broker_ids or list(range(controllers + 1, controllers + 1 + brokers))
        self.brokers: dict[int, brokerproc.BrokerProcess] = {i: self._broker_process(i, f"broker-{i}")
                                                             for i in ids}
        self.extras: list[brokerproc.BrokerProcess] = []
        self.ready_seconds: float | None = None

    def _broker_process(self, node_id: int, name: str, overrides: dict | None = None) -> brokerproc.BrokerProcess:
        port = brokerproc.free_port()
        o = {"node.id": node_id, "process.roles": "broker", "controller.quorum.voters": self.voters,
             "controller.listener.names": "CONTROLLER", "cluster.id": self.cluster_id,
             "listeners": f"PLAINTEXT://127.0.0.1:{port}",
             "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}"}
        o.update(self.broker_overrides)
        o.update(overrides or {})
        b = brokerproc.BrokerProcess("martlet", self.workdir / name, overrides=o, port=port, name=name)
        b.node_id = node_id
        return b

    def extra_broker(self, node_id: int, name: str, overrides: dict | None = None) -> brokerproc.BrokerProcess:
        """A broker process with this cluster's settings (`overrides` win) that is not one of
        `brokers`: a duplicate id, a foreign cluster id. Not started; stopped with the cluster."""
        b = self._broker_process(node_id, name, overrides)
        self.extras.append(b)
        return b

    # -- description
    def processes(self) -> list[brokerproc.BrokerProcess]:
        return [*self.controllers.values(), *self.brokers.values(), *self.extras]

    def bootstrap(self, ids: list[int] | None = None) -> str:
        return ",".join(self.brokers[i].bootstrap for i in (ids or self.brokers))

    def expected_brokers(self, ids=None) -> dict[int, tuple[str, int]]:
        return {i: (self.brokers[i].host, self.brokers[i].port) for i in (ids or self.brokers)}

    def log_sections(self) -> list[tuple[str, str]]:
        return [(f"{p.name} log {p.log_path}", f"alive={p.alive()} pid={p.pid}\n{p.log_tail(25)}")
                for p in self.processes()]

    # -- lifecycle
    def start(self, timeout: float = 60.0) -> "Cluster":
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(self.processes())) as pool:
            list(pool.map(lambda p: p.start(timeout), self.controllers.values()))
            self.active_controller(timeout=timeout)
            list(pool.map(lambda p: p.start(timeout), self.brokers.values()))
        self.wait_listed(set(self.brokers), timeout=timeout)
        self.ready_seconds = time.monotonic() - t0
        return self

    def stop(self, grace: float = 10.0) -> dict[str, int | None]:
        """SIGTERM to the brokers (in parallel; a controlled shutdown needs the controllers), then to
        the controllers; SIGKILL after `grace`. Returns the exit codes by process name."""
        codes = {}
        with ThreadPoolExecutor(max_workers=len(self.processes())) as pool:
            for group in ([*self.brokers.values(), *self.extras], self.controllers.values()):
                procs = list(group)
                for p, rc in zip(procs, pool.map(lambda p: p.stop(grace), procs)):
                    codes[p.name] = rc
        return codes

    # -- observation
    def metadata(self, broker: int, topics: list[str] | None = None, auto_create: bool = False) -> dict:
        return metadata_v7(self.brokers[broker].port, topics, auto_create)

    def listed(self, broker: int) -> dict[int, tuple[str, int]] | None:
        """The brokers `broker` lists in Metadata, or None when it does not answer."""
        try:
            return self.metadata(broker, [])["brokers"]
        except (OSError, kw.Closed, ValueError, AssertionError):
            return None

    def wait_listed(self, ids: set[int], on: list[int] | None = None, timeout: float = 30.0) -> float:
        """Waits until each broker in `on` (default: every live broker) lists exactly `ids` with
        their host and port; returns the seconds waited."""
        t0 = time.monotonic()
        want = self.expected_brokers(sorted(ids))
        last = {}
        while True:
            on_ = on or [i for i, b in self.brokers.items() if b.alive()]
            last = {i: self.listed(i) for i in on_}
            if all(v == want for v in last.values()):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"brokers {on_} do not list exactly {want} after {timeout} s: {last}")
            time.sleep(0.05)

    def active_controller(self, timeout: float = 15.0, exclude: int | None = None) -> tuple[int, int]:
        """(id, epoch) of the controller that answers DescribeQuorum as the leader."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, c in self.controllers.items():
                if i != exclude and c.alive():
                    q = describe_quorum_v0(c.port, timeout=1.0)
                    if q and q.get("error_code") == 0 and q["leader"] == i:
                        return i, q["epoch"]
            time.sleep(0.05)
        raise AssertionError(f"no active controller within {timeout} s")

    def wait_topic(self, topic: str, partitions: int, on: list[int] | None = None,
                   timeout: float = 10.0) -> dict:
        """Waits until every broker in `on` (default: the live ones) has `topic` with `partitions`
        partitions, each with a leader; returns the last broker's topic metadata."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            ok = True
            for i in on or [i for i, b in self.brokers.items() if b.alive()]:
                try:
                    t = self.metadata(i, [topic])["topics"].get(topic)
                except (OSError, kw.Closed, ValueError):
                    t = None
                last = t
                if not (t and t["error_code"] == 0 and len(t["partitions"]) == partitions
                        and all(p["leader"] >= 0 for p in t["partitions"].values())):
                    ok = False
                    break
            if ok:
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic} with {partitions} led partitions not on every broker "
                                     f"after {timeout} s; last: {last}")
            time.sleep(0.03)
