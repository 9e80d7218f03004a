// `npm run image`: build the appliance disk image and its update bundle, with progress lines.
//
//   npm run image -- [--version V] [--out DIR] [--cache DIR] [--no-cache]
//                    [--unattended FILE] [--extra-bundle V[:daemon-exits]]...
//
// Output in --out (default image/out): edgebox-<V>.img (raw GPT disk; write it with dd or
// bmaptool), edgebox-<V>.img.bmap when bmaptool is installed, and bundle-<V>/ (the update bundle).
// The Debian base is cached in --cache (default /var/cache/edgebox-image) under a key of its
// package list; --no-cache builds it from scratch into a temporary cache.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ImageVersion } from '../../protocol/index.ts';
import { REPO } from './app-layer.ts';
import { DEFAULT_CACHE_DIR, ensureBase } from './base.ts';
import { writeBundle } from './bundle.ts';
import { makeDisk } from './disk.ts';
import { run, which } from './exec.ts';
import { Progress } from './progress.ts';
import { assembleRootfs, makeRootfsImage, type RootfsFault } from './rootfs.ts';
import { loadSigningKey } from './signing.ts';

export interface BuildOptions {
  version: string;
  outDir: string;
  cacheDir: string;
  /** file copied to the EFI partition as edgebox.json (unattended first boot) */
  unattended?: string;
  /** more bundles from the same base, e.g. for staged rollouts or CI's update test */
  extraBundles?: { version: string; fault?: RootfsFault }[];
  /** extra files for the EFI partition (CI's smoke flag) */
  espExtra?: Record<string, string>;
  /** false: no bundle of the disk's own version (CI's image test only serves the extra ones) */
  bundle?: boolean;
  quiet?: boolean;
}

export interface BuildResult {
  disk: string;
  diskBytes: number;
  bundles: Record<string, string>;
  baseCached: boolean;
  ms: number;
  steps: { step: string; ms: number }[];
}

async function defaultVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  try {
    const sha = (await run('git', ['-C', REPO, 'rev-parse', '--short=8', 'HEAD'])).trim();
    const dirty = (await run('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'])).trim() !== '';
    return `${pkg.version}+g${sha}${dirty ? '.dirty' : ''}`;
  } catch {
    return pkg.version;
  }
}

