// The project's part of the root filesystem, added on top of the Debian base without a chroot:
// Node 24 (the binary the project already takes from npm), the on-box programs (the appliance
// daemon and its workers, and image/'s first boot, turn-up, updates and console) bundled one file
// each (programs.ts), the npm packages left outside the bundles (a native addon) and theirs,
// the static files under files/ (units, sysctls, limits, journald caps), the version and the
// update-signing public keys.

import { chmod, copyFile, cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.ts';
import { bundlePrograms, EXTERNAL } from './programs.ts';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** Where the project lives on the box. */
export const APP_DIR = 'opt/edgebox';
/** The Node binary npm installed for the project (the `node` package), as `npm run node-version` runs it. */
export function nodeBinary(): string {
  const p = join(REPO, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(p)) throw new Error(`${p} is missing: run npm install (the devDependency "node" provides Node 24)`);
  return p;
}

/**
 * The packages and their production dependency closure, each as the directory npm installed it
 * in (hoisted or nested), resolved the way Node would from the importer's directory.
 */
export async function dependencyClosure(roots: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const visit = async (name: string, fromDir: string): Promise<void> => {
    const req = createRequire(join(fromDir, 'noop.js'));
    let pkgJson: string;
    try {
      pkgJson = req.resolve(`${name}/package.json`);
    } catch {
      // packages whose exports hide package.json: find the directory by walking node_modules
      let d = fromDir;
      for (;;) {
        const p = join(d, 'node_modules', name, 'package.json');
        if (existsSync(p)) { pkgJson = p; break; }
        const up = dirname(d);
        if (up === d) throw new Error(`cannot find npm package ${name} (imported from ${fromDir})`);
        d = up;
      }
    }
    // the real directory: a worktree's node_modules may be a symlink to another checkout's
    const dir = realpathSync(dirname(pkgJson));
    if (found.has(dir)) return;
    found.set(dir, name);
    const pkg = JSON.parse(await readFile(pkgJson, 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const dep of Object.keys({ ...pkg.dependencies })) await visit(dep, dir);
    for (const dep of Object.keys({ ...pkg.optionalDependencies })) {
      try { await visit(dep, dir); } catch { /* an optional dependency for another platform */ }
    }
  };
  for (const r of roots) await visit(r, REPO);
  return found;
}

const SKIP_DIRS = /^(test|tests|__tests__|docs?|examples?|benchmarks?|\.github)$/;

/** Whether a path inside an npm package goes to the box (no tests, docs, other platforms' binaries). */
function keepInPackage(pkgDir: string, path: string, isDir: boolean): boolean {
  const rel = relative(pkgDir, path);
  const name = rel.split('/').pop()!;
  if (pkgDir.endsWith('/better-sqlite3')) {
    if (/^(deps|src|build)(\/|$)/.test(rel)) return false;
    if (rel.startsWith('prebuilds/')) return rel === 'prebuilds/linux-x64.node';
  }
  if (isDir) return !SKIP_DIRS.test(name);
  return rel === 'package.json' || !/\.(md|markdown|map|d\.ts|d\.mts|d\.cts)$/i.test(name);
}

export interface AppLayerInfo { packages: string[]; programs: Record<string, number>; nodeVersion: string }

export async function addAppLayer(root: string, version: string, keys: Record<string, string>): Promise<AppLayerInfo> {
  const app = join(root, APP_DIR);
  const programs = await bundlePrograms(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'edgebox-appliance', version, private: true, type: 'module' }, null, 2) + '\n');
  // the npm packages the bundles import (left outside them), and their dependencies
  const closure = await dependencyClosure(EXTERNAL);
  // each package lands where it sits under the project's node_modules (hoisted or nested), even
  // when that folder is a symlink to another checkout's (a git worktree's)
  const modules = realpathSync(join(REPO, 'node_modules'));
  for (const [dir] of closure) {
    const rel = relative(modules, dir);
    if (rel.startsWith('..')) throw new Error(`npm package ${dir} is outside ${modules}`);
    const dest = join(app, 'node_modules', rel);
    await cp(dir, dest, {
      recursive: true,
      filter: (src) => {
        if (src === dir) return true;
        // a nested node_modules is copied as its own closure entry, never wholesale
        if (relative(dir, src).split('/').includes('node_modules')) return false;
        return keepInPackage(dir, src, statSync(src).isDirectory());
      },
    });
  }
  // Node 24: the project's own binary, stripped of its debug info
  const nodeDest = join(root, 'usr/local/bin/node');
  await mkdir(dirname(nodeDest), { recursive: true });
  await copyFile(nodeBinary(), nodeDest);
  await run('strip', ['--strip-debug', nodeDest]).catch(() => { /* binutils absent: ship it unstripped */ });
  await chmod(nodeDest, 0o755);
  const nodeVersion = (await run(nodeDest, ['--version'])).trim();
  // what the box knows about itself
  const lib = join(root, 'usr/lib/edgebox');
  await mkdir(lib, { recursive: true });
  await writeFile(join(lib, 'version'), `${version}\n`);
  await writeFile(join(lib, 'image-keys.json'), JSON.stringify(keys, null, 2) + '\n');
  // static files: units, sysctls, limits, journald, fstab, chrony, …
  await cp(fileURLToPath(new URL('./files', import.meta.url)), root, { recursive: true, force: true });
  // written at each boot from the site config (first-boot/render.ts)
  await rm(join(root, 'etc/resolv.conf'), { force: true });
  await symlink('/run/edgebox/resolv.conf', join(root, 'etc/resolv.conf'));
  return { packages: [...closure.values()].sort(), programs, nodeVersion };
}
