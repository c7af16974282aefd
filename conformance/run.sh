#!/usr/bin/env bash
# The black-box conformance suite: stock clients (kcat, confluent-kafka, kafka-python, aiokafka)
# against a real broker process on 127.0.0.1.
#
#   bash conformance/run.sh                       # martlet (.build/debug/martlet), the whole suite
#   MARTLET_BROKER=tansu bash conformance/run.sh  # the reference broker (Tansu 0.6 from PyPI)
#   bash conformance/run.sh -x -k roundtrip       # extra arguments go to pytest
#
# Environment: MARTLET_BROKER=martlet|tansu, MARTLET_BIN (default .build/debug/martlet),
# MARTLET_SERVER_ARGS (extra flags for `martlet server`), TANSU_BIN, PYTHON, MARTLET_JUNIT
# (junit xml path), MARTLET_KEEP=1 (keep data dirs of a passing run).
#
# Installs what is missing first (install.sh: kcat with apt-get, the pinned Python packages of
# requirements.txt with pip; quiet, idempotent, works as root without a terminal, as in CI).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PY="${PYTHON:-python3}"
export PYTHONDONTWRITEBYTECODE=1
log() { echo "[conformance] $*" >&2; }

# ------------------------------------------------------------------ installs
bash "$HERE/install.sh"

# ------------------------------------------------------------------ the broker
KIND="${MARTLET_BROKER:-martlet}"
if [ "$KIND" = martlet ]; then
  BIN="${MARTLET_BIN:-$REPO/.build/debug/martlet}"
  if [ ! -x "$BIN" ]; then
    log "no martlet binary at $BIN: build it first (swift build), set MARTLET_BIN, or MARTLET_BROKER=tansu"
    exit 2
  fi
fi

# ------------------------------------------------------------------ run
JUNIT="${MARTLET_JUNIT:-$(mktemp -d /tmp/martlet-conformance-junit.XXXXXX)/junit.xml}"
set +e
(cd "$REPO" && timeout "${MARTLET_CONFORMANCE_TIMEOUT:-1800}" "$PY" -m pytest conformance -q \
    --junitxml="$JUNIT" -o junit_family=xunit2 "$@")
rc=$?
set -e
"$PY" - "$JUNIT" "$KIND" <<'PYEOF' || true
import sys
import xml.etree.ElementTree as ET
path, kind = sys.argv[1], sys.argv[2]
try:
    root = ET.parse(path).getroot()
except (OSError, ET.ParseError):
    sys.exit(0)
passed = failed = skipped = xfailed = 0
for tc in root.iter("testcase"):
    kids = {c.tag for c in tc}
    msgs = " ".join((c.get("type") or "") + " " + (c.get("message") or "") for c in tc)
    if "failure" in kids or "error" in kids:
        failed += 1
    elif "skipped" in kids:
        if "xfail" in msgs:
            xfailed += 1
        else:
            skipped += 1
    else:
        passed += 1
print(f"({kind}: {xfailed} xfailed counted as skipped; junit {path})")
print(f"conformance: {passed} passed, {failed} failed, {skipped + xfailed} skipped")
PYEOF
exit $rc
