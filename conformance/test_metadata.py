"""Metadata lists the broker, for every client."""
import asyncio
import json
import shutil
import subprocess
import sys

import pytest

import helpers
import kafka_wire as kw
from helpers import xfail_tansu


def _expect(broker):
    return (broker.node_id, broker.host, broker.port)


def test_kcat_metadata(broker):
    topic = helpers.topic_name("md-kcat")
    helpers.ck_create_topic(broker.bootstrap, topic, 3)
    p = helpers.kcat(broker.bootstrap, "-L", "-J", "-m", "15", timeout=30)
    md = json.loads(p.stdout)
    assert {"id": broker.node_id, "name": broker.bootstrap} in md["brokers"], md["brokers"]
    assert md["controllerid"] == broker.node_id
    t = [t for t in md["topics"] if t["topic"] == topic]
    assert t and len(t[0]["partitions"]) == 3
    for part in t[0]["partitions"]:
        assert part["leader"] == broker.node_id
        assert part["replicas"] == [{"id": broker.node_id}]
        assert part["isrs"] == [{"id": broker.node_id}]


@xfail_tansu("Debian's librdkafka 2.0.2 (kcat 1.7.1) cannot parse Tansu 0.6's ApiVersions v3 answer "
             "(non-empty tagged fields; librdkafka < 2.2 bug, PITFALLS.md): 'Read underflow'")
def test_kcat_debian_librdkafka(broker):
    """kcat with the system librdkafka (2.0.2): the oldest client we promise to serve."""
    p = helpers.kcat(broker.bootstrap, "-L", "-J", "-m", "5", timeout=30, system_lib=True, check=False)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-1500:]
    md = json.loads(p.stdout)
    assert {"id": broker.node_id, "name": broker.bootstrap} in md["brokers"]
    assert b"Read underflow" not in p.stderr


def test_confluent_list_topics(broker):
    topic = helpers.topic_name("md-ck")
    helpers.ck_create_topic(broker.bootstrap, topic, 2)
    md = helpers.ck_admin(broker.bootstrap).list_topics(timeout=15)
    b = md.brokers[broker.node_id]
    assert (b.id, b.host, b.port) == _expect(broker)
    assert md.controller_id == broker.node_id
    t = md.topics[topic]
    assert t.error is None and sorted(t.partitions) == [0, 1]
    assert all(p.leader == broker.node_id and p.replicas == [broker.node_id] and p.isrs == [broker.node_id]
               for p in t.partitions.values())


def test_confluent_describe_cluster(broker):
    admin = helpers.ck_admin(broker.bootstrap)  # keep it alive until the future resolves
    cl = admin.describe_cluster(request_timeout=15).result(20)
    assert [(n.id, n.host, n.port) for n in cl.nodes] == [_expect(broker)]
    assert cl.controller.id == broker.node_id


def test_kafka_python_admin(broker):
    from kafka.admin import KafkaAdminClient
    topic = helpers.topic_name("md-kp")
    helpers.ck_create_topic(broker.bootstrap, topic, 1)
    a = KafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="martlet-conformance-kp")
    try:
        cl = a.describe_cluster()
        assert [(b["broker_id"], b["host"], b["port"]) for b in cl["brokers"]] == [_expect(broker)]
        assert cl["controller_id"] == broker.node_id
        assert topic in a.list_topics()
    finally:
        a.close()


def _kp_cli(broker, *args):
    """`kafka-python admin -b HOST:PORT --format json ...` (the console script of the installed
    kafka-python; `python -m kafka.admin` when the script is not on PATH)."""
    script = shutil.which("kafka-python")
    base = [script, "admin"] if script else [sys.executable, "-m", "kafka.admin"]
    cmd = [*base, "-b", broker.bootstrap, "--format", "json", *args]
    p = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, f"{' '.join(cmd)}: {p.stderr.decode(errors='replace')[-1500:]}"
    return json.loads(p.stdout)


def test_kafka_python_cli(broker):
    """`kafka-python admin -b HOST:PORT topics list` and `cluster describe`."""
    topic = helpers.topic_name("md-kpcli")
    helpers.ck_create_topic(broker.bootstrap, topic, 1)
    topics = _kp_cli(broker, "topics", "list")
    names = [t if isinstance(t, str) else t.get("name", t.get("topic")) for t in topics]
    assert topic in names, topics
    cl = _kp_cli(broker, "cluster", "describe")
    assert [(b["broker_id"], b["host"], b["port"]) for b in cl["brokers"]] == [_expect(broker)]


def test_aiokafka(broker):
    from aiokafka.admin import AIOKafkaAdminClient
    topic = helpers.topic_name("md-ak")
    helpers.ck_create_topic(broker.bootstrap, topic, 2)

    async def go():
        a = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap, client_id="martlet-conformance-ak")
        await a.start()
        try:
            cl = await a.describe_cluster()
            topics = await a.list_topics()
            return cl, topics
        finally:
            await a.close()

    cl, topics = asyncio.run(asyncio.wait_for(go(), 60))
    assert [(b["node_id"], b["host"], b["port"]) for b in cl["brokers"]] == [_expect(broker)]
    assert cl["controller_id"] == broker.node_id
    assert topic in topics


def test_metadata_unknown_topic(broker):
    """Metadata v4 for a topic nobody created, allow_auto_topic_creation=false:
    UNKNOWN_TOPIC_OR_PARTITION (3), and the topic is not created."""
    topic = helpers.topic_name("md-missing")
    with kw.Conn(broker.host, broker.port) as c:
        md = kw.parse_metadata_v4(c.call(kw.API_METADATA, 4, kw.metadata_v4([topic], False)))
        assert md["brokers"] == [(broker.node_id, broker.host, broker.port, None)]
        assert [(t["name"], t["error_code"]) for t in md["topics"]] == [(topic, kw.UNKNOWN_TOPIC_OR_PARTITION)]
        md = kw.parse_metadata_v4(c.call(kw.API_METADATA, 4, kw.metadata_v4(None)))
        assert topic not in [t["name"] for t in md["topics"]]
