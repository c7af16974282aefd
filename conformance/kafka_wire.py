"""A tiny Kafka wire encoder/decoder for the raw-socket tests: just the requests they need,
at non-flexible versions (request header v1, response header v0).

  ApiVersions v0, Metadata v1, Produce v3 (record batch v2), CreateTopics v2.

CRC-32C comes from the `crc32c` package when installed, else a table implementation.
"""
from __future__ import annotations

import socket
import struct
import time

try:
    from crc32c import crc32c as _crc32c  # PyPI crc32c
except ImportError:  # pragma: no cover - fallback
    _crc32c = None

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data: bytes) -> int:
    if _crc32c is not None:
        return _crc32c(data)
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# Kafka error codes used by the tests
NONE = 0
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_TOPIC_EXCEPTION = 17
INVALID_REQUIRED_ACKS = 21
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
NOT_CONTROLLER = 41
INVALID_CONFIG = 40

API_PRODUCE, API_METADATA, API_API_VERSIONS, API_CREATE_TOPICS = 0, 3, 18, 19


# ----------------------------------------------------------------------------- primitives
def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def u32(v): return struct.pack(">I", v)


def string(s: str | None) -> bytes:
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def kbytes(b: bytes | None) -> bytes:
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items: list[bytes] | None) -> bytes:
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(items)


def varint(v: int) -> bytes:
    z = (v << 1) ^ (v >> 63)  # zigzag
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Reader:
    """Reads Kafka's encodings from `data`, starting at `pos`: the fixed-width and legacy types, and the
    varints, compact strings and bytes and tagged fields of flexible versions."""

    def __init__(self, data: bytes, pos: int = 0):
        self.data, self.pos = data, pos

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("short response")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def array(self, fn):
        n = self.i32()
        return None if n < 0 else [fn(self) for _ in range(n)]

    def uvarint(self):
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7

    def varint(self):
        z = self.uvarint()
        return (z >> 1) ^ -(z & 1)

    def cstr(self):
        n = self.uvarint() - 1
        return None if n < 0 else self.take(n).decode()

    def cbytes(self):
        n = self.uvarint() - 1
        return None if n < 0 else self.take(n)

    def tags(self) -> dict[int, bytes]:
        """A tagged-field section: tag -> its raw bytes."""
        fields = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            fields[tag] = self.take(self.uvarint())
        return fields

    def skip_tags(self):
        self.tags()


# ----------------------------------------------------------------------------- record batch v2
def record(offset_delta: int, ts_delta: int, key: bytes | None, value: bytes | None,
           headers: list[tuple[str, bytes]] = ()) -> bytes:
    body = i8(0) + varint(ts_delta) + varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        kb = hk.encode()
        body += varint(len(kb)) + kb + (varint(-1) if hv is None else varint(len(hv)) + hv)
    return varint(len(body)) + body


def record_batch(records: list[tuple[bytes | None, bytes | None]], base_ts: int | None = None,
                 producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1,
                 corrupt_crc: bool = False, attributes: int = 0) -> bytes:
    """Uncompressed RecordBatch v2 holding (key, value) records, all at base_ts."""
    if base_ts is None:
        base_ts = int(time.time() * 1000)
    recs = b"".join(record(i, 0, k, v) for i, (k, v) in enumerate(records))
    after_crc = (i16(attributes) + i32(len(records) - 1) + i64(base_ts) + i64(base_ts)
                 + i64(producer_id) + i16(producer_epoch) + i32(base_sequence)
                 + i32(len(records)) + recs)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    after_len = i32(0) + i8(2) + u32(crc) + after_crc  # partitionLeaderEpoch, magic, crc
    return i64(0) + i32(len(after_len)) + after_len


BATCH_OVERHEAD = 61  # bytes of a v2 batch header, baseOffset and batchLength included


def batch_with_size(total: int, key: bytes | None = None) -> bytes:
    """One-record uncompressed batch whose total size (as Kafka's sizeInBytes) is exactly `total`."""
    n = max(0, total - BATCH_OVERHEAD - 10)
    for _ in range(64):
        b = record_batch([(key, b"x" * n)])
        if len(b) == total:
            return b
        n += total - len(b)
    raise ValueError(f"cannot make a batch of exactly {total} bytes")


