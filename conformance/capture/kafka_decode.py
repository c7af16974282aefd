"""Schema-driven Kafka request/response decoder (Python, test tooling only).

Reads Apache Kafka's message JSON schemas (the `message/` and `client-4.3/`
folders of shared/kafka-protocol, or kafka-python's vendored copy) and decodes
any request or response body at any version, including flexible versions and
tagged fields. Also decodes RecordBatch v2 (magic 2) with all five codecs and
checks its CRC-32C. Used by build_fixtures.py to derive the manifest's
"expect" values and to verify that every captured frame parses exactly to its
last byte.
"""
from __future__ import annotations

import glob
import gzip
import json
import os
import re
import struct
import uuid as uuidlib
import zlib

# --------------------------------------------------------------------------
# schema loading


def _strip_comments(text: str) -> str:
    return "\n".join(l for l in text.splitlines()
                     if not l.lstrip().startswith("//"))


def _parse_versions(spec):
    """'0+', '1-3', '3', 'none' -> (lo, hi) or None"""
    if spec is None or spec == "none":
        return None
    spec = spec.strip()
    if spec.endswith("+"):
        return int(spec[:-1]), 1 << 30
    if "-" in spec:
        a, b = spec.split("-")
        return int(a), int(b)
    return int(spec), int(spec)


def _in(spec, v):
    r = _parse_versions(spec) if not isinstance(spec, tuple) else spec
    return r is not None and r[0] <= v <= r[1]


def default_schema_dirs():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    cands = []
    env = os.environ.get("MARTLET_KAFKA_SCHEMAS")
    if env:
        cands.append(env)
    for base in (os.path.join(os.path.dirname(repo), "shared", "kafka-protocol"),
                 "/work/shared/kafka-protocol"):
        cands += [os.path.join(base, "message"), os.path.join(base, "client-4.3")]
    try:
        import kafka  # kafka-python vendors Kafka 4.3 JSON
        cands.append(os.path.join(os.path.dirname(kafka.__file__), "protocol",
                                  "schemas", "resources"))
    except ImportError:
        pass
    out = []
    for d in cands:
        if os.path.isdir(d) and os.path.realpath(d) not in \
                [os.path.realpath(o) for o in out]:
            out.append(d)
    return out


class Schemas:
    def __init__(self, dirs=None):
        self.dirs = dirs or default_schema_dirs()
        if not self.dirs:
            raise RuntimeError("no Kafka message schema directory found; set "
                               "MARTLET_KAFKA_SCHEMAS")
        # (apiKey, 'request'|'response') -> [schema, ...] in dir order
        self.by_key: dict = {}
        self.names: dict = {}
        self.data: dict = {}  # name -> schema of "type": "data" messages
        for d in self.dirs:
            for path in sorted(glob.glob(os.path.join(d, "*.json"))):
                try:
                    s = json.loads(_strip_comments(open(path).read()))
                except ValueError:
                    continue
                s["_path"] = path
                if s.get("type") == "data" and "name" in s:
                    self.data.setdefault(s["name"], s)
                    continue
                if s.get("type") not in ("request", "response") or \
                        "apiKey" not in s:
                    continue
                self.by_key.setdefault((s["apiKey"], s["type"]), []).append(s)
                if s["type"] == "request":
                    self.names.setdefault(s["apiKey"],
                                          s["name"][:-len("Request")])

    def api_name(self, key):
        return self.names.get(key, f"Api{key}")

    def get(self, key, kind, version):
        for s in self.by_key.get((key, kind), []):
            if _in(s["validVersions"], version):
                return s
        raise KeyError(f"no {kind} schema for apiKey {key} v{version}")

    def is_flexible(self, key, version):
        return _in(self.get(key, "request", version)["flexibleVersions"],
                   version)


# --------------------------------------------------------------------------
# primitive reader


class Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.d = data
        self.p = pos

    def take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise ValueError(f"underflow: need {n} at {self.p}/{len(self.d)}")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def unpack(self, fmt):
        n = struct.calcsize(fmt)
        return struct.unpack(fmt, self.take(n))[0]

    def uvarint(self):
        shift = val = 0
        while True:
            b = self.take(1)[0]
            val |= (b & 0x7F) << shift
            if not b & 0x80:
                return val
            shift += 7
            if shift > 63:
                raise ValueError("uvarint too long")

    def varint(self):  # zig-zag
        v = self.uvarint()
        return (v >> 1) ^ -(v & 1)

    def remaining(self):
        return len(self.d) - self.p


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(n: int) -> bytes:  # zig-zag, 64-bit
    return uvarint((n << 1) ^ (n >> 63))


_PRIM = {"int8": ">b", "int16": ">h", "uint16": ">H", "int32": ">i",
         "uint32": ">I", "int64": ">q", "float64": ">d"}


class Decoder:
    def __init__(self, schemas: Schemas):
        self.schemas = schemas

    def _struct_fields(self, schema, field):
        if "fields" in field:
            return field["fields"]
        t = field["type"].lstrip("[]")
        for cs in schema.get("commonStructs", []):
            if cs["name"] == t:
                return cs["fields"]
        raise KeyError(f"unknown struct type {t}")

    def _read_value(self, r, schema, f, t, v, flex, nullable):
        if t in _PRIM:
            return r.unpack(_PRIM[t])
        if t == "bool":
            return r.take(1)[0] != 0
        if t == "uuid":
            return str(uuidlib.UUID(bytes=r.take(16)))
        if t == "string":
            n = (r.uvarint() - 1) if flex else r.unpack(">h")
            if n < 0:
                return None
            return r.take(n).decode("utf-8")
        if t in ("bytes", "records"):
            n = (r.uvarint() - 1) if flex else r.unpack(">i")
            if n < 0:
                return None
            return r.take(n)
        if t.startswith("[]"):
            n = (r.uvarint() - 1) if flex else r.unpack(">i")
            if n < 0:
                return None
            et = t[2:]
            if et in _PRIM or et in ("bool", "uuid", "string", "bytes",
                                     "records"):
                return [self._read_value(r, schema, f, et, v, flex, False)
                        for _ in range(n)]
            fields = self._struct_fields(schema, f)
            return [self._read_struct(r, schema, fields, v, flex)
                    for _ in range(n)]
        # a single (non-array) struct
        if nullable:
            if r.unpack(">b") < 0:
                return None
        return self._read_struct(r, schema, self._struct_fields(schema, f),
                                 v, flex)

    def _read_field(self, r, schema, f, v, flex):
        fflex = flex
        if "flexibleVersions" in f:
            fflex = _in(f["flexibleVersions"], v)
        nullable = _in(f.get("nullableVersions"), v)
        return self._read_value(r, schema, f, f["type"], v, fflex, nullable)

    def _read_struct(self, r, schema, fields, v, flex):
        out = {}
        tagged = {}
        for f in fields:
            if not _in(f.get("versions"), v):
                continue
            if flex and "tag" in f and _in(f.get("taggedVersions"), v):
                tagged[f["tag"]] = f
                continue
            out[f["name"]] = self._read_field(r, schema, f, v, flex)
        if flex:
            unknown = self._read_tags(r, schema, tagged, v, out)
            if unknown:
                out["_unknownTags"] = unknown
        return out

    def _read_tags(self, r, schema, tagged, v, out):
        unknown = {}
        n = r.uvarint()
        last = -1
        for _ in range(n):
            tag = r.uvarint()
            size = r.uvarint()
            if tag <= last:
                raise ValueError(f"tags out of order: {tag} after {last}")
            last = tag
            data = r.take(size)
            if tag in tagged:
                sub = Reader(data)
                out[tagged[tag]["name"]] = self._read_field(
                    sub, schema, tagged[tag], v, True)
                if sub.remaining():
                    raise ValueError(f"tag {tag}: {sub.remaining()} bytes left")
            else:
                unknown[str(tag)] = data.hex()
        return unknown

    # -- encoder (for the decode -> re-encode round-trip check) ------------
    def _write_value(self, w, schema, f, t, v, flex, nullable, val):
        if t in _PRIM:
            w.append(struct.pack(_PRIM[t], val))
        elif t == "bool":
            w.append(b"\x01" if val else b"\x00")
        elif t == "uuid":
            w.append(uuidlib.UUID(val).bytes)
        elif t in ("string", "bytes", "records"):
            if val is None:
                w.append(uvarint(0) if flex else
                         struct.pack(">h" if t == "string" else ">i", -1))
                return
            b = val.encode("utf-8") if t == "string" else val
            w.append(uvarint(len(b) + 1) if flex else
                     struct.pack(">h" if t == "string" else ">i", len(b)))
            w.append(b)
        elif t.startswith("[]"):
            if val is None:
                w.append(uvarint(0) if flex else struct.pack(">i", -1))
                return
            w.append(uvarint(len(val) + 1) if flex else
                     struct.pack(">i", len(val)))
            et = t[2:]
            if et in _PRIM or et in ("bool", "uuid", "string", "bytes",
                                     "records"):
                for x in val:
                    self._write_value(w, schema, f, et, v, flex, False, x)
            else:
                fields = self._struct_fields(schema, f)
                for x in val:
                    self._write_struct(w, schema, fields, v, flex, x)
        else:
            if nullable:
                if val is None:
                    w.append(b"\xff")
                    return
                w.append(b"\x01")
            self._write_struct(w, schema, self._struct_fields(schema, f), v,
                               flex, val)

    def _write_field(self, w, schema, f, v, flex, val):
        fflex = flex
        if "flexibleVersions" in f:
            fflex = _in(f["flexibleVersions"], v)
        nullable = _in(f.get("nullableVersions"), v)
        self._write_value(w, schema, f, f["type"], v, fflex, nullable, val)

    def _write_struct(self, w, schema, fields, v, flex, obj):
        tags = {}
        for f in fields:
            if not _in(f.get("versions"), v):
                continue
            if flex and "tag" in f and _in(f.get("taggedVersions"), v):
                if f["name"] in obj:
                    sub = []
                    self._write_field(sub, schema, f, v, True, obj[f["name"]])
                    tags[f["tag"]] = b"".join(sub)
                continue
            self._write_field(w, schema, f, v, flex, obj[f["name"]])
        if flex:
            for k, hx in obj.get("_unknownTags", {}).items():
                tags[int(k)] = bytes.fromhex(hx)
            w.append(uvarint(len(tags)))
            for tag in sorted(tags):
                w.append(uvarint(tag) + uvarint(len(tags[tag])) + tags[tag])

    def encode_request(self, header, body):
        schema = self.schemas.get(header["apiKey"], "request",
                                  header["apiVersion"])
        v = header["apiVersion"]
        flex = _in(schema["flexibleVersions"], v)
        w = [struct.pack(">hhi", header["apiKey"], v, header["correlationId"])]
        cid = header["clientId"]
        if cid is None:
            w.append(struct.pack(">h", -1))
        else:
            b = cid.encode()
            w.append(struct.pack(">h", len(b)) + b)
        if flex:
            tags = header.get("tags", {})
            w.append(uvarint(len(tags)))
            for k in sorted(tags, key=int):
                d = bytes.fromhex(tags[k])
                w.append(uvarint(int(k)) + uvarint(len(d)) + d)
        self._write_struct(w, schema, schema["fields"], v, flex, body)
        out = b"".join(w)
        return struct.pack(">i", len(out)) + out

    def encode_response(self, header, body, key, v):
        schema = self.schemas.get(key, "response", v)
        flex = _in(schema["flexibleVersions"], v)
        w = [struct.pack(">i", header["correlationId"])]
        if header["headerVersion"] == 1:
            w.append(b"\x00")
        self._write_struct(w, schema, schema["fields"], v, flex, body)
        out = b"".join(w)
        return struct.pack(">i", len(out)) + out

    # -- public ----------------------------------------------------------
    def decode_request(self, frame: bytes):
        """frame includes the size prefix. Returns (header, body, schema)."""
        (size,) = struct.unpack(">i", frame[:4])
        if size != len(frame) - 4:
            raise ValueError("size prefix does not match frame length")
        r = Reader(frame, 4)
        key, ver, corr = r.unpack(">h"), r.unpack(">h"), r.unpack(">i")
        n = r.unpack(">h")
        client_id = r.take(n).decode() if n >= 0 else None
        schema = self.schemas.get(key, "request", ver)
        flex = _in(schema["flexibleVersions"], ver)
        header = {"apiKey": key, "apiVersion": ver, "correlationId": corr,
                  "clientId": client_id, "headerVersion": 2 if flex else 1}
        if flex:
            tags = self._read_tags(r, schema, {}, ver, {})
            if tags:
                header["tags"] = tags
        body = self._read_struct(r, schema, schema["fields"], ver, flex)
        if r.remaining():
            raise ValueError(f"{r.remaining()} trailing bytes in request")
        return header, body, schema

    def decode_data(self, name: str, data: bytes):
        """Decode a versioned "data" message (int16 version + struct), e.g.
        ConsumerProtocolSubscription. A version newer than the schema is read
        with the newest known version and the rest reported as trailing."""
        schema = self.schemas.data[name]
        r = Reader(data)
        ver = r.unpack(">h")
        lo, hi = _parse_versions(schema["validVersions"])
        use = min(max(ver, lo), hi)
        flex = _in(schema.get("flexibleVersions"), use)
        body = self._read_struct(r, schema, schema["fields"], use, flex)
        body = {"Version": ver, **body}
        if r.remaining():
            body["_trailingBytes"] = r.remaining()
        return body

    def decode_response(self, frame: bytes, key: int, ver: int):
        (size,) = struct.unpack(">i", frame[:4])
        if size != len(frame) - 4:
            raise ValueError("size prefix does not match frame length")
        r = Reader(frame, 4)
        corr = r.unpack(">i")
        schema = self.schemas.get(key, "response", ver)
        flex = _in(schema["flexibleVersions"], ver)
        hv = 1 if flex and key != 18 else 0  # ApiVersions: always header v0
        if hv == 1:
            if self._read_tags(r, schema, {}, ver, {}):
                raise ValueError("unexpected response header tags")
        body = self._read_struct(r, schema, schema["fields"], ver, flex)
        if r.remaining():
            raise ValueError(f"{r.remaining()} trailing bytes in response")
        return {"correlationId": corr, "headerVersion": hv}, body, schema


