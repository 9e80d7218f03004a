#!/bin/sh
# mmdebstrap customize hook for the image's Debian base: $1 is the root directory. Runs once per
# base (the result is cached); the project's own files are added after, without a chroot.
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
root="$1"
pruned="$2"
bootonce="$3"

# sources for the box itself: Debian 12 and its security repository
cat > "$root/etc/apt/sources.list" <<SRC
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
rm -f "$root/etc/apt/sources.list.d/"*.list "$root/etc/apt/sources.list.d/"*.sources
rm -rf "$root/var/lib/apt/lists/"* "$root/var/cache/apt/"*.bin "$root/var/cache/apt/archives/"*.deb

echo "edgebox customize: user" >&2
# the unprivileged user the daemon runs as (a fixed system uid/gid, written without a chroot)
grep -q '^edgebox:' "$root/etc/passwd" || {
  echo 'edgebox:x:990:990:Edgebox appliance:/var/lib/edgebox:/usr/sbin/nologin' >> "$root/etc/passwd"
  echo 'edgebox:!*:19000::::::' >> "$root/etc/shadow"
  echo 'edgebox:x:990:' >> "$root/etc/group"
  echo 'edgebox:!::' >> "$root/etc/gshadow"
}

# kernel: drop module trees a video server never loads, then rebuild the index and the initramfs
# with the boot-once hook and what it needs to write the EFI partition
echo "edgebox customize: kernel modules" >&2
kver=$(ls "$root/lib/modules" | head -n1)
for d in $pruned; do rm -rf "$root/lib/modules/$kver/$d"; done
chroot "$root" /sbin/depmod -a "$kver"
install -m 0755 "$bootonce" "$root/etc/initramfs-tools/scripts/local-bottom/edgebox-boot-once"
printf 'vfat\nnls_cp437\nnls_ascii\nnls_utf8\n' >> "$root/etc/initramfs-tools/modules"
echo "edgebox customize: initramfs for $kver" >&2
rm -f "$root/usr/sbin/update-initramfs"
chroot "$root" /usr/bin/dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
chroot "$root" /usr/sbin/update-initramfs -c -k "$kver" >/dev/null
# stable names for the boot entries, whatever the kernel version
ln -sf "boot/vmlinuz-$kver" "$root/vmlinuz"
ln -sf "boot/initrd.img-$kver" "$root/initrd.img"

# no documentation, manuals or translations on the box (copyright files stay)
find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
rm -rf "$root/usr/share/man" "$root/usr/share/info" "$root/usr/share/locale" "$root/usr/share/lintian"
