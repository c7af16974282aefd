#!/usr/bin/env bash
# Installs what the conformance suite and the broker benchmark need, only what is missing:
#   apt-get: kcat          pip: the pinned packages of conformance/requirements.txt
# Quiet and idempotent; runs as root without a terminal (CI), or through `sudo -n`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-python3}"
log() { echo "[conformance/install] $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

if ! command -v kcat >/dev/null 2>&1; then
  log "apt-get install kcat"
  as_root timeout 300 apt-get update -qq </dev/null >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root timeout 600 apt-get install -y -qq kcat </dev/null >/dev/null
fi

missing="$("$PY" - "$HERE/requirements.txt" <<'PYEOF'
import re, sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    spec = line.split("#", 1)[0].strip()
    if not spec:
        continue
    name, _, want = spec.partition("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have is None or (want and have != want):
        print(spec)
PYEOF
)"
if [ -n "$missing" ]; then
  log "pip install $(echo $missing)"
  if ! timeout 900 "$PY" -m pip install -q --disable-pip-version-check -r "$HERE/requirements.txt" \
       </dev/null 2>"${TMPDIR:-/tmp}/martlet-conformance-pip.err"; then
    if grep -q externally-managed "${TMPDIR:-/tmp}/martlet-conformance-pip.err"; then
      timeout 900 "$PY" -m pip install -q --disable-pip-version-check --break-system-packages \
        -r "$HERE/requirements.txt" </dev/null
    else
      cat "${TMPDIR:-/tmp}/martlet-conformance-pip.err" >&2; exit 1
    fi
  fi
fi

