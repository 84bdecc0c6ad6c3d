#!/usr/bin/env bash
# Stage 20: pigate in its own venv, /opt/pigate/venv, with its dependencies from PyPI (RPi.GPIO is compiled
# here, under emulation). pjsua2 (SIP) is stage 25's.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

rm -rf "$OUT/wheels"; mkdir -p "$OUT/wheels"
py=python3; [ -x "$REPO/.venv/bin/python" ] && py="$REPO/.venv/bin/python"
"$py" -m pip wheel -q --no-deps -w "$OUT/wheels" "$REPO" >&2
wheel=$(ls "$OUT"/wheels/pigate-*.whl)
mkdir -p "$ROOT/tmp/pigate-build"
cp "$wheel" "$ROOT/tmp/pigate-build/"
# The RPi.GPIO wheel (compiled under emulation, minutes) is cached outside out/ like stage 25's pjsua2.
CACHE=${PIGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pigate}
wheel_cache="$CACHE/image-wheels-arm64-$SUITE"
if ls "$wheel_cache"/*.whl >/dev/null 2>&1; then mkdir -p "$ROOT/opt/pigate/wheels"; cp "$wheel_cache"/*.whl "$ROOT/opt/pigate/wheels/"; fi
in_root sh -ec "
  /opt/pigate/venv/bin/pip --version >/dev/null 2>&1 || python3 -m venv --clear /opt/pigate/venv
  # RPi.GPIO has no wheel for the Pi on PyPI: built once here and kept, so pigate update on the box
  # (which has no compiler) installs it from /opt/pigate/wheels.
  ls /opt/pigate/wheels 2>/dev/null | grep -qi '^rpi.gpio-' || \
    /opt/pigate/venv/bin/pip wheel -q --no-cache-dir --disable-pip-version-check -w /opt/pigate/wheels 'RPi.GPIO>=0.7'
  /opt/pigate/venv/bin/pip install -q --no-cache-dir --disable-pip-version-check --find-links /opt/pigate/wheels \
    /tmp/pigate-build/$(basename "$wheel")
  /opt/pigate/venv/bin/pip install -q --no-cache-dir --disable-pip-version-check --force-reinstall --no-deps \
    /tmp/pigate-build/$(basename "$wheel")
  /opt/pigate/venv/bin/pigate --version
"
mkdir -p "$wheel_cache"; cp "$ROOT"/opt/pigate/wheels/*.whl "$wheel_cache/"
rm -rf "$ROOT/tmp/pigate-build"
log "venv $(du -sh "$ROOT/opt/pigate/venv" | cut -f1)"
