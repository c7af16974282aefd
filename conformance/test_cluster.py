"""Brokers under the Raft controllers (`process.roles=broker`), as Kafka's KRaft brokers: 3 controllers
(ids 1-3) and 3 brokers (ids 4-6) on 127.0.0.1 (clusterproc.Cluster), driven with stock clients (kcat,
confluent-kafka, kafka-python and its `kafka-python admin` CLI, aiokafka) and raw requests where an exact
field matters (leader epochs, ISR, which broker answers).

One cluster for the module serves the cheap tests: every broker lists every broker and every topic with
the same leaders, leader epochs, replicas and ISR; admin requests sent to any broker are forwarded to the
active controller (CreateTopics incl. validate_only and its errors, DeleteTopics, CreatePartitions,
IncrementalAlterConfigs/AlterConfigs seen by DescribeConfigs on every broker, DescribeQuorum, InitProducerId
from controller-allocated blocks, auto-creation on Metadata); a created topic reaches every broker within a
second; only a partition's leader serves Produce and Fetch (NOT_LEADER_OR_FOLLOWER elsewhere); records
round-trip with every client; a consumer group's coordinator is the leader of its __consumer_offsets
partition, from whichever broker it is asked.

The fault tests start a cluster each: kill -9 of a broker (fenced after broker.session.timeout.ms, new
leaders with higher epochs for the RF 3 partitions it led, RF 1 partitions offline; restarted, it
re-registers with a new broker epoch and is listed again), SIGTERM (controlled shutdown: leadership
moved before the exit, exit 0), kill -9 of the active controller (brokers keep serving, admin works again
once a new controller is active, every broker follows the new one within 3 s of its election and sees a
new topic within 1 s of its CreateTopics answer, no broker fenced by the failover), brokers started
before the controllers, a whole-cluster restart on the same dirs, and a duplicate broker id and a
foreign cluster id that must never be registered. Partition replication is not built yet:
produce/consume uses RF 1 topics, RF 3 topics only acks=1 and metadata.

Timings (time to fence, to re-list, failover) go to the measurements in the terminal summary and stdout.
"""
from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest

import brokerproc
import clusterproc as cp
import conftest
import helpers
import kafka_wire as kw
from conftest import session_dir

pytestmark = pytest.mark.skipif(helpers.KIND != "martlet", reason="Martlet's controllers and brokers")

SESSION_MS = 3000     # broker.session.timeout.ms on the controllers
HEARTBEAT_MS = 500    # broker.heartbeat.interval.ms on the brokers
OFFSETS_PARTITIONS = 6
BROKER_IDS = (4, 5, 6)
CONTROLLER_OVERRIDES = {"broker.session.timeout.ms": SESSION_MS}
BROKER_OVERRIDES = {"broker.heartbeat.interval.ms": HEARTBEAT_MS,
                    "offsets.topic.replication.factor": 1,
                    "offsets.topic.num.partitions": OFFSETS_PARTITIONS,
                    "group.initial.rebalance.delay.ms": 0}


def note(key: str, value) -> None:
    """A measurement: printed (pytest -s / failure output) and listed in the terminal summary."""
    helpers.RESULTS[f"cluster: {key}"] = value
    print(f"[cluster] {key}: {value}", flush=True)


def make_cluster(name: str) -> cp.Cluster:
    c = cp.Cluster(session_dir() / f"cluster-{name}", controllers=3, brokers=3,
                   controller_overrides=CONTROLLER_OVERRIDES, broker_overrides=BROKER_OVERRIDES,
                   broker_ids=list(BROKER_IDS))
    conftest._BROKERS.extend(c.processes())  # listed in the summary, killed at session end
    try:
        c.start(timeout=60)
    except BaseException:
        c.stop(grace=3)
        raise
    note(f"{name} start-to-ready (3 controllers, 3 brokers listed) s", round(c.ready_seconds, 2))
    return c


@pytest.fixture(scope="module")
def cluster():
    c = make_cluster("shared")
    yield c
    codes = c.stop()
    note("shared cluster exit codes after SIGTERM", codes)


@pytest.fixture
def fault_cluster(request):
    c = make_cluster(request.node.name.replace("test_", "")[:30])
    yield c
    c.stop(grace=5)


def create_topic(c: cp.Cluster, via: int, partitions: int, rf: int, prefix: str = "cl") -> str:
    """A topic created with confluent-kafka through broker `via`, then on every broker."""
    from confluent_kafka.admin import NewTopic
    topic = helpers.topic_name(prefix)
    admin = helpers.ck_admin(c.brokers[via].bootstrap)
    admin.create_topics([NewTopic(topic, partitions, rf)], request_timeout=20)[topic].result(30)
    c.wait_topic(topic, partitions, timeout=10)
    return topic


@pytest.fixture(scope="module")
def rf3_topic(cluster):
    return create_topic(cluster, 4, 6, 3, "rf3")


def kp_cli(bootstrap: str, *args: str, check: bool = True):
    """`kafka-python admin -b BOOTSTRAP --format json ...`."""
    script = shutil.which("kafka-python")
    base = [script, "admin"] if script else [sys.executable, "-m", "kafka.admin"]
    cmd = [*base, "-b", bootstrap, "--format", "json", *args]
    p = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    if check:
        assert p.returncode == 0, f"{' '.join(cmd)}: {p.stderr.decode(errors='replace')[-1500:]}"
        return json.loads(p.stdout)
    return p


def partitions_of(c: cp.Cluster, broker: int, topic: str) -> dict[int, dict]:
    t = c.metadata(broker, [topic])["topics"][topic]
    assert t["error_code"] == 0, t
    return t["partitions"]


def view(parts: dict[int, dict]) -> dict:
    return {p: (v["leader"], v["leader_epoch"], v["replicas"], sorted(v["isr"])) for p, v in parts.items()}


# =========================================================================== the shared cluster
@pytest.mark.timeout(60)
def test_every_broker_lists_every_broker(cluster):
    """Raw Metadata v7 from each broker: the three brokers with host and port, the cluster id the
    controllers were formatted with, and a broker (never a controller) as the controller id, as
    KRaft brokers answer clients."""
    want = cluster.expected_brokers()
    for i in BROKER_IDS:
        md = cluster.metadata(i)
        assert md["brokers"] == want, f"broker {i}: {md['brokers']}"
        assert md["cluster_id"] == cp.CLUSTER_ID, f"broker {i}"
        assert md["controller_id"] in BROKER_IDS, f"broker {i} names controller {md['controller_id']}"


