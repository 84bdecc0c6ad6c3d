#!/usr/bin/env bash
# Stage 40: build-only packages out, apt's caches out, the kernel, initramfs and device trees copied onto the
# boot partition by raspi-firmware's hooks, and a kernel command line with a read-only root.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

in_root sh -ec '
  build_only=$(dpkg-query -W -f="\${db:Status-Abbrev} \${Package}\n" gcc libc6-dev python3-dev \
    $(cat /tmp/pigate-build-deps 2>/dev/null) 2>/dev/null | awk "/^ii/ {print \$2}")
  [ -z "$build_only" ] || apt-get purge -y -qq --autoremove $build_only >/dev/null
  apt-get clean
  rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
  kver=$(ls /lib/modules | sort -V | tail -1)
  # raspi-firmware copies the kernel, initrd and device trees to /boot/firmware only when run "configured".
  DEB_MAINT_PARAMS=configure /etc/kernel/postinst.d/z50-raspi-firmware "$kver" /boot/vmlinuz-"$kver"
  DEB_MAINT_PARAMS=configure /etc/initramfs/post-update.d/z50-raspi-firmware "$kver" /boot/initrd.img-"$kver"
'
# No serial console: a UART HAT (SIM800/SIM868) owns GPIO 14/15. The root is mounted read-only from the start.
echo "console=tty0 root=LABEL=RASPIROOT ro rootfstype=ext4 fsck.repair=yes net.ifnames=0 cma=64M rootwait" \
  > "$ROOT/boot/firmware/cmdline.txt"
rm -rf "$ROOT/tmp/"* "$ROOT/var/tmp/"* "$ROOT/root/.cache"
ls "$ROOT/boot/firmware" | head -50 | paste -sd' ' >&2
log "boot partition $(du -sh "$ROOT/boot/firmware" | cut -f1), root $(du -sh --exclude=./boot/firmware "$ROOT" | cut -f1)"