export async function buildImage(o: BuildOptions): Promise<BuildResult> {
  const p = new Progress(o.quiet);
  const work = await mkdtemp(join(tmpdir(), 'edgebox-image-'));
  try {
    const base = await ensureBase(o.cacheDir, p);
    p.step('signing key');
    const signing = await loadSigningKey();
    p.line('signing key', signing.dev
      ? `${signing.generated ? 'generated a' : 'using the'} DEVELOPMENT key ${signing.key.kid} in ${signing.file} (git-ignored; set EDGEBOX_IMAGE_SIGNING_KEY for a release)`
      : `release key ${signing.key.kid} from ${signing.file}`);
    const keys = { [signing.key.kid]: signing.key.x };

    const rootDir = join(work, 'rootfs');
    p.step('rootfs', `unpack the base, add Node, the appliance and the image's units (version ${o.version})`);
    const info = await assembleRootfs(rootDir, base.tarball, o.version, keys);
    const kib = Object.entries(info.programs).map(([f, b]) => `${f.replace(/\.ts$/, '.js')} ${(b / 1024).toFixed(0)} KiB`);
    p.line('rootfs', `node ${info.nodeVersion}; programs: ${kib.join(', ')}; npm packages: ${info.packages.join(', ')}`);
    p.step('rootfs image', 'mkfs.ext4 -d');
    const rootImg = join(work, 'rootfs.img');
    const rootBytes = await makeRootfsImage(rootDir, rootImg, 'edgebox-root');
    p.line('rootfs image', `${(rootBytes / 2 ** 20).toFixed(0)} MiB`);
    const { kernel, initrd } = info;

    p.step('disk', 'GPT: EFI (systemd-boot + syslinux), root A, root B, data');
    const espExtra: Record<string, string> = { ...o.espExtra };
    if (o.unattended) espExtra['edgebox.json'] = await readFile(o.unattended, 'utf8');
    const disk = join(o.outDir, `edgebox-${o.version}.img`);
    const d = await makeDisk({
      path: disk, version: o.version, rootfsImage: rootImg, kernel, initrd,
      systemdBoot: join(rootDir, 'usr/lib/systemd/boot/efi/systemd-bootx64.efi'), espExtra, workDir: join(work, 'disk'),
    });
    if (await which('bmaptool')) {
      await run('bmaptool', ['create', '-o', `${disk}.bmap`, disk]);
    }
    const bundles: Record<string, string> = {};
    if (o.bundle !== false) {
      p.step('bundle', `bundle-${o.version}`);
      bundles[o.version] = join(o.outDir, `bundle-${o.version}`);
      await writeBundle(bundles[o.version], { version: o.version, rootfsImage: rootImg, kernel, initrd }, signing.key);
    }
    for (const extra of o.extraBundles ?? []) {
      p.step('bundle', `bundle-${extra.version}${extra.fault?.daemonExitsAtStart ? ' (test only: its daemon exits at start)' : ''}`);
      const x = await assembleRootfs(rootDir, base.tarball, extra.version, keys, extra.fault);
      await makeRootfsImage(rootDir, rootImg, 'edgebox-root');
      bundles[extra.version] = join(o.outDir, `bundle-${extra.version}`);
      await writeBundle(bundles[extra.version], { version: extra.version, rootfsImage: rootImg, kernel: x.kernel, initrd: x.initrd }, signing.key);
    }
    p.end();
    const diskAllocated = Number((await run('du', ['-B1', disk])).split(/\s/)[0]);
    p.line('done', `${disk}: ${(d.bytes / 2 ** 30).toFixed(2)} GiB raw, ${(diskAllocated / 2 ** 20).toFixed(0)} MiB allocated; bundle ${(rootBytes / 2 ** 20).toFixed(0)} MiB; ${(p.elapsedMs / 1000).toFixed(1)} s (base ${base.cached ? 'cached' : 'built'})`);
    return { disk, diskBytes: (await stat(disk)).size, bundles, baseCached: base.cached, ms: p.elapsedMs, steps: p.steps };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      out: { type: 'string' },
      cache: { type: 'string' },
      'no-cache': { type: 'boolean' },
      unattended: { type: 'string' },
      'extra-bundle': { type: 'string', multiple: true },
    },
  });
  const version = values.version ?? await defaultVersion();
  const v = ImageVersion.safeParse(version);
  if (!v.success) throw new Error(`--version ${version}: ${v.error.issues[0].message}`);
  let cacheDir = resolve(values.cache ?? process.env.EDGEBOX_IMAGE_CACHE ?? DEFAULT_CACHE_DIR);
  let scratchCache: string | undefined;
  if (values['no-cache']) cacheDir = scratchCache = await mkdtemp(join(tmpdir(), 'edgebox-image-cache-'));
  try {
    await buildImage({
      version, outDir: resolve(values.out ?? join(REPO, 'image', 'out')), cacheDir, unattended: values.unattended,
      extraBundles: (values['extra-bundle'] ?? []).map((s) => {
        const [ver, flag] = s.split(':');
        return { version: ver, fault: flag === 'daemon-exits' ? { daemonExitsAtStart: true } : undefined };
      }),
    });
  } finally {
    if (scratchCache) await rm(scratchCache, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.getuid?.() !== 0) {
    process.stderr.write('npm run image: must run as root (mmdebstrap chroots, and the root filesystem keeps its owners)\n');
    process.exit(2);
  }
  main().catch((e: unknown) => {
    process.stderr.write(`npm run image: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
