"""Records round-trip with keys, headers and timestamps intact, every client, every codec.

- 100,000 records once per client (one codec each, so all five codecs are covered between the
  big runs and the matrix);
- 5,000 records per (client, codec).
kcat cannot set per-record timestamps or headers: its records carry fixed headers and the
producer's wall-clock CreateTime, which is what is checked for it.
"""
import pytest

import helpers
from helpers import CLIENTS, CODECS, RESULTS, roundtrip

BIG_CODEC = {"kcat": "gzip", "confluent-kafka": "zstd", "kafka-python": "lz4", "aiokafka": "snappy"}


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("client", CLIENTS)
def test_roundtrip_100k(broker, client):
    codec = BIG_CODEC[client]
    r = roundtrip(client, broker.bootstrap, 100_000, codec, tag=f"big-{client}", timeout=240)
    RESULTS[f"100k round trip {client}/{codec} produce s, consume s"] = (r["produce_s"], r["consume_s"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("client", CLIENTS)
def test_roundtrip_codec(broker, client, codec):
    roundtrip(client, broker.bootstrap, 5_000, codec, tag=f"{client}-{codec}", timeout=90)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("producer,consumer", [("kafka-python", "confluent-kafka"),
                                               ("aiokafka", "kafka-python"),
                                               ("confluent-kafka", "aiokafka")])
def test_cross_client(broker, producer, consumer):
    """What one client writes, another reads identically (catches a broker that only echoes)."""
    topic = helpers.topic_name(f"x-{producer}-{consumer}")
    helpers.ck_create_topic(broker.bootstrap, topic, 2)
    recs = helpers.make_records(3_000, f"x-{producer}", 2)
    helpers.PRODUCE[producer](broker.bootstrap, topic, recs, "lz4")
    got = helpers.CONSUME[consumer](broker.bootstrap, topic, 2, len(recs))
    helpers.verify_roundtrip(recs, got)
