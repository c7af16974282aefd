"""Raw group-coordinator requests for the bad-input tests, on top of kafka_wire's primitives and
connection, all at non-flexible versions (request header v1, response header v0):

  FindCoordinator v2, JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v3, OffsetCommit v7,
  OffsetFetch v5, DescribeGroups v4, OffsetDelete v0, and the consumer protocol's
  subscription/assignment (version 0).

Field order follows spec/kafka/client-4.3/*.json. `RawMember` is a minimal group member that
does the JoinGroup (with the MEMBER_ID_REQUIRED round trip) / SyncGroup / Heartbeat dance by hand.
"""
from __future__ import annotations

import time

import kafka_wire as kw
from kafka_wire import Reader, array, i8, i16, i32, i64, kbytes, string

API_OFFSET_COMMIT, API_OFFSET_FETCH, API_FIND_COORDINATOR = 8, 9, 10
API_JOIN_GROUP, API_HEARTBEAT, API_LEAVE_GROUP, API_SYNC_GROUP = 11, 12, 13, 14
API_DESCRIBE_GROUPS, API_LIST_GROUPS, API_DELETE_GROUPS, API_OFFSET_DELETE = 15, 16, 42, 47

# Kafka error codes (org.apache.kafka.common.protocol.Errors)
NONE = 0
OFFSET_METADATA_TOO_LARGE = 12
COORDINATOR_LOAD_IN_PROGRESS = 14
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
INVALID_GROUP_ID = 24
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82
GROUP_SUBSCRIBED_TO_TOPIC = 86
INVALID_RECORD = 87

ERROR_NAMES = {v: k for k, v in globals().items() if k.isupper() and isinstance(v, int)
               and not k.startswith("API_")}


def nullable_string(r: Reader):
    return r.string()


def rbytes(r: Reader):
    n = r.i32()
    return None if n < 0 else r.take(n)


# ----------------------------------------------------------------------------- consumer protocol
def subscription_v0(topics: list[str], user_data: bytes | None = None) -> bytes:
    """ConsumerProtocolSubscription v0: the JoinGroup protocol metadata of a "consumer" member."""
    return i16(0) + array([string(t) for t in topics]) + kbytes(user_data)


def assignment_v0(parts: dict[str, list[int]], user_data: bytes | None = None) -> bytes:
    """ConsumerProtocolAssignment v0: what the leader hands each member in SyncGroup."""
    return (i16(0) + array([string(t) + array([i32(p) for p in ps]) for t, ps in parts.items()])
            + kbytes(user_data))


def parse_assignment(data: bytes | None) -> dict[str, list[int]]:
    if not data:
        return {}
    r = Reader(data)
    r.i16()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: r.i32())))
    return {t: ps for t, ps in topics or []}


# ----------------------------------------------------------------------------- requests
def find_coordinator_v2(key: str, key_type: int = 0) -> bytes:
    return string(key) + i8(key_type)


def parse_find_coordinator_v2(body: bytes) -> dict:
    r = Reader(body)
    return {"throttle_time_ms": r.i32(), "error_code": r.i16(), "error_message": r.string(),
            "node_id": r.i32(), "host": r.string(), "port": r.i32()}


def join_group_v5(group: str, member_id: str = "", protocols=(("range", None),),
                  protocol_type: str = "consumer", session_timeout_ms: int = 30000,
                  rebalance_timeout_ms: int = 10000, instance_id: str | None = None,
                  topics: list[str] = ("t",)) -> bytes:
    """`protocols`: (name, metadata); metadata None -> a consumer subscription to `topics`."""
    protos = [string(name) + kbytes(md if md is not None else subscription_v0(list(topics)))
              for name, md in protocols]
    return (string(group) + i32(session_timeout_ms) + i32(rebalance_timeout_ms) + string(member_id)
            + string(instance_id) + string(protocol_type) + array(protos))


def parse_join_group_v5(body: bytes) -> dict:
    r = Reader(body)
    out = {"throttle_time_ms": r.i32(), "error_code": r.i16(), "generation_id": r.i32(),
           "protocol_name": r.string(), "leader": r.string(), "member_id": r.string()}
    out["members"] = r.array(lambda r: {"member_id": r.string(), "group_instance_id": r.string(),
                                        "metadata": rbytes(r)})
    return out


def sync_group_v3(group: str, generation: int, member_id: str, assignments: dict[str, bytes] | None = None,
                  instance_id: str | None = None) -> bytes:
    items = [string(m) + kbytes(a) for m, a in (assignments or {}).items()]
    return string(group) + i32(generation) + string(member_id) + string(instance_id) + array(items)


