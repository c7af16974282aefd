#!/usr/bin/env python3
"""Recording TCP proxy for the Kafka wire protocol.

Clients connect to the proxy; the proxy opens one upstream connection per
client connection, forwards bytes unchanged in both directions and records
every complete request frame (int32 size prefix + body) and the response frame
that answers it (matched by correlation id, so pipelined requests and acks=0
Produce requests, which get no answer, are handled).

Library use::

    proxy = RecordingProxy(("127.0.0.1", 0), ("127.0.0.1", 9092), out_dir="cap")
    await proxy.start()          # proxy.port is the bound port
    ...
    await proxy.stop()

CLI use (see --help): runs until SIGINT/SIGTERM or --max-seconds.

Capture directory layout (written as frames arrive, so a killed proxy loses
nothing that was already complete):

    index.jsonl                one JSON object per request, in arrival order:
                               {"seq", "conn", "apiKey", "apiVersion",
                                "correlationId", "clientId", "request",
                                "size", "t"}
    responses.jsonl            one JSON object per matched response:
                               {"seq", "conn", "correlationId", "response",
                                "size", "t"}
    frames/NNNNNN.request.bin  full request frame as sent (size prefix incl.)
    frames/NNNNNN.response.bin full response frame as received

Only the request header is parsed (int32 size, int16 api_key, int16
api_version, int32 correlation_id, int16-length client_id); bodies are opaque.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Optional

MAX_FRAME = 100 * 1024 * 1024


@dataclass
class RequestHeader:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: Optional[str]


def parse_request_header(frame: bytes) -> RequestHeader:
    """Parse the fixed part of a request header.

    `frame` may include the 4-byte size prefix or not; both are accepted when
    the prefix matches the length."""
    if len(frame) >= 4 and struct.unpack(">i", frame[:4])[0] == len(frame) - 4:
        body = frame[4:]
    else:
        body = frame
    if len(body) < 8:
        raise ValueError("frame too short for a request header")
    api_key, api_version, corr = struct.unpack(">hhi", body[:8])
    client_id = None
    if len(body) >= 10:
        (n,) = struct.unpack(">h", body[8:10])
        if n >= 0:
            client_id = body[10:10 + n].decode("utf-8", "replace")
    return RequestHeader(api_key, api_version, corr, client_id)


def response_correlation_id(frame: bytes) -> int:
    return struct.unpack(">i", frame[4:8])[0]


def _read_uvarint(buf: bytes, pos: int):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7


def strip_apiversions_tags(frame: bytes, api_version: int) -> bytes:
    """Return an ApiVersions v3+ response frame with its top-level tagged
    fields (SupportedFeatures, FinalizedFeatures*, ZkMigrationReady) removed.

    librdkafka < 2.2.0 mis-skips non-empty tagged fields (it reads the tag
    length as if it were a compact N+1 length; fixed by librdkafka PR #4278)
    and fails the ApiVersions exchange with "Read underflow". Rewriting the
    answer is the only way to let such a client (kcat 1.7.1 / librdkafka
    2.0.2) talk to a peer that sends these tags."""
    if api_version < 3 or len(frame) < 11:
        return frame
    body = frame[4:]
    pos = 4 + 2  # correlation id (response header v0), error code
    n, pos = _read_uvarint(body, pos)
    for _ in range(max(n - 1, 0)):
        pos += 6  # api_key, min, max
        ntags, pos = _read_uvarint(body, pos)
        for _ in range(ntags):
            _, pos = _read_uvarint(body, pos)
            size, pos = _read_uvarint(body, pos)
            pos += size
    pos += 4  # throttle_time_ms
    if pos >= len(body) or body[pos] == 0:
        return frame
    new_body = body[:pos] + b"\x00"
    return struct.pack(">i", len(new_body)) + new_body


async def read_frame(reader: asyncio.StreamReader) -> Optional[bytes]:
    """Read one size-prefixed frame; None at a clean EOF."""
    try:
        head = await reader.readexactly(4)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise
        return None
    (size,) = struct.unpack(">i", head)
    if size < 0 or size > MAX_FRAME:
        raise ValueError(f"bad frame size {size}")
    body = await reader.readexactly(size)
    return head + body


@dataclass
class Record:
    seq: int
    conn: int
    header: Optional[RequestHeader]
    request: bytes
    response: Optional[bytes] = None
    t: float = field(default_factory=time.time)


class RecordingProxy:
    def __init__(self, listen, upstream, out_dir: Optional[str] = None,
                 log=None, strip_apiversions_tags: bool = False):
        self.strip_apiversions_tags = strip_apiversions_tags
        self.listen = listen
        self.upstream = upstream
        self.out_dir = out_dir
        self.records: list[Record] = []
        self._seq = 0
        self._conn = 0
        self._server: Optional[asyncio.AbstractServer] = None
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._log = log or (lambda msg: None)
        if out_dir:
            os.makedirs(os.path.join(out_dir, "frames"), exist_ok=True)
            # truncate
            open(os.path.join(out_dir, "index.jsonl"), "w").close()
            open(os.path.join(out_dir, "responses.jsonl"), "w").close()

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    async def start(self):
        self._server = await asyncio.start_server(
            self._handle, self.listen[0], self.listen[1])
        return self

    async def stop(self):
        if self._server:
            self._server.close()
        for w in list(self._writers):
            w.close()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 2)
            except asyncio.TimeoutError:
                pass

    # -- persistence -------------------------------------------------------
    def _append(self, name, obj):
        if not self.out_dir:
            return
        with open(os.path.join(self.out_dir, name), "a") as f:
            f.write(json.dumps(obj, sort_keys=True) + "\n")

    def _write(self, rel, data):
        if not self.out_dir:
            return
        with open(os.path.join(self.out_dir, rel), "wb") as f:
            f.write(data)

    def _on_request(self, conn, frame) -> Record:
        self._seq += 1
        try:
            hdr = parse_request_header(frame)
        except ValueError:
            hdr = None
        rec = Record(self._seq, conn, hdr, frame)
        self.records.append(rec)
        rel = f"frames/{rec.seq:06d}.request.bin"
        self._write(rel, frame)
        self._append("index.jsonl", {
            "seq": rec.seq, "conn": conn, "request": rel, "size": len(frame),
            "t": rec.t,
            "apiKey": hdr.api_key if hdr else None,
            "apiVersion": hdr.api_version if hdr else None,
            "correlationId": hdr.correlation_id if hdr else None,
            "clientId": hdr.client_id if hdr else None,
        })
        if hdr:
            self._log(f"conn {conn} #{rec.seq} key={hdr.api_key} "
                      f"v{hdr.api_version} corr={hdr.correlation_id} "
                      f"client={hdr.client_id!r} {len(frame)}B")
        return rec

    def _on_response(self, conn, rec: Record, frame) -> bytes:
        """Record a response; returns the frame to deliver to the client
        (identical unless a rewrite option applies)."""
        rewritten = False
        if (self.strip_apiversions_tags and rec.header is not None
                and rec.header.api_key == 18):
            new = strip_apiversions_tags(frame, rec.header.api_version)
            if new != frame:
                self._write(f"frames/{rec.seq:06d}.response.orig.bin", frame)
                frame, rewritten = new, True
        rec.response = frame
        rel = f"frames/{rec.seq:06d}.response.bin"
        self._write(rel, frame)
        self._append("responses.jsonl", {
            "seq": rec.seq, "conn": conn, "response": rel,
            "correlationId": response_correlation_id(frame),
            "rewritten": rewritten,
            "size": len(frame), "t": time.time()})
        return frame

    # -- connection handling ---------------------------------------------
    async def _handle(self, creader, cwriter):
        self._conn += 1
        conn = self._conn
        task = asyncio.current_task()
        self._tasks.add(task)
        self._writers.add(cwriter)
        pending: dict[int, Record] = {}
        uwriter = None
        try:
            ureader, uwriter = await asyncio.open_connection(*self.upstream)
            self._writers.add(uwriter)

            async def c2u():
                while True:
                    frame = await read_frame(creader)
                    if frame is None:
                        break
                    rec = self._on_request(conn, frame)
                    if rec.header is not None:
                        pending[rec.header.correlation_id] = rec
                    uwriter.write(frame)
                    await uwriter.drain()
                uwriter.write_eof() if uwriter.can_write_eof() else None

            async def u2c():
                while True:
                    frame = await read_frame(ureader)
                    if frame is None:
                        break
                    if len(frame) >= 8:
                        rec = pending.pop(response_correlation_id(frame), None)
                        if rec is not None:
                            frame = self._on_response(conn, rec, frame)
                        else:
                            self._log(f"conn {conn}: unmatched response")
                    cwriter.write(frame)
                    await cwriter.drain()

            t1 = asyncio.ensure_future(c2u())
            t2 = asyncio.ensure_future(u2c())
            done, rest = await asyncio.wait(
                {t1, t2}, return_when=asyncio.FIRST_COMPLETED)
            # give the other direction a moment to flush in-flight answers
            if rest:
                await asyncio.wait(rest, timeout=2)
            for t in (t1, t2):
                if not t.done():
                    t.cancel()
            await asyncio.gather(t1, t2, return_exceptions=True)
        except (ConnectionError, OSError, asyncio.IncompleteReadError,
                ValueError) as e:
            self._log(f"conn {conn}: {e!r}")
        finally:
            for w in (cwriter, uwriter):
                if w is not None:
                    self._writers.discard(w)
                    w.close()
            self._tasks.discard(task)


def _hostport(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _main(args):
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if args.verbose \
        else None
    proxy = RecordingProxy(_hostport(args.listen), _hostport(args.upstream),
                           args.out, log=log,
                           strip_apiversions_tags=args.strip_apiversions_tags)
    await proxy.start()
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(str(proxy.port))
        os.replace(args.ready_file + ".tmp", args.ready_file)
    print(f"proxy listening on {args.listen} (port {proxy.port}) -> "
          f"{args.upstream}, recording to {args.out}", file=sys.stderr,
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except asyncio.TimeoutError:
        print("proxy: max-seconds reached, exiting", file=sys.stderr)
    await proxy.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0",
                    help="host:port to listen on (loopback only)")
    ap.add_argument("--upstream", required=True, help="peer host:port")
    ap.add_argument("--out", required=True, help="capture directory")
    ap.add_argument("--ready-file",
                    help="write the bound port here once listening")
    ap.add_argument("--max-seconds", type=float, default=900,
                    help="exit after this long (default 900)")
    ap.add_argument("--strip-apiversions-tags", action="store_true",
                    help="drop the top-level tagged fields of ApiVersions v3+ "
                         "responses (needed by librdkafka < 2.2, e.g. kcat "
                         "1.7.1); the original is kept as "
                         "frames/NNNNNN.response.orig.bin")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    host = _hostport(args.listen)[0]
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        ap.error("refusing to listen on a non-loopback address")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
