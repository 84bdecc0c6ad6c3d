#!/usr/bin/env bash
# Stage 50: the card's three partitions, assembled without loop devices: FAT RASPIFIRM (firmware, kernel,
# initrd, pigate.txt) by mkfs.vfat -C + mcopy, ext4 RASPIROOT (read-only root) and ext4 PIGATEDATA (small
# here, grown at first boot) by mkfs.ext4 -d, an MBR by sfdisk on the plain file, and dd at the offsets.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

MiB=$((1024 * 1024))
FAT_START_MIB=4
FAT_MIB=256
DATA_MIB=64
img="$OUT/pigate.img"
work="$OUT/parts"; rm -rf "$work"; mkdir -p "$work"

# The data partition's first contents: /var/lib and /var/log as built (they are bind-mounted from here),
# /etc/pigate, the SSH and Wi-Fi folders the first boot fills, and the link to the venv pigate runs.
pigate_uid=$(grep '^pigate:' "$ROOT/etc/passwd" | cut -d: -f3)
pigate_gid=$(grep '^pigate:' "$ROOT/etc/group" | cut -d: -f3)
data="$work/data"; mkdir -p "$data/var" "$data/etc"
cp -a "$ROOT/var/lib" "$ROOT/var/log" "$data/var/"
find "$data/var/log" -type f -delete
install -d -m 0750 -o 0 -g "$pigate_gid" "$data/etc/pigate"
install -d -m 0755 "$data/etc/ssh" "$data/etc/ssh/authorized_keys"
install -d -m 0700 "$data/etc/wifi"
install -d -m 0750 -o "$pigate_uid" -g "$pigate_gid" "$data/var/lib/pigate" "$data/var/lib/pigate/content"
install -d -m 0755 "$data/var/lib/pigate-sw"
ln -sfn /opt/pigate/venv "$data/var/lib/pigate-sw/current"

# The root without the boot partition's files (its mount point stays, empty).
mv "$ROOT/boot/firmware" "$work/firmware"; mkdir -m 0755 "$ROOT/boot/firmware"
trap 'rmdir "$ROOT/boot/firmware" && mv "$work/firmware" "$ROOT/boot/firmware"' EXIT
root_kib=$(du -sk "$ROOT" | cut -f1)
ROOT_MIB=$(( (root_kib * 125 / 100 / 1024 + 64 + 3) / 4 * 4 ))
mkfs.ext4 -q -F -L RASPIROOT -d "$ROOT" -E root_owner=0:0 "$work/root.ext4" "${ROOT_MIB}M"
# The data file system is made small but for the card it grows into: mke2fs's "small" type (below 512 MiB)
# would give it 1 KiB blocks and an inode per 4 KiB, 6% of a grown card in inode tables. -T default gives
# 4 KiB blocks; its 64 MiB are one block group, so the inodes asked for here (twice the files it starts
# with) are what every 128 MiB group added by the growth gets as well (about 1% of the card).
data_inodes=$(( $(find "$data" | wc -l) * 2 + 2048 ))
mkfs.ext4 -q -F -T default -N "$data_inodes" -L PIGATEDATA -d "$data" -E root_owner=0:0 "$work/data.ext4" "${DATA_MIB}M"
mkfs.vfat -C -n RASPIFIRM -F 32 "$work/fat.vfat" $(( FAT_MIB * 1024 )) >/dev/null
mcopy -s -i "$work/fat.vfat" "$work/firmware/"* ::

root_start=$(( FAT_START_MIB + FAT_MIB )); data_start=$(( root_start + ROOT_MIB ))
total=$(( data_start + DATA_MIB ))
rm -f "$img"; truncate -s "${total}M" "$img"
sfdisk --quiet "$img" <<SFDISK
label: dos
unit: sectors
start=$(( FAT_START_MIB * 2048 )), size=$(( FAT_MIB * 2048 )), type=c, bootable
start=$(( root_start * 2048 )), size=$(( ROOT_MIB * 2048 )), type=83
start=$(( data_start * 2048 )), size=$(( DATA_MIB * 2048 )), type=83
SFDISK
dd if="$work/fat.vfat" of="$img" bs=1M seek=$FAT_START_MIB conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$img" bs=1M seek=$root_start conv=notrunc,sparse status=none
dd if="$work/data.ext4" of="$img" bs=1M seek=$data_start conv=notrunc,sparse status=none
rm -f "$work"/*.ext4 "$work"/*.vfat
sfdisk -l "$img" >&2
log "image $img: $total MiB (root $ROOT_MIB MiB)"