# --------------------------------------------------------------------------
# record batches

CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}

_CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


_XERIAL = b"\x82SNAPPY\x00"


def snappy_decompress(data: bytes) -> tuple[bytes, str]:
    import cramjam
    if data.startswith(_XERIAL):
        r = Reader(data, 16)
        out = b""
        while r.remaining():
            n = r.unpack(">i")
            out += bytes(cramjam.snappy.decompress_raw(r.take(n)))
        return out, "xerial"
    return bytes(cramjam.snappy.decompress_raw(data)), "raw"


def decompress(codec: int, data: bytes) -> tuple[bytes, str]:
    if codec == 0:
        return data, ""
    if codec == 1:
        return gzip.decompress(data), "gzip"
    if codec == 2:
        return snappy_decompress(data)
    if codec == 3:
        import lz4.frame
        return lz4.frame.decompress(data), "lz4-frame"
    if codec == 4:
        import zstandard
        d = zstandard.ZstdDecompressor().decompressobj()
        return d.decompress(data), "zstd-frame"
    raise ValueError(f"unknown codec {codec}")


def _bytes_repr(b):
    if b is None:
        return None
    try:
        s = b.decode("utf-8")
        if all(c.isprintable() for c in s):
            return s
    except UnicodeDecodeError:
        pass
    return {"hex": b.hex()}