@pytest.mark.timeout(60)
def test_kcat_sees_brokers_and_placement(cluster, rf3_topic):
    views = {}
    for i in BROKER_IDS:
        p = helpers.kcat(cluster.brokers[i].bootstrap, "-L", "-J", "-t", rf3_topic, "-m", "15", timeout=30)
        md = json.loads(p.stdout)
        assert sorted((b["id"], b["name"]) for b in md["brokers"]) == \
            [(j, cluster.brokers[j].bootstrap) for j in BROKER_IDS], md["brokers"]
        assert md["controllerid"] in BROKER_IDS
        (t,) = [t for t in md["topics"] if t["topic"] == rf3_topic]
        views[i] = {p["partition"]: (p["leader"], [r["id"] for r in p["replicas"]],
                                     sorted(r["id"] for r in p["isrs"])) for p in t["partitions"]}
    assert views[4] == views[5] == views[6], views
    assert sorted(views[4]) == list(range(6))
    for part, (leader, replicas, isr) in views[4].items():
        assert sorted(replicas) == list(BROKER_IDS), (part, replicas)
        assert isr == list(BROKER_IDS), (part, isr)
        assert leader == replicas[0], f"partition {part}: leader {leader} is not the first replica {replicas}"


@pytest.mark.timeout(60)
def test_leader_epochs_and_balanced_leaders(cluster, rf3_topic):
    """Metadata v7 from every broker agrees on leader, leader epoch (0 for a new topic), replicas and
    ISR; the leaders of 6 partitions on 3 brokers are 2 per broker (Kafka's striped placement)."""
    views = {i: view(partitions_of(cluster, i, rf3_topic)) for i in BROKER_IDS}
    assert views[4] == views[5] == views[6], views
    for part, v in partitions_of(cluster, 5, rf3_topic).items():
        assert v["error_code"] == 0 and v["leader_epoch"] == 0 and v["offline"] == [], (part, v)
    leaders = Counter(v[0] for v in views[4].values())
    assert set(leaders) == set(BROKER_IDS) and max(leaders.values()) - min(leaders.values()) <= 1, leaders


@pytest.mark.timeout(60)
def test_brokers_keep_a_local_copy_of_the_metadata_log(cluster, rf3_topic):
    """Each broker follows __cluster_metadata as an observer into its own log dir: the
    registrations of all three brokers and the topic's TopicRecord are there."""
    for i in BROKER_IDS:
        d = cluster.brokers[i].data_dir
        helpers.wait_until(lambda: rf3_topic in cp.topic_records(d), 5, 0.1, what=f"{rf3_topic} in broker {i}'s copy")
        assert {b for _, b, _ in cp.broker_registrations(d)} >= set(BROKER_IDS)


@pytest.mark.timeout(60)
def test_confluent_metadata_and_describe_cluster(cluster):
    for i in BROKER_IDS:
        admin = helpers.ck_admin(cluster.brokers[i].bootstrap)
        md = admin.list_topics(timeout=15)
        assert {b.id: (b.host, b.port) for b in md.brokers.values()} == cluster.expected_brokers()
        assert md.cluster_id == cp.CLUSTER_ID
        assert md.controller_id in BROKER_IDS
        cl = admin.describe_cluster(request_timeout=15).result(20)
        assert sorted((n.id, n.host, n.port) for n in cl.nodes) == \
            [(j, *cluster.expected_brokers()[j]) for j in BROKER_IDS]
        assert cl.controller.id in BROKER_IDS and cl.cluster_id == cp.CLUSTER_ID


@pytest.mark.timeout(90)
def test_kafka_python_admin_and_cli(cluster):
    from kafka.admin import KafkaAdminClient
    for i in BROKER_IDS:
        a = KafkaAdminClient(bootstrap_servers=cluster.brokers[i].bootstrap, client_id="martlet-conformance-kp")
        try:
            cl = a.describe_cluster()
            assert sorted((b["broker_id"], b["host"], b["port"]) for b in cl["brokers"]) == \
                [(j, *cluster.expected_brokers()[j]) for j in BROKER_IDS]
            assert cl["controller_id"] in BROKER_IDS and cl["cluster_id"] == cp.CLUSTER_ID
        finally:
            a.close()
    # The CLI: create through broker 5, list through broker 6.
    topic = helpers.topic_name("kpcli")
    kp_cli(cluster.brokers[5].bootstrap, "topics", "create", "-t", topic, "--num-partitions", "2",
           "--replication-factor", "1")
    cluster.wait_topic(topic, 2, timeout=5)
    topics = kp_cli(cluster.brokers[6].bootstrap, "topics", "list")
    names = [t if isinstance(t, str) else t.get("name", t.get("topic")) for t in topics]
    assert topic in names, topics
    cl = kp_cli(cluster.brokers[4].bootstrap, "cluster", "describe")
    assert sorted(b["broker_id"] for b in cl["brokers"]) == list(BROKER_IDS)


@pytest.mark.timeout(60)
def test_aiokafka_describe_cluster(cluster, rf3_topic):
    from aiokafka.admin import AIOKafkaAdminClient

    async def go(bootstrap):
        a = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="martlet-conformance-ak")
        await a.start()
        try:
            return await a.describe_cluster(), await a.list_topics()
        finally:
            await a.close()

    for i in BROKER_IDS:
        cl, topics = asyncio.run(asyncio.wait_for(go(cluster.brokers[i].bootstrap), 30))
        assert sorted((b["node_id"], b["host"], b["port"]) for b in cl["brokers"]) == \
            [(j, *cluster.expected_brokers()[j]) for j in BROKER_IDS]
        assert cl["controller_id"] in BROKER_IDS
        assert rf3_topic in topics


@pytest.mark.timeout(60)
def test_created_topic_reaches_every_broker_within_a_second(cluster):
    from confluent_kafka.admin import NewTopic
    topic = helpers.topic_name("spread")
    admin = helpers.ck_admin(cluster.brokers[6].bootstrap)
    t_req = time.monotonic()
    admin.create_topics([NewTopic(topic, 4, 1)], request_timeout=20)[topic].result(30)
    t0 = time.monotonic()
    seen: dict[int, float] = {}
    while len(seen) < 3 and time.monotonic() - t0 < 10:
        for i in BROKER_IDS:
            if i in seen:
                continue
            t = cluster.metadata(i, [topic])["topics"].get(topic)
            if t and t["error_code"] == 0 and len(t["partitions"]) == 4 and \
                    all(p["leader"] in BROKER_IDS for p in t["partitions"].values()):
                seen[i] = round(time.monotonic() - t0, 3)
        time.sleep(0.005)
    note("CreateTopics answer s", round(t0 - t_req, 3))
    note("created topic on every broker after the answer s", seen)
    assert len(seen) == 3, f"only brokers {sorted(seen)} list {topic} after 10 s"
    assert max(seen.values()) <= 1.0, seen