# ----------------------------------------------------------------------------- requests
def request_frame(api_key: int, version: int, corr: int, body: bytes,
                  client_id: str | None = "martlet-raw", flexible: bool = False) -> bytes:
    """Request header v1 (or v2 when `flexible`: an empty tagged-field section after the
    client id) + body, with the int32 size prefix."""
    payload = i16(api_key) + i16(version) + i32(corr) + string(client_id) + (b"\x00" if flexible else b"") + body
    return i32(len(payload)) + payload


def api_versions_v0() -> bytes:
    return b""


def compact_string(s: str) -> bytes:
    b = s.encode()
    return bytes([len(b) + 1]) + b  # unsigned varint, short strings only


def api_versions_v3() -> bytes:
    """ApiVersions v3+ body: client software name and version, no tagged fields."""
    return compact_string("martlet-raw") + compact_string("1.0") + b"\x00"


def metadata_v1(topics: list[str] | None) -> bytes:
    return array(None if topics is None else [string(t) for t in topics])


def metadata_v4(topics: list[str] | None, allow_auto_topic_creation: bool = False) -> bytes:
    return metadata_v1(topics) + i8(1 if allow_auto_topic_creation else 0)


def produce_v3(topic: str, partition_batches: dict[int, bytes], acks: int = -1,
               timeout_ms: int = 10000) -> bytes:
    parts = [i32(p) + kbytes(b) for p, b in partition_batches.items()]
    return string(None) + i16(acks) + i32(timeout_ms) + array([string(topic) + array(parts)])


def create_topics_v2(topics: list[tuple[str, int, int]], configs: dict[str, str] | None = None,
                     timeout_ms: int = 10000, validate_only: bool = False) -> bytes:
    cfg = [string(k) + string(v) for k, v in (configs or {}).items()]
    items = [string(n) + i32(p) + i16(rf) + array([]) + array(cfg) for n, p, rf in topics]
    return array(items) + i32(timeout_ms) + i8(1 if validate_only else 0)


def uvarint(v: int) -> bytes:
    """An unsigned varint, as flexible versions write lengths."""
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def cstring(s: str | None) -> bytes:
    """A compact (nullable) string of a flexible version."""
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


def carray(items: list[bytes]) -> bytes:
    """A compact array of already encoded items (each with its own tagged fields)."""
    return uvarint(len(items) + 1) + b"".join(items)


def broker_registration_v0(broker_id: int, cluster_id: str, incarnation_id: bytes, host: str, port: int,
                           features: dict[str, tuple[int, int]]) -> bytes:
    """BrokerRegistration v0 (key 62, flexible): one PLAINTEXT listener and the feature ranges the
    broker supports; `incarnation_id` is 16 bytes."""
    listener = cstring("PLAINTEXT") + cstring(host) + struct.pack(">Hh", port, 0) + b"\x00"
    feats = [cstring(n) + i16(lo) + i16(hi) + b"\x00" for n, (lo, hi) in features.items()]
    return i32(broker_id) + cstring(cluster_id) + incarnation_id + carray([listener]) + carray(feats) + cstring(None) + b"\x00"


def broker_heartbeat_v0(broker_id: int, broker_epoch: int, metadata_offset: int,
                        want_fence: bool = False, want_shut_down: bool = False) -> bytes:
    """BrokerHeartbeat v0 (key 63, flexible)."""
    return (i32(broker_id) + i64(broker_epoch) + i64(metadata_offset)
            + i8(1 if want_fence else 0) + i8(1 if want_shut_down else 0) + b"\x00")


# ----------------------------------------------------------------------------- responses
def parse_api_versions_v0(body: bytes) -> dict:
    r = Reader(body)
    err = r.i16()
    apis = r.array(lambda r: (r.i16(), r.i16(), r.i16()))
    return {"error_code": err, "apis": {k: (lo, hi) for k, lo, hi in apis or []}}


