// What the image's Debian base is made of. The base (everything Debian, before our own files) is
// cached between builds under a key hashed from all of this, so changing a package, a mirror or
// a base hook rebuilds it and nothing else does.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SUITE = 'bookworm';

/** Debian 12, from Debian's own archive; EDGEBOX_IMAGE_MIRROR points the build at another copy. */
export function mirrors(env: NodeJS.ProcessEnv = process.env): string[] {
  const debian = env.EDGEBOX_IMAGE_MIRROR ?? 'http://deb.debian.org/debian';
  const security = env.EDGEBOX_IMAGE_SECURITY_MIRROR ?? 'http://deb.debian.org/debian-security';
  return [
    `deb ${debian} ${SUITE} main`,
    `deb ${debian} ${SUITE}-updates main`,
    `deb ${security} ${SUITE}-security main`,
  ];
}

/** Installed on top of minbase. Nothing with a daemon we do not run; no recommends. */
export const PACKAGES = [
  'systemd', 'systemd-sysv', 'udev', 'kmod', 'procps', 'iproute2', 'chrony',
  'linux-image-amd64', 'initramfs-tools', 'zstd', 'systemd-boot-efi',
  // first boot grows the data partition; the updater writes a slot and the EFI partition
  'fdisk', 'e2fsprogs', 'dosfstools',
  // Node's runtime dependencies (the binary comes from npm, not Debian) and TLS to control
  'libstdc++6', 'ca-certificates',
];

/** Kernel module trees a headless video server never loads (sound, radios, cameras, GPUs, …). */
export const PRUNED_MODULES = [
  'kernel/sound', 'kernel/drivers/gpu', 'kernel/drivers/media', 'kernel/drivers/staging',
  'kernel/drivers/net/wireless', 'kernel/net/wireless', 'kernel/net/mac80211', 'kernel/drivers/bluetooth',
  'kernel/net/bluetooth', 'kernel/drivers/iio', 'kernel/drivers/isdn', 'kernel/drivers/net/can', 'kernel/net/can',
  'kernel/drivers/input/joystick', 'kernel/drivers/input/touchscreen', 'kernel/drivers/input/tablet',
  'kernel/drivers/infiniband', 'kernel/drivers/net/ethernet/qlogic/qed', 'kernel/drivers/comedi',
  'kernel/drivers/hid/intel-ish-hid', 'kernel/drivers/mmc', 'kernel/drivers/memstick', 'kernel/drivers/nfc', 'kernel/net/nfc',
  'kernel/drivers/net/wwan', 'kernel/drivers/pcmcia', 'kernel/drivers/platform/chrome', 'kernel/drivers/w1',
];

/** Files the base's customize hook installs; their content is part of the cache key. */
export const BASE_FILES = {
  bootOnce: fileURLToPath(new URL('./files-base/edgebox-boot-once', import.meta.url)),
  essential: fileURLToPath(new URL('./files-base/essential.sh', import.meta.url)),
  customize: fileURLToPath(new URL('./files-base/customize.sh', import.meta.url)),
};

export function baseKey(env: NodeJS.ProcessEnv = process.env): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: 1, suite: SUITE, mirrors: mirrors(env), packages: PACKAGES, pruned: PRUNED_MODULES }));
  for (const f of Object.values(BASE_FILES)) h.update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}
