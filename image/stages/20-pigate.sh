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
# pjsua2: scripts/build-pjsua2 (the SIP work's) inside the arm64 root, under qemu-user. Its build is kept in
# out/pjsua2 and reused while the script is unchanged. The build packages go again in stage 40; the
# libraries the module links are marked as wanted first so they stay.
PJ_BUILD_DEPS="g++ make swig libssl-dev libsrtp2-dev libgsm1-dev libspeex-dev libspeexdsp-dev libsamplerate0-dev uuid-dev python3-dev xz-utils"
if [ -x "$REPO/scripts/build-pjsua2" ] && [ "${PIGATE_IMAGE_PJSUA2:-0}" = 1 ]; then
  pj_key=$(sha256sum "$REPO/scripts/build-pjsua2" | cut -c1-16)
  mkdir -p "$ROOT/tmp/pigate-build/scripts" "$ROOT/opt/pigate/pjsua2"
  cp "$REPO/scripts/build-pjsua2" "$ROOT/tmp/pigate-build/scripts/"
  if [ -d "$OUT/pjsua2-$pj_key" ]; then cp -a "$OUT/pjsua2-$pj_key/." "$ROOT/opt/pigate/pjsua2/"; fi
  [ -d "$OUT/pjsua2-cache" ] && cp -a "$OUT/pjsua2-cache" "$ROOT/tmp/pigate-build/cache"
  t0=$(date +%s)
  in_root sh -ec "
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $PJ_BUILD_DEPS >/dev/null
    PIGATE_CACHE=/tmp/pigate-build/cache /tmp/pigate-build/scripts/build-pjsua2 --python /opt/pigate/venv/bin/python \
      --prefix /opt/pigate/pjsua2 --venv /opt/pigate/venv
    /opt/pigate/venv/bin/python -c 'import pjsua2 as pj; print(\"pjsua2\", pj.Endpoint().libVersion().full)'
    for lib in \$(ldd /opt/pigate/pjsua2/_pjsua2*.so | awk '/=> \// {print \$3}'); do
      dpkg -S \"\$(readlink -f \$lib)\" 2>/dev/null || dpkg -S \"\$lib\" 2>/dev/null
    done | cut -d: -f1 | sort -u | xargs apt-mark manual >/dev/null
  "
  log "pjsua2 built in the arm64 root in $(( $(date +%s) - t0 ))s"
  rm -rf "$OUT/pjsua2-$pj_key" "$OUT/pjsua2-cache"
  cp -a "$ROOT/opt/pigate/pjsua2" "$OUT/pjsua2-$pj_key"
  cp -a "$ROOT/tmp/pigate-build/cache" "$OUT/pjsua2-cache" 2>/dev/null || true
  echo "$PJ_BUILD_DEPS" > "$ROOT/tmp/pigate-build-deps"
elif [ -x "$REPO/scripts/build-pjsua2" ]; then
  log "pjsua2: SKIPPED - set PIGATE_IMAGE_PJSUA2=1 to build it in the arm64 root (not yet measured); no SIP in this image"
else
  log "pjsua2: SKIPPED - scripts/build-pjsua2 is not in this checkout; the image has no SIP (pigate runs without it)"
fi
rm -rf "$ROOT/tmp/pigate-build"
log "venv $(du -sh "$ROOT/opt/pigate/venv" | cut -f1)"
