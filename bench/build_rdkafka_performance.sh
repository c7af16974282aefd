#!/usr/bin/env bash
# Build librdkafka's rdkafka_performance example against Debian's librdkafka-dev and
# cache the binary in .build-bench-tools/ (gitignored through `.build*/`).
#
#   bash bench/build_rdkafka_performance.sh        # prints the binary's path
#
# Only Debian packages are fetched: `apt-get source librdkafka` (bookworm: 2.0.2; a
# deb-src entry is added for the configured Debian mirror if there is none) for the
# example's source, and `librdkafka-dev build-essential dpkg-dev` to compile it.
# Idempotent: a cached binary built from the same source version is reused.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
OUT_DIR="${BENCH_TOOLS_DIR:-$REPO/.build-bench-tools}"
BIN="$OUT_DIR/rdkafka_performance"
STAMP="$OUT_DIR/rdkafka_performance.version"
export DEBIAN_FRONTEND=noninteractive
log() { echo "[build_rdkafka_performance] $*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

APT_UPDATED=0
apt_update() {
  [ "$APT_UPDATED" = 1 ] && return 0
  as_root timeout 300 apt-get update -qq </dev/null >/dev/null
  APT_UPDATED=1
}

# 1. compiler + headers + dpkg-source
need=()
dpkg -s librdkafka-dev >/dev/null 2>&1 || need+=(librdkafka-dev)
command -v gcc >/dev/null 2>&1 || need+=(build-essential)
command -v dpkg-source >/dev/null 2>&1 || need+=(dpkg-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  apt_update
  as_root timeout 600 apt-get install -y -qq "${need[@]}" </dev/null >/dev/null
fi
DEV_VERSION="$(dpkg-query -W -f='${Version}' librdkafka-dev)"

if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$DEV_VERSION" ]; then
  echo "$BIN"; exit 0
fi

# 2. deb-src for the Debian mirror already configured (deb822 or one-line format)
has_deb_src() {
  grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
if ! has_deb_src; then
  SRC_FILE=/etc/apt/sources.list.d/martlet-deb-src.sources
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    log "adding deb-src entries ($SRC_FILE)"
    sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources | as_root tee "$SRC_FILE" >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    log "adding deb-src lines (/etc/apt/sources.list.d/martlet-deb-src.list)"
    sed -nE 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list |
      as_root tee /etc/apt/sources.list.d/martlet-deb-src.list >/dev/null
  else
    log "no Debian apt source found to derive deb-src from"; exit 1
  fi
  APT_UPDATED=0
fi
apt_update

# 3. the example's source, from the Debian source package
WORK="$(mktemp -d /tmp/martlet-rdkperf.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
log "apt-get source librdkafka (into $WORK)"
(cd "$WORK" && timeout 600 apt-get source -qq librdkafka </dev/null >/dev/null 2>"$WORK/apt-source.err") || {
  cat "$WORK/apt-source.err" >&2; exit 1; }
SRC="$(find "$WORK" -maxdepth 3 -path '*/examples/rdkafka_performance.c' | head -n1)"
[ -n "$SRC" ] || { log "examples/rdkafka_performance.c not in the source package"; exit 1; }
SRC_VERSION="$(basename "$(dirname "$(dirname "$SRC")")")"
log "building $SRC_VERSION/examples/rdkafka_performance.c against librdkafka-dev $DEV_VERSION"

# The example includes the source tree's private headers (src/rd.h -> ../config.h), so run
# mklove's ./configure (it only probes the system; nothing is downloaded without
# --install-deps), then compile the one file against the installed librdkafka.so and headers.
TREE="$(dirname "$(dirname "$SRC")")"
(cd "$TREE" && timeout 300 ./configure --prefix=/usr >"$WORK/configure.log" 2>&1) || {
  tail -30 "$WORK/configure.log" >&2; exit 1; }
mkdir -p "$OUT_DIR"
gcc -O2 -g -Wall -Wno-unused -Wno-deprecated-declarations \
    -I/usr/include/librdkafka -I"$TREE/src" \
    -o "$BIN.tmp" "$SRC" -lrdkafka -lpthread -lz -lm
mv "$BIN.tmp" "$BIN"
echo "$DEV_VERSION" > "$STAMP"
log "built $BIN"
echo "$BIN"