def parse_sync_group_v3(body: bytes) -> dict:
    r = Reader(body)
    return {"throttle_time_ms": r.i32(), "error_code": r.i16(), "assignment": rbytes(r)}


def heartbeat_v3(group: str, generation: int, member_id: str, instance_id: str | None = None) -> bytes:
    return string(group) + i32(generation) + string(member_id) + string(instance_id)


def parse_heartbeat_v3(body: bytes) -> dict:
    r = Reader(body)
    return {"throttle_time_ms": r.i32(), "error_code": r.i16()}


def leave_group_v3(group: str, members: list[tuple[str, str | None]]) -> bytes:
    return string(group) + array([string(m) + string(i) for m, i in members])


def parse_leave_group_v3(body: bytes) -> dict:
    r = Reader(body)
    return {"throttle_time_ms": r.i32(), "error_code": r.i16(),
            "members": r.array(lambda r: {"member_id": r.string(), "group_instance_id": r.string(),
                                          "error_code": r.i16()})}


def offset_commit_v7(group: str, topics: dict[str, list[tuple[int, int, str | None]]],
                     generation: int = -1, member_id: str = "", instance_id: str | None = None) -> bytes:
    """topics: name -> [(partition, offset, metadata)]; leader epoch -1."""
    ts = [string(t) + array([i32(p) + i64(o) + i32(-1) + string(md) for p, o, md in ps])
          for t, ps in topics.items()]
    return string(group) + i32(generation) + string(member_id) + string(instance_id) + array(ts)


def parse_offset_commit_v7(body: bytes) -> dict:
    r = Reader(body)
    throttle = r.i32()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))
    return {"throttle_time_ms": throttle,
            "errors": {(t, p): e for t, ps in topics or [] for p, e in ps or []}}


def offset_fetch_v5(group: str, topics: dict[str, list[int]] | None) -> bytes:
    if topics is None:
        return string(group) + i32(-1)
    return string(group) + array([string(t) + array([i32(p) for p in ps]) for t, ps in topics.items()])


def parse_offset_fetch_v5(body: bytes) -> dict:
    r = Reader(body)
    throttle = r.i32()

    def part(r):
        return (r.i32(), {"offset": r.i64(), "leader_epoch": r.i32(), "metadata": r.string(),
                          "error_code": r.i16()})

    topics = r.array(lambda r: (r.string(), r.array(part)))
    err = r.i16()
    return {"throttle_time_ms": throttle, "error_code": err,
            "offsets": {(t, p): v for t, ps in topics or [] for p, v in ps or []}}


def describe_groups_v4(groups: list[str]) -> bytes:
    return array([string(g) for g in groups]) + i8(0)


def parse_describe_groups_v4(body: bytes) -> dict:
    r = Reader(body)
    throttle = r.i32()

    def member(r):
        return {"member_id": r.string(), "group_instance_id": r.string(), "client_id": r.string(),
                "client_host": r.string(), "metadata": rbytes(r), "assignment": rbytes(r)}

    def group(r):
        g = {"error_code": r.i16(), "group_id": r.string(), "state": r.string(),
             "protocol_type": r.string(), "protocol": r.string(), "members": r.array(member)}
        g["authorized_operations"] = r.i32()
        return g

    return {"throttle_time_ms": throttle, "groups": r.array(group)}


def offset_delete_v0(group: str, topics: dict[str, list[int]]) -> bytes:
    return string(group) + array([string(t) + array([i32(p) for p in ps]) for t, ps in topics.items()])


def parse_offset_delete_v0(body: bytes) -> dict:
    r = Reader(body)
    err = r.i16()
    throttle = r.i32()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.i32(), r.i16()))))
    return {"error_code": err, "throttle_time_ms": throttle,
            "errors": {(t, p): e for t, ps in topics or [] for p, e in ps or []}}


# ----------------------------------------------------------------------------- calls
def call(conn: kw.Conn, api: int, version: int, body: bytes, parse, timeout: float | None = None) -> dict:
    return parse(conn.call(api, version, body, timeout=timeout))


def find_coordinator(conn: kw.Conn, group: str, timeout: float = 30) -> dict:
    """FindCoordinator v2 until it answers 0 (COORDINATOR_NOT_AVAILABLE and LOAD_IN_PROGRESS are
    retried: the offsets topic may still be created or loaded)."""
    end = time.monotonic() + timeout
    while True:
        r = call(conn, API_FIND_COORDINATOR, 2, find_coordinator_v2(group), parse_find_coordinator_v2)
        if r["error_code"] == NONE or time.monotonic() > end:
            return r
        time.sleep(0.2)


