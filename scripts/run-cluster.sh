#!/usr/bin/env bash
# The main job: the local 3-controller/3-broker Martlet cluster from config/cluster/, data under
# .martlet-data/, logs under .martlet-data/logs/. Waits until every broker is registered and serving,
# prints where to point Kafka tools, and runs until Ctrl-C (or SIGTERM), which stops the brokers
# (controlled shutdown) and then the controllers.
#
#   scripts/run-cluster.sh [path/to/martlet]      (default: .build/release/martlet)
#
# MARTLET_CLUSTER_CONFIG (default config/cluster) holds controller-*.properties and broker-*.properties;
# log directories in them are relative to the repository root. MARTLET_CLUSTER_LOGS (default
# .martlet-data/logs) receives one log per node.
set -euo pipefail
# A binary given relative to the caller's directory still names the same file after the cd below.
BIN=${1:-}
[[ -n $BIN && $BIN != /* ]] && BIN=$PWD/$BIN
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/.build/release/martlet}
CONFIG=${MARTLET_CLUSTER_CONFIG:-config/cluster}
LOGS=${MARTLET_CLUSTER_LOGS:-.martlet-data/logs}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-60}

[[ -x $BIN ]] || { echo "run-cluster: no martlet binary at $BIN (build it with: swift build -c release --product martlet)" >&2; exit 2; }
shopt -s nullglob
controller_configs=("$CONFIG"/controller-*.properties)
broker_configs=("$CONFIG"/broker-*.properties)
(( ${#controller_configs[@]} > 0 && ${#broker_configs[@]} > 0 )) || { echo "run-cluster: no controller-*.properties and broker-*.properties in $CONFIG" >&2; exit 2; }

# host:port of each broker's first listener, for the readiness check and the printed bootstrap list.
listener_of() { sed -n 's#^listeners=[A-Za-z_]*://##p' "$1" | cut -d, -f1; }
bootstrap=()
for properties in "${broker_configs[@]}"; do bootstrap+=("$(listener_of "$properties")"); done
BROKERS=$(IFS=,; echo "${bootstrap[*]}")

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

for properties in "${controller_configs[@]}" "${broker_configs[@]}"; do
    name=$(basename "$properties" .properties)
    # Each node in its own session: Ctrl-C reaches only this script, which stops the brokers before the
    # controllers they need for their controlled shutdown.
    setsid "$BIN" server --config "$properties" >"$LOGS/$name.log" 2>&1 &
    if [[ $name == controller-* ]]; then controllers+=($!); else brokers+=($!); fi
done

# Ready once a broker's Metadata lists every broker (each is listed only once unfenced).
deadline=$((SECONDS + READY_TIMEOUT_S))
until "$BIN" cluster brokers --bootstrap-server "${bootstrap[0]}" 2>/dev/null | grep -c '^broker' | grep -qx "${#broker_configs[@]}"; do
    if (( SECONDS >= deadline )); then
        echo "run-cluster: the brokers did not all register within ${READY_TIMEOUT_S}s; logs in $LOGS" >&2
        exit 1
    fi
    for pid in "${controllers[@]}" "${brokers[@]}"; do
        kill -0 "$pid" 2>/dev/null || { echo "run-cluster: a node exited at start-up; logs in $LOGS" >&2; exit 1; }
    done
    sleep 0.5
done

echo "run-cluster: ${#controller_configs[@]} controllers and ${#broker_configs[@]} brokers ($BROKERS) are up"
echo "  kcat -b $BROKERS -L"
echo "  kafka-python admin -b ${bootstrap[0]} cluster describe-quorum"
echo "  logs: $LOGS   stop: Ctrl-C"
wait -n "${controllers[@]}" "${brokers[@]}" || true
echo "run-cluster: a node exited; logs in $LOGS" >&2