@pytest.mark.timeout(60)
def test_create_topics_validation_and_errors_through_every_broker(cluster, rf3_topic):
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewTopic
    admin = helpers.ck_admin(cluster.brokers[5].bootstrap)
    # validate_only: answered without error, creates nothing
    dry = helpers.topic_name("dry")
    admin.create_topics([NewTopic(dry, 3, 3)], validate_only=True, request_timeout=20)[dry].result(30)
    # replication factor above the live brokers
    big = helpers.topic_name("rf4")
    for validate in (True, False):
        with pytest.raises(KafkaException) as e:
            admin.create_topics([NewTopic(big, 1, 4)], validate_only=validate, request_timeout=20)[big].result(30)
        assert e.value.args[0].code() == cp.INVALID_REPLICATION_FACTOR, e.value
    # The same through raw CreateTopics v2 to every broker: forwarded, never NOT_CONTROLLER.
    for i in BROKER_IDS:
        port = cluster.brokers[i].port
        (t,) = kw.parse_create_topics_v2(cp.call(port, kw.API_CREATE_TOPICS, 2,
                                                 kw.create_topics_v2([(big, 1, 4)])))["topics"]
        assert t["error_code"] == cp.INVALID_REPLICATION_FACTOR, (i, t)
        (t,) = kw.parse_create_topics_v2(cp.call(port, kw.API_CREATE_TOPICS, 2,
                                                 kw.create_topics_v2([(rf3_topic, 6, 3)])))["topics"]
        assert t["error_code"] == kw.TOPIC_ALREADY_EXISTS, (i, t)
    time.sleep(0.5)
    for i in BROKER_IDS:
        md = cluster.metadata(i, [dry, big])
        assert {n: t["error_code"] for n, t in md["topics"].items()} == \
            {dry: kw.UNKNOWN_TOPIC_OR_PARTITION, big: kw.UNKNOWN_TOPIC_OR_PARTITION}, (i, md["topics"])


@pytest.mark.timeout(60)
def test_delete_topic_through_another_broker(cluster):
    from kafka.admin import KafkaAdminClient
    topic = create_topic(cluster, 4, 3, 1, "del")
    a = KafkaAdminClient(bootstrap_servers=cluster.brokers[6].bootstrap, client_id="martlet-conformance-kp")
    try:
        res = a.delete_topics([topic])
    finally:
        a.close()
    assert [(t["name"], t["error_code"]) for t in res["topics"]] == [(topic, 0)], res
    t0 = time.monotonic()
    gone = helpers.wait_until(
        lambda: all(cluster.metadata(i, [topic])["topics"][topic]["error_code"] == kw.UNKNOWN_TOPIC_OR_PARTITION
                    for i in BROKER_IDS), 10, 0.02, what=f"{topic} gone from every broker")
    note("deleted topic gone from every broker s", round(time.monotonic() - t0, 3))
    assert gone


