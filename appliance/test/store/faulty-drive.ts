// A real failing drive for tests: an ext4 filesystem on a loop device over a sparse image file,
// mounted in a temp dir. breakUnder() shrinks the device below the first data block of the given
// files (truncate the image, `losetup -c`): the block layer then refuses every read and write
// past the new end ("attempt to access beyond end of device"), so reads of those files and the
// writeback of new files fail with a real EIO from the kernel, while the filesystem's metadata at
// the start of the device stays readable. (A device-mapper `error`/`flakey` target would do the
// same, but this sandbox's kernel has no device-mapper; loop devices are enough.)
//
// Needs root and util-linux (losetup, mount) and e2fsprogs (mkfs.ext4, filefrag): a missing tool
// or permission fails the test that uses it rather than skipping it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FaultyDrive {
  /** the mounted filesystem */
  mount: string;
  device: string;
  /** make every block from the first data block of these files on unreadable and unwritable */
  breakUnder(paths: readonly string[]): void;
  /** unmount and detach (the files on it go with the image) */
  close(): void;
}

const BLOCK = 4096;

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Physical byte offset of a file's first data block (filefrag -v with 1-byte units). */
function firstBlock(path: string): number {
  const out = run('filefrag', ['-v', '-b1', path]);
  let min = Number.POSITIVE_INFINITY;
  for (const m of out.matchAll(/^\s*\d+:\s+\d+\.\.\s*\d+:\s+(\d+)\.\./gm)) min = Math.min(min, Number(m[1]));
  if (!Number.isFinite(min)) throw new Error(`filefrag found no extent for ${path}:\n${out}`);
  return min;
}

export function makeFaultyDrive(sizeBytes = 64 * 1024 * 1024): FaultyDrive {
  if (process.getuid?.() !== 0) throw new Error('the failing-drive test needs root (losetup, mount)');
  const base = mkdtempSync(join(tmpdir(), 'edgebox-faulty-'));
  const image = join(base, 'drive.img');
  const mount = join(base, 'mnt');
  run('truncate', ['-s', String(sizeBytes), image]);
  const device = run('losetup', ['--find', '--show', image]).trim();
  let mounted = false;
  const close = (): void => {
    try {
      if (mounted) run('umount', [mount]);
      mounted = false;
    } finally {
      run('losetup', ['-d', device]);
      rmSync(base, { recursive: true, force: true });
    }
  };
  try {
    // no journal: a journal write past the end would make ext4 abort and remount read-only, which
    // is a different failure (EROFS) from the one under test
    run('mkfs.ext4', ['-q', '-b', String(BLOCK), '-O', '^has_journal', '-E', 'lazy_itable_init=0', device]);
    run('mkdir', ['-p', mount]);
    run('mount', ['-o', 'errors=continue', device, mount]);
    mounted = true;
  } catch (err) {
    close();
    throw err;
  }
  return {
    mount,
    device,
    breakUnder(paths) {
      run('sync', []);
      const cut = Math.floor(Math.min(...paths.map(firstBlock)) / BLOCK) * BLOCK;
      truncateSync(image, cut);
      run('losetup', ['-c', device]);
      // drop what the page cache holds of these files, so reads reach the device
      for (const p of paths) run('dd', [`if=${p}`, 'iflag=nocache', 'count=0', 'status=none']);
    },
    close,
  };
}