def decode_batches(data: bytes):
    """Decode a RECORDS blob (magic 2 batches). Returns a list of dicts."""
    out = []
    r = Reader(data)
    while r.remaining() >= 17:
        start = r.p
        base_offset = r.unpack(">q")
        length = r.unpack(">i")
        if r.remaining() < length:
            out.append({"truncated": True, "bytes": r.remaining() + 12})
            break
        end = r.p + length
        leader_epoch = r.unpack(">i")
        magic = r.unpack(">b")
        if magic != 2:
            out.append({"magic": magic, "unsupported": True})
            r.p = end
            continue
        crc = r.unpack(">I")
        crc_ok = crc32c(data[r.p:end]) == crc
        attrs = r.unpack(">h")
        b = {"baseOffset": base_offset, "batchLength": length,
             "partitionLeaderEpoch": leader_epoch, "magic": magic,
             "crcValid": crc_ok, "attributes": attrs,
             "codec": CODEC_NAMES.get(attrs & 7, attrs & 7),
             "timestampType": "LogAppendTime" if attrs & 8 else "CreateTime",
             "isTransactional": bool(attrs & 16),
             "isControl": bool(attrs & 32),
             "lastOffsetDelta": r.unpack(">i"),
             "baseTimestamp": r.unpack(">q"), "maxTimestamp": r.unpack(">q"),
             "producerId": r.unpack(">q"), "producerEpoch": r.unpack(">h"),
             "baseSequence": r.unpack(">i")}
        count = r.unpack(">i")
        b["recordCount"] = count
        payload = r.take(end - r.p)
        b["compressedSize"] = len(payload)
        raw, framing = decompress(attrs & 7, payload)
        if framing:
            b["compressionFraming"] = framing
        rr = Reader(raw)
        recs = []
        reenc = []
        for _ in range(count):
            ln = rr.varint()
            rstart = rr.p
            attr = rr.take(1)[0]
            rec = {"attributes": attr}
            td = rr.varint()
            rec["offsetDelta"] = od = rr.varint()
            rec["timestamp"] = b["baseTimestamp"] + td
            kl = rr.varint()
            key = rr.take(kl) if kl >= 0 else None
            rec["key"] = _bytes_repr(key)
            vl = rr.varint()
            val = rr.take(vl) if vl >= 0 else None
            rec["value"] = _bytes_repr(val)
            hs, raw_hs = [], []
            for _ in range(rr.varint()):
                hk = rr.take(rr.varint())
                hl = rr.varint()
                hv = rr.take(hl) if hl >= 0 else None
                raw_hs.append((hk, hv))
                hs.append({"key": hk.decode(), "value": _bytes_repr(hv)})
            rec["headers"] = hs
            if rr.p - rstart != ln:
                raise ValueError("record length mismatch")
            recs.append(rec)
            # canonical re-encoding of this record
            body = bytes([attr]) + varint(td) + varint(od)
            for blob in (key, val):
                body += varint(-1) if blob is None else \
                    varint(len(blob)) + blob
            body += varint(len(raw_hs))
            for hk, hv in raw_hs:
                body += varint(len(hk)) + hk
                body += varint(-1) if hv is None else varint(len(hv)) + hv
            reenc.append(varint(len(body)) + body)
        if rr.remaining():
            raise ValueError(f"{rr.remaining()} bytes after last record")
        b["records"] = recs
        b["recordsReencodeExact"] = b"".join(reenc) == raw
        out.append(b)
        r.p = end
    if r.remaining():
        out.append({"trailingBytes": r.remaining()})
    return out


def jsonable(obj):
    """Body -> JSON-friendly (bytes become hex / decoded batches)."""
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        return {"hex": bytes(obj).hex()} if len(obj) <= 64 else \
            {"bytes": len(obj)}
    return obj
