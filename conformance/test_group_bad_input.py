"""Bad group-coordinator requests over raw sockets (group_wire.py: JoinGroup v5, SyncGroup v3,
Heartbeat v3, LeaveGroup v3, OffsetCommit v7, OffsetFetch v5): each gets Kafka's error code, and
nothing else changes. Throughout, a real confluent-kafka consumer group (the canary) consumes a
live stream on the same broker; after every case it must have read every record produced before
the case ended, without a rebalance. Several cases are aimed at the canary group itself."""
import pytest

import group_wire as gw
import helpers
import kafka_wire as kw
from group_member import MemberProc, assignment_is
from grouputil import LiveProducer, member_log_dir
from helpers import RESULTS, xfail_tansu

GROUP_SETTINGS = {"group.min.session.timeout.ms": "6000", "group.max.session.timeout.ms": "1800000",
                  "offset.metadata.max.bytes": "4096"}


@pytest.fixture(scope="module")
def gbroker(broker_factory):
    b = broker_factory("group-bad-input", GROUP_SETTINGS)
    yield b
    b.stop()


class CanaryGroup:
    """One confluent-kafka member (group_member.py) of group `group`, consuming a 2-partition topic
    that a LiveProducer keeps writing to."""

    def __init__(self, b):
        self.b = b
        self.topic = helpers.topic_name("gcanary")
        self.group = f"g-{self.topic}"
        helpers.ck_create_topic(b.bootstrap, self.topic, 2)
        self.member = MemberProc("confluent", b.bootstrap, self.group, self.topic, "canary",
                                 member_log_dir(f"group-bad-input-{self.topic}"), strategy="range",
                                 session_timeout_ms=10000, max_seconds=600)
        self.live = LiveProducer(b.bootstrap, self.topic, 2, rate=50, tag="canary")
        self.member.wait_for(assignment_is(2), 60, "the canary's 2 partitions")
        self.rebalance_events = self._rebalance_events()
        self.member_id = [e["member_id"] for e in self.member.of("assigned")][-1]

    def _rebalance_events(self) -> int:
        return len([e for e in self.member.snapshot() if e["event"] in ("assigned", "revoked", "lost")])

    def rebase(self):
        """Before a case: the canary owns both partitions; remember its rebalance count."""
        self.member.wait_for(assignment_is(2), 30, "the canary's 2 partitions")
        self.rebalance_events = self._rebalance_events()

    def check(self):
        """After a case: everything acknowledged so far gets consumed, with no rebalance and no
        error, and the broker is alive."""
        assert self.b.alive(), "the broker died"
        want = {(p, o) for p, o, _ in list(self.live.acked)}
        assert want, "the canary producer has no acknowledged record"
        helpers.wait_until(lambda: want <= {(p, o) for _, p, o, _ in self.member.reads()}, 20, 0.1,
                           what="the canary group consuming the records produced meanwhile")
        changes = [e for e in self.member.snapshot() if e["event"] in ("assigned", "revoked", "lost")]
        assert len(changes) == self.rebalance_events, f"the canary group rebalanced: {changes[-3:]}"
        assert not self.member.errors(), self.member.errors()[:3]

    def close(self):
        try:
            self.live.stop()
        finally:
            self.member.cleanup()


@pytest.fixture(scope="module")
def canary(gbroker):
    c = CanaryGroup(gbroker)
    yield c
    RESULTS["group bad input: canary records consumed"] = len(c.member.reads())
    c.close()


@pytest.fixture
def guard(gbroker, canary):
    """Each case ends with canary.check() in its body (so that an xfail on Tansu covers it)."""
    canary.rebase()
    return gbroker


@pytest.fixture
def conn(gbroker):
    c = kw.Conn(gbroker.host, gbroker.port, timeout=45)
    yield c
    c.close()


def _name(code: int) -> str:
    return f"{code} ({gw.ERROR_NAMES.get(code, '?')})"


def _expect(got: int, want: int, what: str):
    assert got == want, f"{what}: error {_name(got)}, Kafka answers {_name(want)}"


# ----------------------------------------------------------------------------- JoinGroup
def test_join_with_no_common_protocol(guard, canary, conn):
    """A "consumer" JoinGroup offering only assignors no member supports gets
    INCONSISTENT_GROUP_PROTOCOL (23)."""
    r = gw.join(conn, canary.group, protocols=(("no-such-assignor", None), ("neither-this", None)),
                topics=[canary.topic])
    _expect(r["error_code"], gw.INCONSISTENT_GROUP_PROTOCOL, "JoinGroup without a common protocol")
    canary.check()


