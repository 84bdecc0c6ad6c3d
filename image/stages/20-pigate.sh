#!/usr/bin/env bash
# Stage 20: pigate in its own venv, /opt/pigate/venv, with its dependencies from PyPI (RPi.GPIO is compiled
# here, under emulation), and pjsua2 for aarch64 from scripts/build-pjsua2 when the repository has it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

rm -rf "$OUT/wheels"; mkdir -p "$OUT/wheels"
py=python3; [ -x "$REPO/.venv/bin/python" ] && py="$REPO/.venv/bin/python"
"$py" -m pip wheel -q --no-deps -w "$OUT/wheels" "$REPO" >&2
wheel=$(ls "$OUT"/wheels/pigate-*.whl)
mkdir -p "$ROOT/tmp/pigate-build"
cp "$wheel" "$ROOT/tmp/pigate-build/"
in_root sh -ec "
  python3 -m venv /opt/pigate/venv
  # RPi.GPIO has no wheel for the Pi on PyPI: built once here and kept, so `pigate update` on the box
  # (which has no compiler) installs it from /opt/pigate/wheels.
  /opt/pigate/venv/bin/pip wheel -q --no-cache-dir --disable-pip-version-check -w /opt/pigate/wheels "RPi.GPIO>=0.7"
  /opt/pigate/venv/bin/pip install -q --no-cache-dir --disable-pip-version-check --find-links /opt/pigate/wheels \
    /tmp/pigate-build/$(basename "$wheel")
  /opt/pigate/venv/bin/pigate --version
"
if [ -x "$REPO/scripts/build-pjsua2" ]; then
  log "pjsua2: scripts/build-pjsua2 inside the arm64 root"
  PJSUA2_TARGET_ROOT="$ROOT" PJSUA2_PYTHON=/opt/pigate/venv/bin/python "$REPO/scripts/build-pjsua2" --root "$ROOT" \
    --python /opt/pigate/venv/bin/python >&2
  in_root /opt/pigate/venv/bin/python -c 'import pjsua2 as pj; print("pjsua2", pj.Endpoint().libVersion().full)'
else
  log "pjsua2: SKIPPED - scripts/build-pjsua2 is not in this checkout yet; the image has no SIP (pigate runs without it)"
fi
rm -rf "$ROOT/tmp/pigate-build"
log "venv $(du -sh "$ROOT/opt/pigate/venv" | cut -f1)"
