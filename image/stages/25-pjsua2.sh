#!/usr/bin/env bash
# Stage 25: SIP for the image: pjsua2 built by scripts/build-pjsua2 for the root's arm64 Python, installed in
# /opt/pigate/pjsua2 and put on the venv's path by a .pth (`pigate update` gives every new venv the same one).
# The build is cross-compiled (Debian's aarch64 g++ and the arm64 -dev packages in a throwaway amd64 root of the
# same suite: no emulation) and cached outside out/, keyed by build-pjsua2, the suite and its Python, so only
# the first image build pays for it (delete the cache folder to rebuild). See README.md ("pjsua2") for the measurements behind the choice.
#   PIGATE_IMAGE_PJSUA2=0           an image without SIP (pigate runs without pjsua2; [sip] must stay off)
#   PIGATE_IMAGE_PJSUA2_BUILD=qemu  build inside the arm64 root under qemu-user instead (about 5x slower here;
#                                   the default on an arm64 build machine, where it is native)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

if [ "${PIGATE_IMAGE_PJSUA2:-1}" = 0 ]; then
  log "pjsua2: SKIPPED (PIGATE_IMAGE_PJSUA2=0): no SIP in this image"
  exit 0
fi
how=${PIGATE_IMAGE_PJSUA2_BUILD:-}
[ -n "$how" ] || { [ "$(uname -m)" = aarch64 ] && how=qemu || how=cross; }
case "$how" in cross|qemu) ;; *) die "PIGATE_IMAGE_PJSUA2_BUILD is cross or qemu, not $how" ;; esac

py=$(basename "$(readlink -f "$ROOT/usr/bin/python3")")   # python3.13: the module is built for this one
pyver=${py#python}
venv_site="$ROOT/opt/pigate/venv/lib/$py/site-packages"
[ -d "$venv_site" ] || die "no $venv_site: run stage 20 first"
CACHE=${PIGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pigate}
# The arm64 libraries the module links (libssl3t64 ... are in packages.txt) come from the archive's -dev
# packages in the build root; the module is stripped.
DEV_PACKAGES="libssl-dev libsrtp2-dev libgsm1-dev libspeex-dev libspeexdsp-dev libsamplerate0-dev uuid-dev"
key=$( (cat "$REPO/scripts/build-pjsua2"; echo "$SUITE $pyver $DEV_PACKAGES") | sha256sum | cut -c1-16)
cached="$CACHE/image-pjsua2-aarch64-$SUITE-py$pyver-$key"

fetch_source() {  # the pjproject tarball, fetched and verified once into the shared cache; copied to $1
  local src
  src=$(PIGATE_CACHE=$CACHE "$REPO/scripts/build-pjsua2" --fetch-only)
  cp "$src" "$1/"
  basename "$src"
}

build_cross() {  # -> $1: pjsua2.py, _pjsua2*.so, BUILD-INFO
  local dest=$1 broot="$OUT/pjsua2-cross-root" tarball
  rm -rf "$broot"
  log "pjsua2: cross build root ($SUITE amd64 + arm64 -dev packages)"
  mmdebstrap --mode=root --format=directory --variant=apt --architectures=amd64,arm64 \
    --include="g++-aarch64-linux-gnu,binutils-aarch64-linux-gnu,make,swig,xz-utils,python3-minimal,$(
      printf '%s:arm64,' $DEV_PACKAGES)libpython$pyver-dev:arm64" \
    "$SUITE" "$broot" "$MIRROR" >&2
  mkdir -p "$broot/build/scripts" "$broot/build/out"
  cp "$REPO/scripts/build-pjsua2" "$broot/build/scripts/"
  tarball=$(fetch_source "$broot/build")
  ROOT=$broot in_root env PIGATE_CACHE=/build/cache /build/scripts/build-pjsua2 --source "/build/$tarball" \
    --python "python$pyver" --host aarch64-linux-gnu --prefix /build/out --no-link --jobs "$(nproc)"
  ROOT=$broot in_root sh -c 'aarch64-linux-gnu-strip --strip-unneeded /build/out/_pjsua2*.so'
  cp -a "$broot/build/out/." "$dest/"
  rm -rf "$broot"
}

build_qemu() {  # inside the image's own root, emulated; its build packages go again in stage 40
  local dest=$1 tarball
  mkdir -p "$ROOT/tmp/pigate-build/scripts" "$ROOT/tmp/pigate-build/out"
  cp "$REPO/scripts/build-pjsua2" "$ROOT/tmp/pigate-build/scripts/"
  tarball=$(fetch_source "$ROOT/tmp/pigate-build")
  in_root sh -ec "
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends g++ make swig xz-utils python3-dev $DEV_PACKAGES >/dev/null
    PIGATE_CACHE=/tmp/pigate-build/cache /tmp/pigate-build/scripts/build-pjsua2 --source /tmp/pigate-build/$tarball \
      --python /usr/bin/python3 --prefix /tmp/pigate-build/out --no-link
    strip --strip-unneeded /tmp/pigate-build/out/_pjsua2*.so
  "
  echo "g++ make swig python3-dev $DEV_PACKAGES" >> "$ROOT/tmp/pigate-build-deps"
  cp -a "$ROOT/tmp/pigate-build/out/." "$dest/"
  rm -rf "$ROOT/tmp/pigate-build"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.image-pjsua2.lock"  # one build at a time per cache (several checkouts may build images)
flock 9
if [ -f "$cached/BUILD-INFO" ]; then
  log "pjsua2: cached build $cached"
else
  t0=$(date +%s)
  rm -rf "$cached.part"; mkdir -p "$cached.part"
  "build_$how" "$cached.part"
  echo "image stage 25: $how build in $(( $(date +%s) - t0 ))s" >> "$cached.part/BUILD-INFO"
  rm -rf "$cached"; mv "$cached.part" "$cached"
  log "pjsua2: $how build in $(( $(date +%s) - t0 ))s, cached in $cached"
fi
rm -rf "$ROOT/opt/pigate/pjsua2"; mkdir -p "$ROOT/opt/pigate/pjsua2"
install -m 0644 "$cached/pjsua2.py" "$cached/BUILD-INFO" "$ROOT/opt/pigate/pjsua2/"
install -m 0755 "$cached"/_pjsua2*.so "$ROOT/opt/pigate/pjsua2/"
echo /opt/pigate/pjsua2 > "$venv_site/pjsua2.pth"
# It must load with the root's own libraries: every linked library found, and an endpoint made (under qemu-user).
in_root sh -ec '
  if ldd /opt/pigate/pjsua2/_pjsua2*.so | grep "not found"; then exit 1; fi
  /opt/pigate/venv/bin/python -c "import pjsua2 as pj; print(\"pjsua2\", pj.Endpoint().libVersion().full)"
'
log "pjsua2 $(du -sh "$ROOT/opt/pigate/pjsua2" | cut -f1) in /opt/pigate/pjsua2"