@xfail_tansu("answers MEMBER_ID_REQUIRED without checking the session timeout against the limits")
@pytest.mark.parametrize("session_ms", [1, 5999, 1_800_001])
def test_join_session_timeout_out_of_range(guard, canary, conn, session_ms):
    """A session timeout outside [group.min.session.timeout.ms, group.max.session.timeout.ms] =
    [6000, 1800000] gets INVALID_SESSION_TIMEOUT (26)."""
    r = gw.join(conn, helpers.topic_name("g-sess"), session_timeout_ms=session_ms)
    _expect(r["error_code"], gw.INVALID_SESSION_TIMEOUT, f"JoinGroup with session timeout {session_ms} ms")
    canary.check()


@xfail_tansu("answers MEMBER_ID_REQUIRED to a JoinGroup for the empty group id")
def test_empty_group_id(guard, canary, conn):
    """The empty string is not a group id: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and
    OffsetCommit (each partition) answer INVALID_GROUP_ID (24)."""
    _expect(gw.join(conn, "")["error_code"], gw.INVALID_GROUP_ID, "JoinGroup group ''")
    _expect(gw.sync(conn, "", 1, "m", {})["error_code"], gw.INVALID_GROUP_ID, "SyncGroup group ''")
    _expect(gw.heartbeat(conn, "", 1, "m")["error_code"], gw.INVALID_GROUP_ID, "Heartbeat group ''")
    _expect(gw.leave(conn, "", [("m", None)])["error_code"], gw.INVALID_GROUP_ID, "LeaveGroup group ''")
    # (an existing topic: Kafka answers UNKNOWN_TOPIC_OR_PARTITION for unknown topics before it
    # looks at the group)
    topic = helpers.topic_name("g-empty-id")
    helpers.ck_create_topic(guard.bootstrap, topic, 1)
    r = gw.commit(conn, "", {topic: [(0, 1, None)]})
    _expect(r["errors"][(topic, 0)], gw.INVALID_GROUP_ID, "OffsetCommit group ''")
    canary.check()


@xfail_tansu("the first generation is 0 (Kafka's is 1: it increments from 0 on each rebalance)")
def test_member_id_required_then_rejoin(guard, canary, conn):
    """JoinGroup v4+ without a member id (KIP-394) answers MEMBER_ID_REQUIRED (79) with a member
    id, generation -1 and no members; the JoinGroup again with that id joins: generation >= 1,
    the member leads and sees its own subscription; SyncGroup hands back the leader's assignment;
    Heartbeat is 0; after LeaveGroup the member is unknown (25)."""
    topic = helpers.topic_name("g-mid")
    helpers.ck_create_topic(guard.bootstrap, topic, 2)
    m = gw.RawMember(guard.host, guard.port, helpers.topic_name("g-mid"), topic, partitions=2)
    try:
        j, s = m.join_and_sync()
        fj = m.first_join
        assert fj is not None, "the first JoinGroup (no member id) was not answered MEMBER_ID_REQUIRED"
        _expect(fj["error_code"], gw.MEMBER_ID_REQUIRED, "JoinGroup v5 without member id")
        assert fj["member_id"] and fj["generation_id"] == -1 and not fj["members"], fj
        assert j["member_id"] == fj["member_id"], "the rejoin should keep the given member id"
        assert j["generation_id"] >= 1 and j["protocol_name"] == "range" and j["leader"] == m.member_id, j
        assert [x["member_id"] for x in j["members"]] == [m.member_id]
        assert j["members"][0]["metadata"] == gw.subscription_v0([topic])
        _expect(s["error_code"], gw.NONE, "SyncGroup of the leader")
        assert m.assignment == {topic: [0, 1]}, m.assignment
        _expect(m.heartbeat(), gw.NONE, "Heartbeat")
        lv = m.leave()
        _expect(lv["error_code"], gw.NONE, "LeaveGroup")
        assert [(x["member_id"], x["error_code"]) for x in lv["members"]] == [(m.member_id, 0)], lv
        _expect(m.heartbeat(), gw.UNKNOWN_MEMBER_ID, "Heartbeat after LeaveGroup")
    finally:
        m.close()
    canary.check()


