#!/usr/bin/env bash
# Stage 10: a fresh copy of stage 00's root in out/root, for the stages that change it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
tar=$(ls -t "$OUT"/rootfs-*.tar | head -1) || die "no rootfs tarball: run stage 00"
if mountpoint -q "$ROOT/proc" 2>/dev/null; then die "$ROOT/proc is still mounted (an interrupted build?)"; fi
rm -rf "$ROOT"; mkdir -p "$ROOT"
tar -C "$ROOT" --numeric-owner --xattrs --xattrs-include='*' -xpf "$tar"
log "unpacked $(basename "$tar"): $(du -sh "$ROOT" | cut -f1)"
