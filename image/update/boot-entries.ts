// The boot configuration on the EFI partition, for both firmwares: systemd-boot's loader.conf and
// entries (UEFI) and syslinux.cfg (BIOS). Each slot's kernel and initramfs live in /a or /b on
// the EFI partition; the default entry is the committed slot. The build writes the first copy and
// the updater rewrites it; the initramfs hook (build/files-base/edgebox-boot-once) copies
// edgebox/committed/* back over the live files at the start of a trial boot.

export type Slot = 'a' | 'b';

export const SLOTS: readonly Slot[] = ['a', 'b'];

export function otherSlot(s: Slot): Slot {
  return s === 'a' ? 'b' : 'a';
}

export interface SlotEntry {
  slot: Slot;
  version: string;
  /** the root partition's GPT partition UUID */
  partuuid: string;
}

/** Kernel command line shared by every entry; the console list puts /dev/console on tty0. */
export const KERNEL_ARGS = 'rw rootwait panic=10 console=ttyS0,115200n8 console=tty0 loglevel=4 systemd.show_status=auto';

export function kernelArgs(e: SlotEntry): string {
  return `root=PARTUUID=${e.partuuid} ${KERNEL_ARGS} edgebox.slot=${e.slot}`;
}

export function loaderConf(defaultSlot: Slot): string {
  return `# Edgebox: the committed slot boots; hold a key at power-on for the menu\ndefault edgebox-${defaultSlot}.conf\ntimeout 0\neditor no\n`;
}

export function loaderEntry(e: SlotEntry): string {
  return [
    `title Edgebox ${e.version} (slot ${e.slot.toUpperCase()})`,
    `version ${e.version}`,
    `linux /${e.slot}/vmlinuz`,
    `initrd /${e.slot}/initrd.img`,
    `options ${kernelArgs(e)}`,
    '',
  ].join('\n');
}

export function syslinuxCfg(defaultSlot: Slot, entries: SlotEntry[]): string {
  // SERIAL must come before any other directive
  const lines = ['SERIAL 0 115200', '# Edgebox: the committed slot boots (BIOS)', `DEFAULT ${defaultSlot}`, 'PROMPT 0', 'TIMEOUT 0', ''];
  for (const e of entries) {
    lines.push(`LABEL ${e.slot}`, `  MENU LABEL Edgebox ${e.version} (slot ${e.slot.toUpperCase()})`,
      `  LINUX /${e.slot}/vmlinuz`, `  INITRD /${e.slot}/initrd.img`, `  APPEND ${kernelArgs(e)}`, '');
  }
  return lines.join('\n');
}

/**
 * Every file of the boot configuration (paths relative to the EFI partition's root). `next` is
 * what the next boot starts; `committed` what every boot after a trial starts. They differ only
 * while a new slot is being tried (the updater also writes edgebox/trial then).
 */
export function bootFiles(next: Slot, committed: Slot, entries: SlotEntry[]): Record<string, string> {
  const files: Record<string, string> = {
    'loader/loader.conf': loaderConf(next),
    'syslinux.cfg': syslinuxCfg(next, entries),
    'edgebox/committed/loader.conf': loaderConf(committed),
    'edgebox/committed/syslinux.cfg': syslinuxCfg(committed, entries),
  };
  for (const e of entries) files[`loader/entries/edgebox-${e.slot}.conf`] = loaderEntry(e);
  return files;
}