# ----------------------------------------------------------------------------- fencing
@xfail_tansu("never bumps the generation: a rejoin keeps generation 0, so nothing is stale")
def test_stale_generation(guard, canary, conn):
    """A member in generation g+1 (the leader rejoined, which starts a new generation) that sends
    Heartbeat, SyncGroup or OffsetCommit with generation g gets ILLEGAL_GENERATION (22), and the
    stale commit is not stored; the same requests with g+1 succeed."""
    topic = helpers.topic_name("g-gen")
    helpers.ck_create_topic(guard.bootstrap, topic, 1)
    m = gw.RawMember(guard.host, guard.port, helpers.topic_name("g-gen"), topic)
    try:
        m.join_and_sync()
        g1 = m.generation
        j, s = m.join_and_sync()
        g2 = m.generation
        assert g2 == g1 + 1, f"a rejoin of the leader should start generation {g1 + 1}, got {g2}"
        _expect(m.heartbeat(generation=g1), gw.ILLEGAL_GENERATION, f"Heartbeat generation {g1} in {g2}")
        r = gw.sync(m.conn, m.group, g1, m.member_id, {m.member_id: gw.assignment_v0({topic: [0]})})
        _expect(r["error_code"], gw.ILLEGAL_GENERATION, f"SyncGroup generation {g1} in {g2}")
        r = gw.commit(m.conn, m.group, {topic: [(0, 5, "stale")]}, generation=g1, member_id=m.member_id)
        _expect(r["errors"][(topic, 0)], gw.ILLEGAL_GENERATION, f"OffsetCommit generation {g1} in {g2}")
        got = gw.fetch_offsets(m.conn, m.group, {topic: [0]})["offsets"][(topic, 0)]
        assert got["offset"] == -1, f"the stale commit was stored: {got}"
        _expect(m.heartbeat(), gw.NONE, f"Heartbeat generation {g2}")
        r = gw.commit(m.conn, m.group, {topic: [(0, 6, "fresh")]}, generation=g2, member_id=m.member_id)
        _expect(r["errors"][(topic, 0)], gw.NONE, f"OffsetCommit generation {g2}")
        got = gw.fetch_offsets(m.conn, m.group, {topic: [0]})["offsets"][(topic, 0)]
        assert (got["offset"], got["metadata"]) == (6, "fresh"), got
        m.leave()
    finally:
        m.close()
    canary.check()


@xfail_tansu("answers REBALANCE_IN_PROGRESS to a SyncGroup from an unknown member")
def test_unknown_member(guard, canary, conn):
    """Requests naming a member the group does not have, aimed at the live canary group:
    Heartbeat, SyncGroup, OffsetCommit (with a generation) and a JoinGroup with a made-up member
    id all get UNKNOWN_MEMBER_ID (25); the canary is not disturbed and its offsets are not
    touched."""
    g = canary.group
    before = gw.fetch_offsets(conn, g, {canary.topic: [0, 1]})["offsets"]
    _expect(gw.heartbeat(conn, g, 1, "no-such-member")["error_code"], gw.UNKNOWN_MEMBER_ID, "Heartbeat")
    _expect(gw.sync(conn, g, 1, "no-such-member", {})["error_code"], gw.UNKNOWN_MEMBER_ID, "SyncGroup")
    r = gw.commit(conn, g, {canary.topic: [(0, 0, "bogus")]}, generation=1, member_id="no-such-member")
    _expect(r["errors"][(canary.topic, 0)], gw.UNKNOWN_MEMBER_ID, "OffsetCommit")
    r = gw.join(conn, g, member_id="no-such-member", topics=[canary.topic])
    _expect(r["error_code"], gw.UNKNOWN_MEMBER_ID, "JoinGroup with an unknown member id")
    after = gw.fetch_offsets(conn, g, {canary.topic: [0, 1]})["offsets"]
    for k in after:
        assert after[k]["offset"] >= before[k]["offset"] and after[k]["metadata"] != "bogus", (before, after)
    canary.check()