def parse_metadata_v1(body: bytes) -> dict:
    r = Reader(body)
    brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
    controller = r.i32()

    def part(r):
        return {"error_code": r.i16(), "partition": r.i32(), "leader": r.i32(),
                "replicas": r.array(lambda r: r.i32()), "isr": r.array(lambda r: r.i32())}

    def topic(r):
        return {"error_code": r.i16(), "name": r.string(), "internal": r.i8(),
                "partitions": r.array(part)}

    return {"brokers": brokers, "controller_id": controller, "topics": r.array(topic)}


def parse_metadata_v4(body: bytes) -> dict:
    r = Reader(body)
    throttle = r.i32()
    brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string()))
    cluster_id = r.string()
    controller = r.i32()

    def part(r):
        return {"error_code": r.i16(), "partition": r.i32(), "leader": r.i32(),
                "replicas": r.array(lambda r: r.i32()), "isr": r.array(lambda r: r.i32())}

    def topic(r):
        return {"error_code": r.i16(), "name": r.string(), "internal": r.i8(),
                "partitions": r.array(part)}

    return {"throttle_time_ms": throttle, "brokers": brokers, "cluster_id": cluster_id,
            "controller_id": controller, "topics": r.array(topic)}


def parse_produce_v3(body: bytes) -> dict:
    r = Reader(body)

    def part(r):
        return {"partition": r.i32(), "error_code": r.i16(), "base_offset": r.i64(),
                "log_append_time": r.i64()}

    topics = r.array(lambda r: {"name": r.string(), "partitions": r.array(part)})
    return {"topics": topics, "throttle_time_ms": r.i32()}


def parse_create_topics_v2(body: bytes) -> dict:
    r = Reader(body)
    throttle = r.i32()
    topics = r.array(lambda r: {"name": r.string(), "error_code": r.i16(), "error_message": r.string()})
    return {"throttle_time_ms": throttle, "topics": topics}


def parse_broker_registration_v0(body: bytes) -> dict:
    """A flexible response: the body starts after the response header's (empty, one-byte) tagged fields."""
    r = Reader(body[1:])
    return {"throttle_time_ms": r.i32(), "error_code": r.i16(), "broker_epoch": r.i64()}


def parse_broker_heartbeat_v0(body: bytes) -> dict:
    r = Reader(body[1:])
    return {"throttle_time_ms": r.i32(), "error_code": r.i16(), "is_caught_up": bool(r.i8()),
            "is_fenced": bool(r.i8()), "should_shut_down": bool(r.i8())}


# ----------------------------------------------------------------------------- connection
class Closed(Exception):
    """The peer closed (or reset) the connection."""


class Conn:
    """A blocking client connection with a receive deadline."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.corr = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send_raw(self, data: bytes):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(str(e)) from e

    def recv_exact(self, n: int, timeout: float | None = None) -> bytes:
        self.sock.settimeout(timeout or self.timeout)
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError as e:
                raise Closed(str(e)) from e
            if not chunk:
                raise Closed("EOF")
            buf += chunk
        return bytes(buf)

    def recv_frame(self, timeout: float | None = None) -> tuple[int, bytes]:
        (size,) = struct.unpack(">i", self.recv_exact(4, timeout))
        data = self.recv_exact(size, timeout)
        return struct.unpack(">i", data[:4])[0], data[4:]

    def call(self, api_key: int, version: int, body: bytes, timeout: float | None = None,
             flexible: bool = False) -> bytes:
        self.corr += 1
        corr = self.corr
        self.send_raw(request_frame(api_key, version, corr, body, flexible=flexible))
        rcorr, rbody = self.recv_frame(timeout)
        if rcorr != corr:
            raise AssertionError(f"response correlation id {rcorr}, expected {corr}")
        return rbody

    def wait_closed(self, timeout: float) -> bytes:
        """Read until EOF/reset; returns whatever arrived before. Raises TimeoutError if the
        connection is still open after `timeout` seconds."""
        self.sock.settimeout(0.2)
        end = time.monotonic() + timeout
        got = bytearray()
        while time.monotonic() < end:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return bytes(got)
            if not chunk:
                return bytes(got)
            got += chunk
        raise TimeoutError(f"connection still open after {timeout}s ({len(got)} bytes received)")
