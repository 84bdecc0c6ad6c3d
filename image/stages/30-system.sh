#!/usr/bin/env bash
# Stage 30: the box's system: the pigate user, units, udev rules, avahi, network, SSH (keys only, off without
# one), hostname, read-only root (fstab), first-boot state removed (machine-id, host keys).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

# Files of the image, then the repository's own unit files, udev rules and avahi service.
cp -a --no-preserve=ownership "$IMAGE_DIR/files/." "$ROOT/"
install -m 0644 "$REPO"/systemd/pigate*.service "$ROOT/etc/systemd/system/"
install -D -m 0644 "$REPO/systemd/pigate.tmpfiles" "$ROOT/usr/lib/tmpfiles.d/pigate.conf"
install -D -m 0644 "$REPO/systemd/avahi/pigate.service" "$ROOT/etc/avahi/services/pigate.service"
install -m 0644 "$REPO"/hw/*.rules "$ROOT/etc/udev/rules.d/"
install -D -m 0644 "$REPO/systemd/pigate.toml.example" "$ROOT/usr/share/doc/pigate/pigate.toml.example"
install -m 0644 "$REPO/README.md" "$ROOT/usr/share/doc/pigate/README.md"
install -m 0644 "$IMAGE_DIR/README.md" "$ROOT/usr/share/doc/pigate/IMAGE.md"
install -m 0644 "$IMAGE_DIR/pigate.txt" "$ROOT/boot/firmware/pigate.txt"

echo pigate > "$ROOT/etc/hostname"
cat > "$ROOT/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
127.0.1.1	pigate
::1		localhost ip6-localhost ip6-loopback
HOSTS
ln -sf /data/etc/wifi/wpa_supplicant-wlan0.conf "$ROOT/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
mkdir -p "$ROOT/data" "$ROOT/etc/pigate" "$ROOT/boot/firmware"
ln -sf /var/lib/pigate-sw/current/bin/pigate "$ROOT/usr/local/bin/pigate"  # the running venv's, for the operator
ln -sf /usr/share/zoneinfo/Etc/UTC "$ROOT/etc/localtime"; echo Etc/UTC > "$ROOT/etc/timezone"

in_root sh -ec '
  getent group gpio >/dev/null || groupadd --system gpio
  id pigate >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /var/lib/pigate \
    --shell /usr/sbin/nologin --groups dialout,gpio pigate
  systemctl enable systemd-networkd systemd-resolved systemd-timesyncd avahi-daemon ssh \
    pigate.service pigate-firstboot.service pigate-growdata.service wpa_supplicant@wlan0.service
  systemctl disable ssh.socket 2>/dev/null || true
  systemctl mask systemd-networkd-wait-online.service systemd-firstboot.service
  passwd --lock root
'
# Made at first boot, never shipped: machine-id ("uninitialized" = first boot for systemd) and SSH host keys.
echo uninitialized > "$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id" "$ROOT"/etc/ssh/ssh_host_*
ln -sf /etc/machine-id "$ROOT/var/lib/dbus/machine-id"
log "pigate uid $(chroot "$ROOT" id -u pigate 2>/dev/null || grep ^pigate: "$ROOT/etc/passwd" | cut -d: -f3)"
