// Lines for the person at the box: written to every active console (screen and serial), since an
// ISP may be on either, and to stdout for the journal.

import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';

function consoles(): string[] {
  try {
    return readFileSync('/sys/class/tty/console/active', 'utf8').trim().split(/\s+/).filter(Boolean).map((n) => `/dev/${n}`);
  } catch {
    return [];
  }
}

export function announce(lines: string | string[]): void {
  const text = (Array.isArray(lines) ? lines : [lines]).map((l) => `${l}\n`).join('');
  process.stdout.write(text);
  if (process.env.EDGEBOX_IMAGE_ROOT) return; // tests: stdout only
  for (const dev of consoles()) {
    try {
      const fd = openSync(dev, 'w');
      try { writeSync(fd, text.replace(/\n/g, '\r\n')); } finally { closeSync(fd); }
    } catch { /* a console we cannot open */ }
  }
}
