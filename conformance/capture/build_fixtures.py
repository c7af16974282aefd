#!/usr/bin/env python3
"""Turn raw proxy captures into golden fixtures + manifest.json.

    build_fixtures.py --out Tests/ProtocolTests/Fixtures/wire \\
        --client kcat=/tmp/cap/kcat --client confluent-kafka=/tmp/cap/ck ... \\
        --meta meta.json

For each client: keeps requests in capture order (repeated polls capped, see
CAPS), writes NNN-<ApiName>-v<version>.request.bin / .response.bin, decodes
every kept request and response with the schema-driven decoder (a frame that
does not decode exactly to its last byte is an error) and records "expect"
values in manifest.json. Existing *.bin files in a client's folder are
removed first, so the folder always matches the manifest.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_decode import Decoder, Schemas, decode_batches, jsonable  # noqa

# max kept requests per (apiKey, apiVersion) per client; absent = keep all
# (a Fetch whose answer carries records is always kept)
CAPS = {1: 4,    # Fetch
        12: 3,   # Heartbeat
        3: 8,    # Metadata
        18: 4,   # ApiVersions
        2: 6,    # ListOffsets
        10: 4,   # FindCoordinator
        9: 4,    # OffsetFetch
        }


def camel(name):
    return name[:1].lower() + name[1:] if name else name


def camelize(obj):
    if isinstance(obj, dict):
        return {(camel(k) if not k.startswith("_") else k): camelize(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [camelize(v) for v in obj]
    return obj


def _strip_records(obj):
    """Replace raw bytes by a short description (records are summarised
    separately)."""
    return jsonable(obj)


def record_view(rec):
    return {"key": rec["key"], "value": rec["value"],
            "timestamp": rec["timestamp"], "offsetDelta": rec["offsetDelta"],
            "headers": rec["headers"]}


def batch_view(b):
    if "records" not in b:
        return b
    v = {k: b[k] for k in ("codec", "compressionFraming", "recordCount",
                           "baseOffset", "partitionLeaderEpoch", "attributes",
                           "lastOffsetDelta", "baseTimestamp", "maxTimestamp",
                           "producerId", "producerEpoch", "baseSequence",
                           "isTransactional", "isControl", "crcValid",
                           "batchLength", "compressedSize",
                           "recordsReencodeExact") if k in b}
    v["records"] = [record_view(r) for r in b["records"]]
    return v


def expect_produce(body):
    topics = []
    for t in body["TopicData"]:
        parts = []
        for p in t["PartitionData"]:
            batches = decode_batches(p["Records"]) if p["Records"] else []
            parts.append({"partition": p["Index"],
                          "recordsBytes": len(p["Records"] or b""),
                          "batches": [batch_view(b) for b in batches]})
        topics.append({"topic": t.get("Name") or t.get("TopicId"),
                       "partitions": parts})
    e = {"transactionalId": body.get("TransactionalId"), "acks": body["Acks"],
         "timeoutMs": body["TimeoutMs"]}
    # flattened view of the first batch (single topic/partition in practice)
    if topics and topics[0]["partitions"] and \
            topics[0]["partitions"][0]["batches"]:
        p0 = topics[0]["partitions"][0]
        b0 = p0["batches"][0]
        r0 = b0["records"][0]
        e.update({"topic": topics[0]["topic"], "partition": p0["partition"],
                  "codec": b0["codec"], "recordCount": b0["recordCount"],
                  "producerId": b0["producerId"],
                  "baseSequence": b0["baseSequence"],
                  "firstRecord": {
                      "key": r0["key"], "value": r0["value"],
                      "timestamp": r0["timestamp"],
                      "headerKey": r0["headers"][0]["key"]
                      if r0["headers"] else None,
                      "headers": r0["headers"]}})
    e["topics"] = topics
    return e


def _subscription(dec, meta):
    try:
        return camelize(jsonable(dec.decode_data(
            "ConsumerProtocolSubscription", meta)))
    except Exception as ex:  # non-consumer protocol
        return {"undecodable": str(ex), "bytes": len(meta)}


def _assignment(dec, data):
    if not data:
        return None
    try:
        return camelize(jsonable(dec.decode_data(
            "ConsumerProtocolAssignment", data)))
    except Exception as ex:
        return {"undecodable": str(ex), "bytes": len(data)}


def make_expect(dec, key, body):
    if key == 0:
        return expect_produce(body)
    if key == 11:  # JoinGroup
        e = camelize(jsonable({k: v for k, v in body.items()
                               if k != "Protocols"}))
        e["protocolNames"] = [p["Name"] for p in body["Protocols"]]
        if body.get("ProtocolType") == "consumer":
            e["subscriptions"] = {p["Name"]: _subscription(dec, p["Metadata"])
                                  for p in body["Protocols"]}
        return e
    if key == 14:  # SyncGroup
        e = camelize(jsonable({k: v for k, v in body.items()
                               if k != "Assignments"}))
        e["assignments"] = [{"memberId": a["MemberId"],
                             "assignment": _assignment(dec, a["Assignment"])}
                            for a in body["Assignments"]]
        return e
    e = camelize(jsonable(body))
    if key == 3:  # Metadata: add a flat list of requested names
        ts = body.get("Topics")
        e["requestedTopics"] = None if ts is None else \
            [t.get("Name") for t in ts]
    if key == 19:  # CreateTopics: flatten first topic
        t = body["Topics"][0]
        e.update({"name": t["Name"], "numPartitions": t["NumPartitions"],
                  "replicationFactor": t["ReplicationFactor"]})
    return e


def response_expect(dec, key, body):
    e = {}
    for k in ("ErrorCode", "ThrottleTimeMs", "SessionId", "GenerationId",
              "ProtocolName", "Leader", "MemberId", "ProducerId",
              "ProducerEpoch", "NodeId", "Host", "Port", "ClusterId",
              "ControllerId"):
        if k in body:
            e[camel(k)] = body[k]
    if key == 18:
        e["apiKeys"] = {str(a["ApiKey"]): [a["MinVersion"], a["MaxVersion"]]
                        for a in body["ApiKeys"]}
    if key == 3:
        e["topics"] = [{"name": t.get("Name"), "errorCode": t["ErrorCode"],
                        "partitions": len(t["Partitions"])}
                       for t in body["Topics"]]
        e["brokers"] = [{"nodeId": b["NodeId"], "host": b["Host"],
                         "port": b["Port"]} for b in body["Brokers"]]
    if key == 10 and "Coordinators" in body:
        e["coordinators"] = [{"key": c["Key"], "nodeId": c["NodeId"],
                              "host": c["Host"], "port": c["Port"],
                              "errorCode": c["ErrorCode"]}
                             for c in body["Coordinators"]]
    if key == 9:
        def parts(topics):
            return [{"topic": t["Name"], "partition": p["PartitionIndex"],
                     "committedOffset": p["CommittedOffset"],
                     "errorCode": p["ErrorCode"]}
                    for t in topics for p in t["Partitions"]]
        if "Groups" in body:
            e["groups"] = [{"groupId": g["GroupId"],
                            "errorCode": g["ErrorCode"],
                            "partitions": parts(g["Topics"])}
                           for g in body["Groups"]]
        else:
            e["partitions"] = parts(body["Topics"])
    if key == 1:
        rec = 0
        batches = []
        for t in body["Responses"]:
            for p in t["Partitions"]:
                for b in decode_batches(p["Records"] or b""):
                    rec += b.get("recordCount", 0)
                    batches.append({
                        "topic": t.get("Topic") or t.get("TopicId"),
                        "partition": p["PartitionIndex"],
                        **{k: b[k] for k in (
                            "baseOffset", "codec", "recordCount",
                            "crcValid", "recordsReencodeExact",
                            "truncated") if k in b}})
        e["recordCount"] = rec
        e["batches"] = batches
    if key in (0, 19, 2, 8):
        errs = []

        def walk(o):
            if isinstance(o, dict):
                if "ErrorCode" in o:
                    errs.append(o["ErrorCode"])
                for v in o.values():
                    walk(v)
            elif isinstance(o, list):
                for v in o:
                    walk(v)
        walk({k: v for k, v in body.items() if k != "ErrorCode"})
        e["nestedErrorCodes"] = errs
    return e


def fetch_has_records(dec, cap_dir, r, ver):
    """True when a Fetch answer carries record data (always kept)."""
    if not r:
        return False
    frame = open(os.path.join(cap_dir, r["response"]), "rb").read()
    _, body, _ = dec.decode_response(frame, 1, ver)
    return any(p.get("Records") for t in body["Responses"]
               for p in t["Partitions"])


def build_client(dec, schemas, client, cap_dir, out_root):
    out_dir = os.path.join(out_root, client)
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".bin"):
            os.remove(os.path.join(out_dir, f))
    index = [json.loads(l) for l in open(os.path.join(cap_dir, "index.jsonl"))]
    resp = {}
    rp = os.path.join(cap_dir, "responses.jsonl")
    if os.path.exists(rp):
        for l in open(rp):
            d = json.loads(l)
            resp[d["seq"]] = d
    counts = {}
    entries = []
    skipped = {}
    n = 0
    for e in index:
        key, ver = e["apiKey"], e["apiVersion"]
        if key is None:
            continue
        kv = (key, ver)
        counts[kv] = counts.get(kv, 0) + 1
        if key in CAPS and counts[kv] > CAPS[key] and \
                not (key == 1 and fetch_has_records(dec, cap_dir,
                                                    resp.get(e["seq"]),
                                                    ver)):
            name = f"{schemas.api_name(key)}-v{ver}"
            skipped[name] = skipped.get(name, 0) + 1
            continue
        n += 1
        frame = open(os.path.join(cap_dir, e["request"]), "rb").read()
        header, body, _ = dec.decode_request(frame)  # raises on bad frame
        req_rt = dec.encode_request(header, body) == frame
        api = schemas.api_name(key)
        stem = f"{n:03d}-{api}-v{ver}"
        shutil.copyfile(os.path.join(cap_dir, e["request"]),
                        os.path.join(out_dir, stem + ".request.bin"))
        ent = {"client": client, "file": f"{client}/{stem}.request.bin",
               "apiKey": key, "apiName": api, "apiVersion": ver,
               "correlationId": header["correlationId"],
               "clientId": header["clientId"],
               "requestHeaderVersion": header["headerVersion"],
               "size": len(frame),
               "sha256": hashlib.sha256(frame).hexdigest(),
               "captureSeq": e["seq"], "connection": e["conn"],
               "reencodeExact": req_rt,
               "expect": make_expect(dec, key, body)}
        r = resp.get(e["seq"])
        if r:
            rframe = open(os.path.join(cap_dir, r["response"]), "rb").read()
            rh, rbody, _ = dec.decode_response(rframe, key, ver)
            if rh["correlationId"] != header["correlationId"]:
                raise ValueError(f"{stem}: correlation id mismatch")
            shutil.copyfile(os.path.join(cap_dir, r["response"]),
                            os.path.join(out_dir, stem + ".response.bin"))
            ent["responseFile"] = f"{client}/{stem}.response.bin"
            ent["responseHeaderVersion"] = rh["headerVersion"]
            ent["responseSize"] = len(rframe)
            ent["responseSha256"] = hashlib.sha256(rframe).hexdigest()
            ent["responseReencodeExact"] = \
                dec.encode_response(rh, rbody, key, ver) == rframe
            ent["responseExpect"] = response_expect(dec, key, rbody)
            if r.get("rewritten"):
                ent["responseRewritten"] = (
                    "top-level tagged fields of the peer's ApiVersions "
                    "answer stripped by the proxy (librdkafka < 2.2 cannot "
                    "skip them); this is the frame the client received")
        else:
            ent["responseFile"] = None
            ent["noResponseReason"] = (
                "acks=0" if key == 0 and body.get("Acks") == 0 else
                "connection closed before an answer")
        entries.append(ent)
    return entries, skipped, len(index)


def portable(d):
    """A schema directory named without machine-specific prefixes."""
    d = d.replace(os.sep, "/")
    if "/site-packages/" in d:
        return "kafka-python:" + d.split("/site-packages/", 1)[1]
    if "/shared/" in d:
        return "shared/" + d.split("/shared/", 1)[1]
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--client", action="append", default=[],
                    help="name=capture_dir")
    ap.add_argument("--meta", help="JSON file with clients/peer info")
    args = ap.parse_args()
    schemas = Schemas()
    dec = Decoder(schemas)
    meta = json.load(open(args.meta)) if args.meta else {}
    manifest_path = os.path.join(args.out, "manifest.json")
    old = {}
    if os.path.exists(manifest_path):
        try:
            old = json.load(open(manifest_path))
        except ValueError:
            old = {}
    entries = [e for e in old.get("entries", [])]
    clients = dict(old.get("clients", {}))
    for spec in args.client:
        name, cap = spec.split("=", 1)
        ents, skipped, total = build_client(dec, schemas, name, cap, args.out)
        entries = [e for e in entries if e["client"] != name] + ents
        info = dict(meta.get("clients", {}).get(name, {}))
        info.update({"capturedRequests": total, "keptRequests": len(ents),
                     "skippedRepeats": skipped,
                     "apis": sorted({f"{e['apiName']} v{e['apiVersion']}"
                                     for e in ents})})
        clients[name] = info
        print(f"{name}: kept {len(ents)} of {total} requests "
              f"(skipped {skipped})", file=sys.stderr)
    order = {c: i for i, c in enumerate(["kcat", "confluent-kafka",
                                          "kafka-python"])}
    entries.sort(key=lambda e: (order.get(e["client"], 99), e["file"]))
    manifest = {
        "description": "Raw Kafka request/response frames sent by stock "
                       "clients, captured by conformance/capture/"
                       "record_proxy.py. Each .bin file is one full frame "
                       "including its 4-byte size prefix. See "
                       "conformance/capture/README.md.",
        "peer": meta.get("peer", old.get("peer")),
        "schemaSources": [portable(d) for d in schemas.dirs],
        "clients": clients,
        "entries": entries,
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
