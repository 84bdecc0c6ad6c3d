# Shared by the stages: paths, settings, logging, and a chroot with /proc, /sys, /dev and DNS that is always
# taken down again.
IMAGE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$IMAGE_DIR/.." && pwd)
OUT=${PIGATE_IMAGE_OUT:-$IMAGE_DIR/out}
SUITE=${PIGATE_IMAGE_SUITE:-trixie}
MIRROR=${PIGATE_IMAGE_MIRROR:-http://deb.debian.org/debian}
ROOT=$OUT/root
# The initramfs modules: SD card on a Pi 3/4/5, and virtio for the qemu smoke boot.
INITRAMFS_MODULES="ext4 crc32c_generic vfat nls_cp437 nls_ascii sdhci_iproc bcm2835 sdhci_pltfm sdhci_brcmstb
  reset_raspberrypi reset_brcmstb raspberrypi_cpufreq raspberrypi_hwmon mmc_block virtio_pci virtio_mmio virtio_blk"
mkdir -p "$OUT"

log() { echo "[$(date +%H:%M:%S)] $(basename "$0" .sh): $*" >&2; }
die() { log "error: $*"; exit 1; }

need_binfmt() {
  [ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc \
    || die "binfmt_misc is not mounted and cannot be"
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64 2>/dev/null \
    || die "no qemu-aarch64 binfmt handler: apt-get install qemu-user-static binfmt-support"
}

# in_root CMD...: run CMD inside $ROOT (arm64, through binfmt) with the pseudo file systems mounted.
in_root() {
  need_binfmt
  local m
  for m in proc sys dev dev/pts; do mkdir -p "$ROOT/$m"; done
  mount -t proc proc "$ROOT/proc"
  mount --rbind /sys "$ROOT/sys"; mount --make-rslave "$ROOT/sys"
  mount --bind /dev "$ROOT/dev"; mount --bind /dev/pts "$ROOT/dev/pts"
  local resolv_backup=""
  if [ -e "$ROOT/etc/resolv.conf" ] || [ -L "$ROOT/etc/resolv.conf" ]; then
    resolv_backup="$ROOT/etc/resolv.conf.pigate-build"; mv "$ROOT/etc/resolv.conf" "$resolv_backup"
  fi
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # Downloads inside the root (pip) trust what the build machine trusts, for the build only: not kept.
  local ca=()
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$ROOT/tmp"; cp /etc/ssl/certs/ca-certificates.crt "$ROOT/tmp/build-ca.crt"
    ca=(PIP_CERT=/tmp/build-ca.crt SSL_CERT_FILE=/tmp/build-ca.crt REQUESTS_CA_BUNDLE=/tmp/build-ca.crt)
  fi
  local rc=0
  LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$ROOT" env "${ca[@]}" "$@" || rc=$?
  rm -f "$ROOT/etc/resolv.conf" "$ROOT/tmp/build-ca.crt"
  [ -z "$resolv_backup" ] || mv "$resolv_backup" "$ROOT/etc/resolv.conf"
  umount "$ROOT/dev/pts" "$ROOT/dev"; umount -R "$ROOT/sys"; umount "$ROOT/proc"
  return $rc
}
