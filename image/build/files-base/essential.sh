#!/bin/sh
# mmdebstrap essential hook: until the customize hook, update-initramfs is a no-op, so the kernel
# and udev installs do not each build an initramfs; customize.sh builds it once, at the end.
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
root="$1"
chroot "$root" /usr/bin/dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
printf '#!/bin/sh\nexit 0\n' > "$root/usr/sbin/update-initramfs"
chmod 0755 "$root/usr/sbin/update-initramfs"