def join(conn: kw.Conn, group: str, timeout: float = 40, **kw_) -> dict:
    return call(conn, API_JOIN_GROUP, 5, join_group_v5(group, **kw_), parse_join_group_v5, timeout)


def sync(conn: kw.Conn, group: str, generation: int, member_id: str, assignments=None,
         instance_id=None, timeout: float = 40) -> dict:
    return call(conn, API_SYNC_GROUP, 3, sync_group_v3(group, generation, member_id, assignments, instance_id),
                parse_sync_group_v3, timeout)


def heartbeat(conn: kw.Conn, group: str, generation: int, member_id: str, instance_id=None) -> dict:
    return call(conn, API_HEARTBEAT, 3, heartbeat_v3(group, generation, member_id, instance_id),
                parse_heartbeat_v3)


def leave(conn: kw.Conn, group: str, members: list[tuple[str, str | None]]) -> dict:
    return call(conn, API_LEAVE_GROUP, 3, leave_group_v3(group, members), parse_leave_group_v3)


def commit(conn: kw.Conn, group: str, topics, generation=-1, member_id="", instance_id=None) -> dict:
    return call(conn, API_OFFSET_COMMIT, 7, offset_commit_v7(group, topics, generation, member_id, instance_id),
                parse_offset_commit_v7)


def fetch_offsets(conn: kw.Conn, group: str, topics: dict[str, list[int]] | None) -> dict:
    return call(conn, API_OFFSET_FETCH, 5, offset_fetch_v5(group, topics), parse_offset_fetch_v5)


def describe(conn: kw.Conn, group: str) -> dict:
    return call(conn, API_DESCRIBE_GROUPS, 4, describe_groups_v4([group]), parse_describe_groups_v4)["groups"][0]


def delete_offsets(conn: kw.Conn, group: str, topics: dict[str, list[int]]) -> dict:
    return call(conn, API_OFFSET_DELETE, 0, offset_delete_v0(group, topics), parse_offset_delete_v0)


class RawMember:
    """A "consumer"-protocol member of `group` that subscribes to `topic`, driven by hand over its
    own connection: `join_and_sync()` does JoinGroup v5 (empty member id -> MEMBER_ID_REQUIRED ->
    JoinGroup again with the given id), then SyncGroup, as leader assigning every partition in
    `partitions` to itself."""

    def __init__(self, host: str, port: int, group: str, topic: str, partitions: int = 1,
                 session_timeout_ms: int = 30000, instance_id: str | None = None, protocol: str = "range"):
        self.conn = kw.Conn(host, port, timeout=45)
        self.group, self.topic, self.partitions = group, topic, partitions
        self.session_timeout_ms = session_timeout_ms
        self.instance_id = instance_id
        self.protocol = protocol
        self.member_id = ""
        self.generation = -1
        self.first_join: dict | None = None
        self.assignment: dict[str, list[int]] = {}

    def join(self) -> dict:
        r = join(self.conn, self.group, member_id=self.member_id, protocols=((self.protocol, None),),
                 session_timeout_ms=self.session_timeout_ms, instance_id=self.instance_id,
                 topics=[self.topic])
        if r["error_code"] == MEMBER_ID_REQUIRED and not self.member_id:
            self.first_join = r
            self.member_id = r["member_id"]
            r = join(self.conn, self.group, member_id=self.member_id, protocols=((self.protocol, None),),
                     session_timeout_ms=self.session_timeout_ms, instance_id=self.instance_id,
                     topics=[self.topic])
        if r["error_code"] == NONE:
            self.member_id = r["member_id"]
            self.generation = r["generation_id"]
        return r

    def join_and_sync(self) -> tuple[dict, dict]:
        j = self.join()
        assert j["error_code"] == NONE, f"JoinGroup: error {j['error_code']} ({ERROR_NAMES.get(j['error_code'])})"
        assignments = None
        if j["leader"] == self.member_id:
            assignments = {m["member_id"]: assignment_v0({self.topic: list(range(self.partitions))})
                           if m["member_id"] == self.member_id else assignment_v0({})
                           for m in j["members"]}
        s = sync(self.conn, self.group, self.generation, self.member_id, assignments, self.instance_id)
        if s["error_code"] == NONE:
            self.assignment = parse_assignment(s["assignment"])
        return j, s

    def heartbeat(self, generation: int | None = None, member_id: str | None = None) -> int:
        return heartbeat(self.conn, self.group, self.generation if generation is None else generation,
                         self.member_id if member_id is None else member_id, self.instance_id)["error_code"]

    def leave(self) -> dict:
        return leave(self.conn, self.group, [(self.member_id, self.instance_id)])

    def close(self):
        self.conn.close()