@pytest.mark.timeout(60)
def test_create_partitions_through_another_broker(cluster):
    """confluent-kafka CreatePartitions 3 -> 6 (no assignments: the controller places them) through
    broker 5; 6 -> 4 through kafka-python on broker 6 is INVALID_PARTITIONS."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import NewPartitions
    from kafka.admin import KafkaAdminClient, NewPartitions as KpNewPartitions
    topic = create_topic(cluster, 4, 3, 1, "parts")
    admin = helpers.ck_admin(cluster.brokers[5].bootstrap)
    admin.create_partitions([NewPartitions(topic, 6)], request_timeout=20)[topic].result(30)
    cluster.wait_topic(topic, 6, timeout=5)
    for i in BROKER_IDS:
        parts = partitions_of(cluster, i, topic)
        assert sorted(parts) == list(range(6))
        assert all(v["leader"] in BROKER_IDS and v["replicas"] == [v["leader"]] for v in parts.values()), parts
    assert {v["leader"] for v in parts.values()} == set(BROKER_IDS), "6 RF 1 partitions on 3 brokers"
    # fewer partitions: INVALID_PARTITIONS, through kafka-python on broker 6
    a = KafkaAdminClient(bootstrap_servers=cluster.brokers[6].bootstrap, client_id="martlet-conformance-kp")
    try:
        res = a.create_partitions({topic: KpNewPartitions(4)}, raise_errors=False)
    finally:
        a.close()
    assert [(r.name, r.error_code) for r in res.results] == [(topic, cp.INVALID_PARTITIONS)], res
    # a new partition takes records
    acked = helpers.ck_produce(cluster.bootstrap(), topic, [helpers.Rec(5, b"k", b"v", [], int(time.time() * 1000))],
                               timeout=20)
    assert acked == [(5, 0)]
    with pytest.raises(KafkaException):
        admin.create_partitions([NewPartitions(topic, 2)], request_timeout=20)[topic].result(30)


@pytest.mark.timeout(60)
def test_create_partitions_with_assignments_through_another_broker(cluster):
    """kafka-python CreatePartitions 3 -> 5 with the new replicas named ([6], [4]), through broker 6."""
    from kafka.admin import KafkaAdminClient
    topic = create_topic(cluster, 4, 3, 1, "assign")
    a = KafkaAdminClient(bootstrap_servers=cluster.brokers[6].bootstrap, client_id="martlet-conformance-kp")
    try:
        res = a.create_partitions({topic: {"count": 5, "assignments": [[6], [4]]}}, raise_errors=False)
    finally:
        a.close()
    assert [(r.name, r.error_code, r.error_message) for r in res.results] == [(topic, 0, None)], res
    cluster.wait_topic(topic, 5, timeout=5)
    for i in BROKER_IDS:
        parts = partitions_of(cluster, i, topic)
        assert (parts[3]["replicas"], parts[3]["leader"], parts[4]["replicas"], parts[4]["leader"]) == ([6], 6, [4], 4), parts


@pytest.mark.timeout(90)
def test_admin_right_after_create_through_other_brokers(cluster):
    """A topic is committed when CreateTopics answers, so the next admin request about it, sent at
    once to another broker, finds it (Kafka's brokers forward these requests: the controller decides,
    not the asked broker's copy of the metadata, which may be a few milliseconds behind). 5 rounds
    each of DeleteTopics, IncrementalAlterConfigs and CreatePartitions (raw, one connection each)
    right after CreateTopics through broker 4."""
    ROUNDS = 5
    b4, b5, b6 = (cluster.brokers[i].port for i in BROKER_IDS)
    ops = {
        "DeleteTopics": lambda port, t: cp.delete_topics_v1(port, t),
        "IncrementalAlterConfigs": lambda port, t: cp.incremental_alter_topic_config_v0(port, t, "retention.ms", "3600000"),
        "CreatePartitions": lambda port, t: cp.create_partitions_v1(port, t, 2),
    }
    failures: dict[str, list] = {}
    took: list[float] = []
    for op, send in ops.items():
        for k in range(ROUNDS):
            topic = helpers.topic_name(f"race{k}")
            t0 = time.monotonic()
            assert cp.create_topic_v2(b4, topic, 1, 1) == 0
            took.append(time.monotonic() - t0)
            got = send(b5 if k % 2 else b6, topic)
            if got not in (0, (0, None)):
                failures.setdefault(op, []).append((k, got))
    took.sort()
    note("raw CreateTopics v2 through a broker: min / median / max s",
         (round(took[0], 3), round(took[len(took) // 2], 3), round(took[-1], 3)))
    assert not failures, f"admin requests right after CreateTopics that failed (round, answer): {failures}"


@pytest.mark.timeout(90)
def test_configs_altered_through_any_broker_are_seen_by_every_broker(cluster):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType
    from kafka.admin import ConfigResource as KpConfigResource, ConfigResourceType, KafkaAdminClient
    topic = create_topic(cluster, 5, 1, 1, "cfg")
    leader = partitions_of(cluster, 4, topic)[0]["leader"]

    def everywhere(name, want, timeout=5):
        t0 = time.monotonic()
        helpers.wait_until(lambda: all(cp.describe_topic_configs_v1(cluster.brokers[i].port, topic)
                                       ["configs"].get(name) == want for i in BROKER_IDS),
                           timeout, 0.02, what=f"{name}={want} on every broker")
        return round(time.monotonic() - t0, 3)

    # IncrementalAlterConfigs (confluent-kafka) through broker 4
    res = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry("retention.ms", "123456", incremental_operation=AlterConfigOpType.SET)])
    admin = helpers.ck_admin(cluster.brokers[4].bootstrap)  # alive until the future resolves
    admin.incremental_alter_configs([res])[res].result(30)
    note("incremental config on every broker s", everywhere("retention.ms", ("123456", cp.SOURCE_DYNAMIC_TOPIC)))
    # AlterConfigs (kafka-python, not incremental; the client sends the other dynamic keys along)
    # through broker 6
    a = KafkaAdminClient(bootstrap_servers=cluster.brokers[6].bootstrap, client_id="martlet-conformance-kp")
    try:
        out = a.alter_configs([KpConfigResource(ConfigResourceType.TOPIC, topic,
                                                configs={"max.message.bytes": "200000"})],
                              incremental=False, raise_on_unknown=False)
    finally:
        a.close()
    assert out == {"topic": {topic: "OK"}}, out
    everywhere("max.message.bytes", ("200000", cp.SOURCE_DYNAMIC_TOPIC))
    everywhere("retention.ms", ("123456", cp.SOURCE_DYNAMIC_TOPIC))
    # AlterConfigs (confluent-kafka, the whole set) through broker 5: retention.ms back to its default
    res = ConfigResource(ResourceType.TOPIC, topic, set_config={"max.message.bytes": "200000"})
    admin5 = helpers.ck_admin(cluster.brokers[5].bootstrap)
    admin5.alter_configs([res])[res].result(30)
    everywhere("retention.ms", ("604800000", cp.SOURCE_DEFAULT))
    everywhere("max.message.bytes", ("200000", cp.SOURCE_DYNAMIC_TOPIC))
    # the CLI reads it too, and the leader enforces it
    desc = kp_cli(cluster.brokers[5].bootstrap, "configs", "describe", "-r", "topic", "-n", topic)
    assert "200000" in json.dumps(desc), desc
    port = cluster.brokers[leader].port
    assert cp.produce_v3(port, topic, 0, [], batch=kw.batch_with_size(250_000))["error_code"] == kw.MESSAGE_TOO_LARGE
    assert cp.produce_v3(port, topic, 0, [], batch=kw.batch_with_size(100_000))["error_code"] == 0


@pytest.mark.timeout(60)
def test_describe_quorum_through_every_broker(cluster):
    """`kafka-python admin -b BROKER cluster describe-quorum`: forwarded to the controllers; the
    voters are 1-3, the leader is the active controller, the brokers are observers."""
    active, epoch = cluster.active_controller(timeout=5)
    for i in BROKER_IDS:
        q = kp_cli(cluster.brokers[i].bootstrap, "cluster", "describe-quorum")
        (t,) = q["topics"]
        assert t["topic_name"] == cp.METADATA_TOPIC
        (p,) = t["partitions"]
        assert p.get("error") is None, p
        assert (p["leader_id"], p["leader_epoch"]) == (active, epoch), (p, active, epoch)
        assert sorted(v["replica_id"] for v in p["current_voters"]) == [1, 2, 3], p
        assert set(BROKER_IDS) <= {o["replica_id"] for o in p["observers"]}, p
        assert p["high_watermark"] > 0


@pytest.mark.timeout(60)
def test_producer_ids_from_controller_blocks(cluster):
    """InitProducerId on each broker (twice): distinct ids, epoch 0; then an idempotent confluent
    producer writes to partitions led by all three brokers, each record once."""
    ids = []
    for i in BROKER_IDS:
        for _ in range(2):
            r = cp.init_producer_id_v1(cluster.brokers[i].port)
            assert r["error_code"] == 0 and r["producer_id"] >= 0 and r["producer_epoch"] == 0, (i, r)
            ids.append(r["producer_id"])
    assert len(set(ids)) == len(ids), f"producer ids repeat across brokers: {ids}"
    note("producer ids (brokers 4,4,5,5,6,6)", ids)
    topic = create_topic(cluster, 4, 3, 1, "idem")
    assert {v["leader"] for v in partitions_of(cluster, 4, topic).values()} == set(BROKER_IDS)
    recs = helpers.make_records(300, "idem", 3)
    helpers.ck_produce(cluster.bootstrap(), topic, recs, timeout=30, **{"enable.idempotence": True})
    helpers.verify_roundtrip(recs, helpers.ck_consume_all(cluster.bootstrap(), topic, 3, timeout=30))


@pytest.mark.timeout(60)
def test_only_the_leader_serves_produce_and_fetch(cluster, rf3_topic):
    rf1 = create_topic(cluster, 6, 3, 1, "leader")
    for part, v in partitions_of(cluster, 4, rf1).items():
        leader = v["leader"]
        for other in set(BROKER_IDS) - {leader}:
            port = cluster.brokers[other].port
            got = cp.produce_v3(port, rf1, part, [(b"k", b"not here")], acks=1)
            assert got["error_code"] == cp.NOT_LEADER_OR_FOLLOWER, (part, other, got)
            got = cp.fetch_v4(port, rf1, part)
            assert got["error_code"] == cp.NOT_LEADER_OR_FOLLOWER, (part, other, got)
        port = cluster.brokers[leader].port
        assert cp.produce_v3(port, rf1, part, [(b"k", b"here")], acks=-1) == \
            {"partition": part, "error_code": 0, "base_offset": 0, "log_append_time": -1}
        got = cp.fetch_v4(port, rf1, part)
        assert got["error_code"] == 0 and got["high_watermark"] == 1 and b"here" in got["records"], got
    # RF 3: a follower (a replica, not the leader) refuses clients too; acks=1 at the leader works.
    for part, v in partitions_of(cluster, 4, rf3_topic).items():
        follower = next(r for r in v["replicas"] if r != v["leader"])
        port = cluster.brokers[follower].port
        assert cp.produce_v3(port, rf3_topic, part, [(b"k", b"v")], acks=1)["error_code"] == cp.NOT_LEADER_OR_FOLLOWER
        assert cp.fetch_v4(port, rf3_topic, part)["error_code"] == cp.NOT_LEADER_OR_FOLLOWER
        assert cp.produce_v3(cluster.brokers[v["leader"]].port, rf3_topic, part, [(b"k", b"v")],
                             acks=1)["error_code"] == 0


@pytest.mark.timeout(120)
@pytest.mark.parametrize("client,codec", [("kcat", "gzip"), ("confluent-kafka", "zstd"),
                                          ("kafka-python", "lz4"), ("aiokafka", "snappy")])
def test_roundtrip_across_brokers(cluster, client, codec):
    """2,000 records on 3 RF 1 partitions (led by different brokers), produced and read back with
    one client through the bootstrap list of all brokers."""
    t = helpers.roundtrip(client, cluster.bootstrap(), 2000, codec, f"cl-{client}", partitions=3, timeout=60)
    note(f"roundtrip 2000 {client} {codec}", t)


@pytest.mark.timeout(60)
def test_auto_topic_creation_on_metadata(cluster):
    # allow_auto_topic_creation=false: unknown everywhere, not created
    missing = helpers.topic_name("noauto")
    for i in BROKER_IDS:
        md = cluster.metadata(i, [missing], auto_create=False)
        assert md["topics"][missing]["error_code"] == kw.UNKNOWN_TOPIC_OR_PARTITION
    # allow_auto_topic_creation=true on broker 5: created by the controllers, num.partitions=1
    topic = helpers.topic_name("auto")
    first = cluster.metadata(5, [topic], auto_create=True)["topics"][topic]
    assert first["error_code"] in (0, cp.LEADER_NOT_AVAILABLE), first
    t0 = time.monotonic()
    t = cluster.wait_topic(topic, 1, timeout=10)
    note("auto-created topic on every broker s", round(time.monotonic() - t0, 3))
    assert len(t["partitions"][0]["replicas"]) == 1
    # a producer to a topic nobody created
    from confluent_kafka import Producer
    topic2 = helpers.topic_name("autoprod")
    p = Producer(helpers.ck_conf(cluster.bootstrap(), **{"message.timeout.ms": 20000}))
    done = []
    p.produce(topic2, b"v", key=b"k", on_delivery=lambda err, msg: done.append(err))
    assert p.flush(25) == 0 and done == [None], done
    cluster.wait_topic(topic2, 1, timeout=5)
    for i in BROKER_IDS:
        assert cluster.metadata(i, [missing])["topics"][missing]["error_code"] == kw.UNKNOWN_TOPIC_OR_PARTITION


@pytest.mark.timeout(120)
def test_consumer_group_across_brokers(cluster):
    from confluent_kafka import Consumer, KafkaException, TopicPartition
    from confluent_kafka import ConsumerGroupTopicPartitions
    group = helpers.topic_name("grp")
    # FindCoordinator from every broker: one answer, the leader of the group's __consumer_offsets partition
    t0 = time.monotonic()
    answers, codes = {}, set()
    while len(answers) < 3:
        assert time.monotonic() - t0 < 20, f"no coordinator from every broker after 20 s: {answers}, errors {codes}"
        for i in set(BROKER_IDS) - set(answers):
            r = cp.find_coordinator_v1(cluster.brokers[i].port, group)
            if r["error_code"] == 0:
                answers[i] = (r["node_id"], r["host"], r["port"])
            else:
                codes.add(r["error_code"])
                assert r["error_code"] in (cp.COORDINATOR_NOT_AVAILABLE, cp.NOT_COORDINATOR), (i, r)
        time.sleep(0.05)
    note("first FindCoordinator answered on every broker s", round(time.monotonic() - t0, 3))
    assert len(set(answers.values())) == 1, answers
    offsets = cluster.metadata(4, ["__consumer_offsets"])["topics"]["__consumer_offsets"]
    assert offsets["error_code"] == 0 and offsets["internal"], offsets
    assert sorted(offsets["partitions"]) == list(range(OFFSETS_PARTITIONS))
    assert all(len(p["replicas"]) == 1 for p in offsets["partitions"].values()), "offsets.topic.replication.factor=1"
    assert {p["leader"] for p in offsets["partitions"].values()} == set(BROKER_IDS), offsets["partitions"]
    owner = offsets["partitions"][cp.offsets_partition(group, OFFSETS_PARTITIONS)]["leader"]
    assert answers[4] == (owner, *cluster.expected_brokers()[owner]), (answers, owner)

    topic = create_topic(cluster, 4, 6, 1, "grp")
    helpers.ck_produce(cluster.bootstrap(), topic, helpers.make_records(600, "grp", 6), timeout=30)

    def consumer(via):
        return Consumer(helpers.ck_conf(cluster.brokers[via].bootstrap, **{
            "group.id": group, "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 100}))

    members = {"a": consumer(4), "b": consumer(6)}
    for c in members.values():
        c.subscribe([topic])
    seen: set[tuple[int, int]] = set()
    t0 = time.monotonic()

    def settled():
        """Everything read, 3 partitions each, and each owned partition at the end: read to 100 by its
        owner, or committed at 100 before the owner got it (librdkafka reports no position for a
        partition it has not read a message from since the assignment)."""
        if len(seen) < 600:
            return False
        for c in members.values():
            a = c.assignment()
            if len(a) != 3:
                return False
            positions = {tp.partition: tp.offset for tp in c.position(a)}
            behind = [tp for tp in a if positions[tp.partition] != 100]
            if behind and any(tp.offset != 100 for tp in c.committed(behind, timeout=10)):
                return False
        return True

    try:
        while not settled():
            assert time.monotonic() - t0 < 60, \
                f"read {len(seen)}/600, assignments {[len(c.assignment()) for c in members.values()]}"
            for c in members.values():
                msgs = c.consume(num_messages=500, timeout=0.2)
                for m in msgs:
                    assert m.error() is None, m.error()
                    seen.add((m.partition(), m.offset()))
                if msgs:
                    try:
                        c.commit(asynchronous=False)
                    except KafkaException:
                        pass  # a rebalance in between: the next owner reads from the last commit
        note("group of 2 (bootstrap brokers 4 and 6) read 600 and split 3/3 s", round(time.monotonic() - t0, 2))
        assert sorted(tp.partition for c in members.values() for tp in c.assignment()) == list(range(6))
    finally:
        for c in members.values():
            c.close()
    # committed offsets, asked through broker 5
    admin = helpers.ck_admin(cluster.brokers[5].bootstrap)
    req = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(6)])
    got = admin.list_consumer_group_offsets([req])[group].result(30)
    assert {tp.partition: tp.offset for tp in got.topic_partitions} == {p: 100 for p in range(6)}
    listed = admin.list_consumer_groups(request_timeout=15).result(30)
    assert group in [g.group_id for g in listed.valid], listed.valid
    # a new member through broker 5 resumes after the commits
    helpers.ck_produce(cluster.bootstrap(), topic, helpers.make_records(60, "grp2", 6), timeout=30)
    c = consumer(5)
    c.subscribe([topic])
    more = []
    try:
        t0 = time.monotonic()
        while len(more) < 60 and time.monotonic() - t0 < 30:
            more += [(m.partition(), m.offset()) for m in c.consume(num_messages=100, timeout=0.3) if m.error() is None]
        more += [(m.partition(), m.offset()) for m in c.consume(num_messages=100, timeout=0.5) if m.error() is None]
    finally:
        c.close()
    assert sorted(more) == [(p, o) for p in range(6) for o in range(100, 110)], more


# =========================================================================== bad config
@pytest.mark.timeout(30)
def test_broker_role_without_voters_is_refused(tmp_path):
    port = brokerproc.free_port()
    cmd = [str(brokerproc.martlet_bin()), "server", "--override", "process.roles=broker",
           "--override", "node.id=4", "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
           "--override", "controller.listener.names=CONTROLLER", "--override", f"log.dirs={tmp_path}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    out = (p.stdout + p.stderr).strip()
    assert p.returncode == 2, f"exit {p.returncode}: {out[-1500:]}"
    assert len(out.splitlines()) == 1 and "controller.quorum.voters" in out, out


# =========================================================================== faults
def leaders_of(parts: dict[int, dict], broker: int) -> list[int]:
    return [p for p, v in parts.items() if v["leader"] == broker]


@pytest.mark.timeout(150)
def test_kill_broker_is_fenced_then_rejoins(fault_cluster):
    c = fault_cluster
    rf3 = create_topic(c, 4, 6, 3, "k3")
    rf1 = create_topic(c, 4, 3, 1, "k1")
    before3, before1 = partitions_of(c, 4, rf3), partitions_of(c, 4, rf1)
    victim = next((b for b in BROKER_IDS if leaders_of(before3, b) and leaders_of(before1, b)), None)
    assert victim, f"no broker leads both an RF 3 and an RF 1 partition: {view(before3)} {view(before1)}"
    survivors = [b for b in BROKER_IDS if b != victim]
    led3, led1 = leaders_of(before3, victim), leaders_of(before1, victim)

    t0 = time.monotonic()
    c.brokers[victim].kill()
    t_unlisted: dict[int, float] = {}
    t_leaders = t_offline = None
    offline_seen: dict[int, list[int]] = {}
    last = None
    while not (len(t_unlisted) == 2 and t_leaders and t_offline):
        assert time.monotonic() - t0 < 20, (f"20 s after kill -9 of {victim}: unlisted on {t_unlisted}, "
                                            f"new leaders {t_leaders}, offline {t_offline}; last {last}")
        for s in survivors:
            md = c.metadata(s, [rf3, rf1])
            if victim not in md["brokers"] and s not in t_unlisted:
                t_unlisted[s] = time.monotonic() - t0
            if s != survivors[0]:
                continue
            p3, p1 = md["topics"][rf3]["partitions"], md["topics"][rf1]["partitions"]
            last = (view(p3), view(p1))
            if t_leaders is None and all(p3[p]["leader"] in survivors for p in led3):
                t_leaders = time.monotonic() - t0
                after3 = p3
                offline_seen = {p: p3[p]["offline"] for p in p3}
            if t_offline is None and all(p1[p]["leader"] == -1 for p in led1):
                t_offline = time.monotonic() - t0
                after1 = p1
        time.sleep(0.02)
    note(f"kill -9 broker: unlisted after s (session {SESSION_MS} ms)", {s: round(t, 2) for s, t in t_unlisted.items()})
    note("kill -9 broker: its RF 3 partitions led elsewhere after s", round(t_leaders, 2))
    note("kill -9 broker: its RF 1 partitions offline after s", round(t_offline, 2))
    assert min(t_unlisted.values()) >= (SESSION_MS - HEARTBEAT_MS) / 1000 - 0.5, \
        f"unlisted {t_unlisted} s after the kill: before the session timeout of {SESSION_MS} ms"
    assert max(t_unlisted.values()) <= SESSION_MS / 1000 + 3, t_unlisted
    for p in led3:
        v = after3[p]
        assert v["leader"] in survivors and v["leader_epoch"] > before3[p]["leader_epoch"], (p, before3[p], v)
        assert v["replicas"] == before3[p]["replicas"], (p, v)
        assert victim not in v["isr"] and sorted(v["isr"]) == survivors, (p, v)
    for p in led1:
        assert after1[p]["error_code"] == cp.LEADER_NOT_AVAILABLE, (p, after1[p])
    for p, v in before1.items():
        if p not in led1:
            assert partitions_of(c, survivors[0], rf1)[p]["leader"] == v["leader"]
    # the new leader of an RF 3 partition takes writes (acks=1)
    p = led3[0]
    new_leader = after3[p]["leader"]
    assert cp.produce_v3(c.brokers[new_leader].port, rf3, p, [(b"k", b"after")], acks=1)["error_code"] == 0

    # restart: re-registers, unfenced, listed again; its RF 1 partitions come back under it
    t1 = time.monotonic()
    c.brokers[victim].start(timeout=30)
    c.wait_listed(set(BROKER_IDS), on=list(BROKER_IDS), timeout=20)
    note("restarted broker listed by every broker after s (incl. process start)", round(time.monotonic() - t1, 2))
    deadline = time.monotonic() + 10
    while True:
        p1 = partitions_of(c, survivors[0], rf1)
        if all(p1[p]["leader"] == victim for p in led1):
            break
        assert time.monotonic() < deadline, f"RF 1 partitions {led1} not led by {victim} again: {view(p1)}"
        time.sleep(0.05)
    note("restarted broker leads its RF 1 partitions again after s", round(time.monotonic() - t1, 2))
    for p in led1:
        assert p1[p]["leader_epoch"] > before1[p]["leader_epoch"], (p, before1[p], p1[p])
    # a new broker epoch: a second RegisterBrokerRecord in the controllers' metadata log
    regs = [(o, e) for o, b, e in cp.broker_registrations(c.controllers[1].data_dir) if b == victim]
    assert len(regs) >= 2 and regs[-1][1] > regs[0][1], f"registrations of {victim}: {regs}"
    # Kafka lists a fenced replica among a partition's offline replicas
    for p in led3:
        assert victim in offline_seen.get(p, []), (p, offline_seen)


@pytest.mark.timeout(120)
def test_sigterm_is_a_controlled_shutdown(fault_cluster):
    c = fault_cluster
    rf3 = create_topic(c, 4, 6, 3, "s3")
    rf1 = create_topic(c, 4, 3, 1, "s1")
    before3, before1 = partitions_of(c, 4, rf3), partitions_of(c, 4, rf1)
    victim = next((b for b in BROKER_IDS if leaders_of(before3, b) and leaders_of(before1, b)), None)
    assert victim, f"no broker leads both an RF 3 and an RF 1 partition: {view(before3)} {view(before1)}"
    observer = next(b for b in BROKER_IDS if b != victim)
    led3, led1 = leaders_of(before3, victim), leaders_of(before1, victim)
    proc = c.brokers[victim]

    t0 = time.monotonic()
    proc._signal(signal.SIGTERM)
    t_moved = t_unlisted = t_exit = None
    last = None
    while not (t_exit and t_moved and t_unlisted):
        now = time.monotonic() - t0
        assert now < 20, (f"20 s after SIGTERM of {victim}: exit {t_exit}, leadership moved {t_moved}, "
                          f"unlisted {t_unlisted}; last {last}")
        if t_exit is None and proc.proc.poll() is not None:
            t_exit = now
        md = c.metadata(observer, [rf3, rf1])
        p3 = md["topics"][rf3]["partitions"]
        last = view(p3)
        if t_moved is None and not leaders_of(p3, victim):
            t_moved, after3 = now, p3
        if t_unlisted is None and victim not in md["brokers"]:
            t_unlisted = now
        time.sleep(0.02)
    rc = proc.proc.returncode
    note("SIGTERM broker: leadership moved / unlisted / exited after s",
         (round(t_moved, 2), round(t_unlisted, 2), round(t_exit, 2)))
    assert rc == 0, f"exit code {rc} after SIGTERM"
    assert t_exit < 10, f"controlled shutdown took {t_exit:.1f} s"
    assert t_moved <= t_exit + 0.5, f"leadership moved {t_moved:.2f} s, exit {t_exit:.2f} s: not before the exit"
    assert t_unlisted <= t_exit + 1.0, \
        f"unlisted {t_unlisted:.2f} s after SIGTERM, exit {t_exit:.2f} s: fenced by the session timeout, not the shutdown"
    for p in led3:
        v = after3[p]
        assert v["leader"] != victim and v["leader_epoch"] > before3[p]["leader_epoch"], (p, before3[p], v)
    final3 = partitions_of(c, observer, rf3)
    assert all(victim not in v["isr"] for v in final3.values()), view(final3)
    final1 = partitions_of(c, observer, rf1)
    for p in led1:
        assert final1[p]["leader"] == -1 and final1[p]["error_code"] == cp.LEADER_NOT_AVAILABLE, (p, final1[p])
    # back again
    t1 = time.monotonic()
    proc.start(timeout=30)
    c.wait_listed(set(BROKER_IDS), on=list(BROKER_IDS), timeout=20)
    note("broker restarted after a controlled shutdown listed after s", round(time.monotonic() - t1, 2))


@pytest.mark.timeout(120)
def test_kill_active_controller_brokers_keep_serving(fault_cluster):
    c = fault_cluster
    topic = create_topic(c, 4, 3, 1, "ctl")
    first = helpers.make_records(100, "ctl-a", 3)
    helpers.ck_produce(c.bootstrap(), topic, first, timeout=20)
    active, epoch = c.active_controller(timeout=5)

    t0 = time.monotonic()
    c.controllers[active].kill()
    # produce and fetch go on while the controllers elect
    second = helpers.make_records(300, "ctl-b", 3)
    helpers.ck_produce(c.bootstrap(), topic, second, timeout=10)
    t_produced = time.monotonic() - t0
    for p, v in partitions_of(c, 5, topic).items():
        got = cp.fetch_v4(c.brokers[v["leader"]].port, topic, p)
        assert got["error_code"] == 0 and got["high_watermark"] == 400 // 3 + (p < 400 % 3), (p, got)
    t_fetched = time.monotonic() - t0
    # a consumer without a group (a group would need __consumer_offsets, which needs a controller)
    helpers.verify_roundtrip(first + second, helpers.kp_consume(c.bootstrap(), topic, 3, 400, timeout=10))
    t_consumed = time.monotonic() - t0
    note("controller kill -9: 300 records produced / raw fetch at each leader / all read back (kafka-python) after s",
         (round(t_produced, 2), round(t_fetched, 2), round(t_consumed, 2)))
    # Admin requests work again once a new controller is active (CreateTopics through broker 4, retried
    # in a thread); meanwhile: when a new controller is elected, when every broker follows it (it lists
    # them as observers in DescribeQuorum), and that no broker is ever missing from Metadata.
    new_topic = helpers.topic_name("after")
    codes: list = []
    t_admin: list[float] = []

    def create_until_answered():
        while time.monotonic() - t0 < 30:
            try:
                (t,) = kw.parse_create_topics_v2(cp.call(c.brokers[4].port, kw.API_CREATE_TOPICS, 2,
                                                         kw.create_topics_v2([(new_topic, 3, 1)], timeout_ms=3000),
                                                         timeout=10))["topics"]
                codes.append(t["error_code"])
                if t["error_code"] in (0, kw.TOPIC_ALREADY_EXISTS):
                    t_admin.append(time.monotonic() - t0)
                    return
            except (OSError, kw.Closed) as e:
                codes.append(repr(e))
            time.sleep(0.1)

    admin = threading.Thread(target=create_until_answered, daemon=True)
    admin.start()
    unlisted: list = []
    t_elected = t_followed = t_visible = None
    new_active = new_epoch = None
    while t_followed is None or t_visible is None or admin.is_alive():
        elapsed = time.monotonic() - t0
        assert elapsed < 30, (f"30 s after kill -9 of controller {active}: elected {t_elected}, brokers follow "
                              f"it {t_followed}, CreateTopics answered {t_admin} (answers {codes}), topic on "
                              f"every broker {t_visible}")
        for i in BROKER_IDS:
            listed = c.listed(i)
            if listed is not None and set(listed) != set(BROKER_IDS):
                unlisted.append((round(elapsed, 2), i, sorted(listed)))
        if new_active is None:
            for i, ctl in c.controllers.items():
                q = cp.describe_quorum_v0(ctl.port, timeout=0.5) if i != active else None
                if q and q.get("error_code") == 0 and q["leader"] == i:
                    new_active, new_epoch, t_elected = i, q["epoch"], elapsed
        elif t_followed is None:
            q = cp.describe_quorum_v0(c.controllers[new_active].port, timeout=0.5)
            if q and q.get("error_code") == 0 and set(BROKER_IDS) <= set(q.get("observers", {})):
                t_followed = elapsed
        if t_admin and t_visible is None:
            if all((t := c.metadata(i, [new_topic])["topics"].get(new_topic)) and t["error_code"] == 0
                   for i in BROKER_IDS):
                t_visible = elapsed
        time.sleep(0.05)
    note("controller kill -9: new controller elected / brokers follow it / CreateTopics through a broker "
         "answered / its topic on every broker, after s",
         tuple(round(x, 2) for x in (t_elected, t_followed, t_admin[0], t_visible)))
    note("controller kill -9: CreateTopics answers while no controller", Counter(map(str, codes)))
    assert new_active != active and new_epoch > epoch
    assert t_admin[0] <= 10, f"admin back after {t_admin[0]:.1f} s"
    assert not unlisted, f"brokers missing from Metadata during the controller failover: {unlisted[:5]}"
    assert t_visible <= t_admin[0] + 1.0, f"topic on every broker {t_visible:.2f} s, answered {t_admin[0]:.2f} s"
    assert t_followed <= t_elected + 3, \
        f"brokers follow the new controller {t_followed:.2f} s after the kill, {t_followed - t_elected:.2f} s after its election"
    q = kp_cli(c.brokers[5].bootstrap, "cluster", "describe-quorum")
    assert q["topics"][0]["partitions"][0]["leader_id"] == new_active, q
    third = helpers.make_records(60, "ctl-c", 3)
    helpers.ck_produce(c.bootstrap(), new_topic, third, timeout=20)
    helpers.verify_roundtrip(third, helpers.ck_consume_all(c.bootstrap(), new_topic, 3, timeout=20))


@pytest.mark.timeout(120)
def test_brokers_started_before_the_controllers():
    """Brokers wait for the quorum: started 3 s before any controller, they stay up, then register
    and are listed once the controllers have elected a leader."""
    c = cp.Cluster(session_dir() / "cluster-brokers-first", controllers=3, brokers=3,
                   controller_overrides=CONTROLLER_OVERRIDES, broker_overrides=BROKER_OVERRIDES,
                   broker_ids=list(BROKER_IDS))
    conftest._BROKERS.extend(c.processes())
    try:
        for b in c.brokers.values():
            b.start(wait=False)
        time.sleep(3)
        assert all(b.alive() for b in c.brokers.values()), \
            {b.name: b.log_tail(5) for b in c.brokers.values() if not b.alive()}
        t0 = time.monotonic()
        for ctl in c.controllers.values():
            ctl.start(wait=False)
        c.wait_listed(set(BROKER_IDS), timeout=30)
        note("brokers started first: all listed after the controllers started s", round(time.monotonic() - t0, 2))
        topic = create_topic(c, 5, 3, 1, "late")
        assert {v["leader"] for v in partitions_of(c, 4, topic).values()} == set(BROKER_IDS)
    except BaseException:
        print("\n".join(f"--- {t}\n{x}" for t, x in c.log_sections()))
        raise
    finally:
        c.stop(grace=5)


@pytest.mark.timeout(150)
def test_whole_cluster_restart_keeps_topics_and_records(fault_cluster):
    """SIGTERM to every broker, then every controller (all exit 0); started again on the same dirs:
    the topics are there with the same replicas, every partition is led again, the records of the RF 1
    topic read back and appends continue at the end; each broker registered again with a new epoch."""
    c = fault_cluster
    rf1 = create_topic(c, 4, 3, 1, "r1")
    rf3 = create_topic(c, 5, 6, 3, "r3")
    recs = helpers.make_records(300, "restart", 3)
    helpers.ck_produce(c.bootstrap(), rf1, recs, timeout=20)
    before1, before3 = partitions_of(c, 4, rf1), partitions_of(c, 4, rf3)
    codes = c.stop()
    assert all(rc == 0 for rc in codes.values()), codes
    t0 = time.monotonic()
    c.start(timeout=60)
    note("whole-cluster restart: every broker listed after s", round(time.monotonic() - t0, 2))
    c.wait_topic(rf1, 3, timeout=15)
    c.wait_topic(rf3, 6, timeout=15)
    note("whole-cluster restart: every partition led after s", round(time.monotonic() - t0, 2))
    for topic, before in ((rf1, before1), (rf3, before3)):
        after = partitions_of(c, 6, topic)
        assert {p: v["replicas"] for p, v in after.items()} == {p: v["replicas"] for p, v in before.items()}
        assert all(v["leader_epoch"] >= before[p]["leader_epoch"] for p, v in after.items())
    helpers.verify_roundtrip(recs, helpers.ck_consume_all(c.bootstrap(), rf1, 3, timeout=20))
    acked = helpers.ck_produce(c.bootstrap(), rf1, [helpers.Rec(p, b"k", b"again", [], int(time.time() * 1000))
                                                    for p in range(3)], timeout=20)
    assert sorted(acked) == [(p, 100) for p in range(3)], acked
    regs = cp.broker_registrations(c.controllers[1].data_dir)
    for b in BROKER_IDS:
        epochs = [e for _, i, e in regs if i == b]
        assert len(epochs) >= 2 and epochs == sorted(set(epochs)), (b, regs)


@pytest.mark.timeout(120)
def test_duplicate_id_and_foreign_cluster_are_not_registered(fault_cluster):
    """A second process with broker 4's id (while 4 heartbeats) and a broker with another cluster.id:
    neither is ever listed, broker 4 keeps its registration (same port) and its partitions, and the
    controllers' log holds no registration from either."""
    c = fault_cluster
    topic = create_topic(c, 4, 3, 1, "imp")
    dup = c.extra_broker(4, "broker-4-duplicate")
    foreign = c.extra_broker(7, "broker-7-foreign", {"cluster.id": "x5dUHOCXSRWaHsOmPzXhPg"})
    conftest._BROKERS.extend([dup, foreign])
    regs_before = cp.broker_registrations(c.controllers[1].data_dir)
    dup.start(wait=False)
    foreign.start(wait=False)
    t0 = time.monotonic()
    while time.monotonic() - t0 < SESSION_MS / 1000 + 2:
        for i in BROKER_IDS:
            assert c.listed(i) == c.expected_brokers(), \
                f"{time.monotonic() - t0:.2f} s after the impostors started, broker {i} lists {c.listed(i)}"
        time.sleep(0.1)
    p4 = next(p for p, v in partitions_of(c, 5, topic).items() if v["leader"] == 4)
    assert cp.produce_v3(c.brokers[4].port, topic, p4, [(b"k", b"still 4")], acks=-1)["error_code"] == 0
    regs = cp.broker_registrations(c.controllers[1].data_dir)
    assert regs == regs_before, f"registrations before {regs_before}, after {regs}"
    note("impostors: duplicate id alive / foreign cluster alive after the wait", (dup.alive(), foreign.alive()))
    # Neither serves the partitions of broker 4: a Kafka broker that never registered never gets past
    # start-up (its request handling starts once it is caught up and unfenced).
    for imp in (dup, foreign):
        try:
            got = cp.produce_v3(imp.port, topic, p4, [(b"k", f"into {imp.name}".encode())], acks=1)
        except (OSError, kw.Closed) as e:
            got = repr(e)
        assert not (isinstance(got, dict) and got["error_code"] == 0), \
            f"{imp.name} (never registered) accepted a write to {topic}-{p4}: {got}"
