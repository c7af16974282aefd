"""Fixed inputs shared by the client scenarios (so fixtures are reproducible
and the manifest's "expect" values can be cross-checked against them)."""

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
RECORDS_PER_BATCH = 3
# 2023-11-14T22:13:20Z; every record gets an explicit CreateTime.
BASE_TS = 1_700_000_000_000
GROUP_SUFFIX = "group"


def topic_for(client: str) -> str:
    return f"martlet-{client}"


def batch_ts(codec: str) -> int:
    return BASE_TS + CODECS.index(codec) * 10_000


def records_for(client: str, codec: str):
    """[(key bytes, value bytes, [(header key str, header value bytes)], ts)]

    Values repeat text so every codec really shrinks them. Headers are the
    same for every record of a batch because kcat's -H cannot vary them.
    Record i has timestamp batch_ts(codec) + i*1000 (kcat cannot set
    per-record timestamps: its records all carry batch_ts(codec), the frozen
    clock of libfaketime)."""
    out = []
    for i in range(RECORDS_PER_BATCH):
        key = f"key-{codec}-{i}".encode()
        value = (f"value-{codec}-{i} " + "martlet golden fixture " * 4).strip()
        headers = [("h-codec", codec.encode()), ("h-client", client.encode())]
        out.append((key, value.encode(), headers, batch_ts(codec) + i * 1_000))
    return out


if __name__ == "__main__":
    # helpers for recapture.sh:
    #   scenario_common.py lines CLIENT CODEC  -> "key:value" lines for kcat -K:
    #   scenario_common.py ts CODEC             -> batch timestamp (ms)
    #   scenario_common.py faketime CODEC       -> same, as "YYYY-mm-dd HH:MM:SS" UTC
    #   scenario_common.py codecs               -> codec names
    import sys
    from datetime import datetime, timezone
    cmd = sys.argv[1]
    if cmd == "lines":
        for key, value, _, _ in records_for(sys.argv[2], sys.argv[3]):
            assert b":" not in key
            print(f"{key.decode()}:{value.decode()}")
    elif cmd == "ts":
        print(batch_ts(sys.argv[2]))
    elif cmd == "faketime":
        t = batch_ts(sys.argv[2])
        assert t % 1000 == 0
        print(datetime.fromtimestamp(t / 1000, timezone.utc)
              .strftime("%Y-%m-%d %H:%M:%S"))
    elif cmd == "codecs":
        print(" ".join(CODECS))
    elif cmd == "base":
        print(BASE_TS)