@xfail_tansu("answers UNKNOWN_MEMBER_ID, not FENCED_INSTANCE_ID, for a static member's instance id with another member id")
def test_fenced_instance_id(guard, canary, conn):
    """A static member (group.instance.id) is fenced by its member id: Heartbeat, SyncGroup and
    OffsetCommit naming the instance id with another member id get FENCED_INSTANCE_ID (82)."""
    topic = helpers.topic_name("g-fence")
    helpers.ck_create_topic(guard.bootstrap, topic, 1)
    m = gw.RawMember(guard.host, guard.port, helpers.topic_name("g-fence"), topic, instance_id="inst-x")
    try:
        j, s = m.join_and_sync()
        assert m.first_join is None, "a static member's first JoinGroup should not need MEMBER_ID_REQUIRED"
        _expect(s["error_code"], gw.NONE, "SyncGroup")
        _expect(m.heartbeat(member_id="an-impostor"), gw.FENCED_INSTANCE_ID, "Heartbeat, wrong member id")
        r = gw.sync(m.conn, m.group, m.generation, "an-impostor", {}, instance_id="inst-x")
        _expect(r["error_code"], gw.FENCED_INSTANCE_ID, "SyncGroup, wrong member id")
        r = gw.commit(m.conn, m.group, {topic: [(0, 1, None)]}, m.generation, "an-impostor", "inst-x")
        _expect(r["errors"][(topic, 0)], gw.FENCED_INSTANCE_ID, "OffsetCommit, wrong member id")
        _expect(m.heartbeat(), gw.NONE, "Heartbeat of the real member")
        m.leave()
    finally:
        m.close()
    canary.check()


# ----------------------------------------------------------------------------- OffsetCommit
@xfail_tansu("does not limit the metadata size (offset.metadata.max.bytes)")
def test_offset_metadata_too_large(guard, canary, conn):
    """offset.metadata.max.bytes = 4096, counted as Kafka does (String.length(): UTF-16 code
    units): in one OffsetCommit, the partitions whose metadata is longer get
    OFFSET_METADATA_TOO_LARGE (12) and keep their previous offset; the others are committed."""
    topic = helpers.topic_name("g-meta")
    helpers.ck_create_topic(guard.bootstrap, topic, 5)
    g = helpers.topic_name("g-meta")
    gw.find_coordinator(conn, g)
    r = gw.commit(conn, g, {topic: [(0, 1, "first")]})
    _expect(r["errors"][(topic, 0)], gw.NONE, "the first commit")
    cases = {  # partition: (offset, metadata, expected error)
        0: (9, "x" * 4097, gw.OFFSET_METADATA_TOO_LARGE),
        1: (2, "y" * 4096, gw.NONE),
        2: (3, "ok", gw.NONE),
        3: (4, "é" * 4096, gw.NONE),                         # 8192 UTF-8 bytes, 4096 UTF-16 units
        4: (5, "\U0001F600" * 2049, gw.OFFSET_METADATA_TOO_LARGE),  # 4098 UTF-16 units
    }
    r = gw.commit(conn, g, {topic: [(p, o, md) for p, (o, md, _) in cases.items()]})
    for p, (o, md, want) in cases.items():
        _expect(r["errors"][(topic, p)], want, f"OffsetCommit partition {p} with {len(md)} characters of metadata")
    got = gw.fetch_offsets(conn, g, {topic: list(cases)})["offsets"]
    assert (got[(topic, 0)]["offset"], got[(topic, 0)]["metadata"]) == (1, "first"), got[(topic, 0)]
    for p in (1, 2, 3):
        assert (got[(topic, p)]["offset"], got[(topic, p)]["metadata"]) == cases[p][:2], (p, got[(topic, p)])
    assert got[(topic, 4)]["offset"] == -1
    canary.check()


# ----------------------------------------------------------------------------- last: a JoinGroup of
# another protocol type aimed at the canary group (last, because Tansu keeps a pending member from it
# that later rebalances the canary)
@xfail_tansu("answers MEMBER_ID_REQUIRED before checking the protocol type")
def test_join_with_other_protocol_type(guard, canary, conn):
    """A JoinGroup whose protocol type differs from the members' ("connect" against "consumer")
    gets INCONSISTENT_GROUP_PROTOCOL (23) before any member id is handed out, and does not touch
    the group."""
    r = gw.join(conn, canary.group, protocol_type="connect", protocols=(("range", None),),
                topics=[canary.topic])
    _expect(r["error_code"], gw.INCONSISTENT_GROUP_PROTOCOL, "JoinGroup, protocol type connect")
    assert r["member_id"] == "" and r["generation_id"] == -1, r
    canary.check()
