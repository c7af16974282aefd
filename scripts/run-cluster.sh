#!/usr/bin/env bash
# The main job: the local 3-controller/3-broker Martlet cluster from config/cluster/, data under
# .martlet-data/, logs under .martlet-data/logs/. Waits until every broker is registered and serving,
# prints where to point Kafka tools, and runs until Ctrl-C (or SIGTERM), which stops the brokers
# (controlled shutdown) and then the controllers.
#
#   scripts/run-cluster.sh [path/to/martlet]      (default: .build/release/martlet)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/martlet}
CONFIG=config/cluster
LOGS=.martlet-data/logs
BROKERS=127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}

[[ -x $BIN ]] || { echo "run-cluster: no martlet binary at $BIN (build it with: swift build -c release --product martlet)" >&2; exit 2; }
mkdir -p "$LOGS"
controllers=() brokers=()

stop_all() {
    trap - INT TERM EXIT
    echo "run-cluster: stopping the brokers, then the controllers"
    for pid in "${brokers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${brokers[@]}"; do wait "$pid" 2>/dev/null || true; done
    for pid in "${controllers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${controllers[@]}"; do wait "$pid" 2>/dev/null || true; done
    echo "run-cluster: stopped"
}
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

for properties in "$CONFIG"/controller-*.properties "$CONFIG"/broker-*.properties; do
    name=$(basename "$properties" .properties)
    # Each node in its own session: Ctrl-C reaches only this script, which stops the brokers before the
    # controllers they need for their controlled shutdown.
    setsid "$BIN" server --config "$properties" >"$LOGS/$name.log" 2>&1 &
    if [[ $name == controller-* ]]; then controllers+=($!); else brokers+=($!); fi
done

# Ready once a broker's Metadata lists all three brokers (each is listed only once unfenced).
deadline=$((SECONDS + READY_TIMEOUT_S))
until "$BIN" cluster brokers --bootstrap-server 127.0.0.1:9092 2>/dev/null | grep -c '^broker' | grep -qx 3; do
    if (( SECONDS >= deadline )); then
        echo "run-cluster: the brokers did not all register within ${READY_TIMEOUT_S}s; logs in $LOGS" >&2
        exit 1
    fi
    for pid in "${controllers[@]}" "${brokers[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "run-cluster: a node exited at start-up; logs in $LOGS" >&2; exit 1; }
    done
    sleep 0.5
done

echo "run-cluster: 3 controllers (127.0.0.1:19091-19093) and 3 brokers ($BROKERS) are up"
echo "  kcat -b $BROKERS -L"
echo "  kafka-python admin -b 127.0.0.1:9092 cluster describe-quorum"
echo "  logs: $LOGS   stop: Ctrl-C"
wait -n "${controllers[@]}" "${brokers[@]}" || true
echo "run-cluster: a node exited; logs in $LOGS" >&2
