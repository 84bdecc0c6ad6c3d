#!/usr/bin/env bash
# Stage 60: the file to flash, compressed (zstd by default, PIGATE_IMAGE_COMPRESS=xz for a smaller one),
# with its sha256 beside it. The raw image stays in out/ for the qemu smoke boot.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
version=$(sed -n 's/^version = //p' "$REPO/setup.cfg")
name="pigate-$version-arm64"
img="$OUT/pigate.img"
rm -f "$OUT/$name".img.*
case "${PIGATE_IMAGE_COMPRESS:-zstd}" in
  zstd) zstd -q -T2 -12 "$img" -o "$OUT/$name.img.zst"; out="$OUT/$name.img.zst" ;;
  xz) xz -T2 -6 -k -c "$img" > "$OUT/$name.img.xz"; out="$OUT/$name.img.xz" ;;
  *) die "PIGATE_IMAGE_COMPRESS is zstd or xz" ;;
esac
(cd "$OUT" && sha256sum "$(basename "$out")" > "$(basename "$out").sha256")
log "raw $(stat -c %s "$img") bytes, compressed $(stat -c %s "$out") bytes: $out"
