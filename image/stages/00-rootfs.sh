#!/usr/bin/env bash
# Stage 00: a Debian arm64 root with the packages of packages.txt, as a tarball (kept between builds while
# packages.txt and this script are unchanged: the slow stage runs once).
# The initramfs is configured before the kernel is installed: MODULES=list with the modules an SD-card (and a
# qemu virtio) boot needs; Debian's default (most) takes ~15 minutes to build under emulation.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

key=$( (cat "$IMAGE_DIR/packages.txt" "$0"; echo "$SUITE $MIRROR $INITRAMFS_MODULES") | sha256sum | cut -c1-16)
out="$OUT/rootfs-$key.tar"
if [ -f "$out" ]; then
  log "rootfs $out is up to date"
  exit 0
fi
need_binfmt
packages=$(grep -v '^\s*#' "$IMAGE_DIR/packages.txt" | awk 'NF {print $1}' | paste -sd, -)
rm -f "$OUT"/rootfs-*.tar.part
printf '%s\n' $INITRAMFS_MODULES > "$OUT/initramfs.modules"
mmdebstrap --mode=root --format=tar --arch=arm64 --variant=apt --components=main,non-free-firmware \
  --include="$packages" \
  --setup-hook='mkdir -p "$1/boot/firmware" "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/pigate.conf"' \
  --setup-hook="cp '$OUT/initramfs.modules' \"\$1/usr/share/initramfs-tools/modules.d/pigate\"" \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  "$SUITE" "$out.part" "$MIRROR"
mv "$out.part" "$out"
log "rootfs $(du -h "$out" | cut -f1)"
