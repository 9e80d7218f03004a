// The update bundle: a directory with the slot's root filesystem image (zstd), its kernel and
// initramfs, manifest.json (version, each file's size and sha256) and manifest.sig (Ed25519 over
// manifest.json's exact bytes). Serve the directory over HTTP(S) and give control its
// manifest.json URL as the site's target (PUT /v1/sites/:id/image).

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_FILES, signImageManifest, type ImageManifest, type ImageSigningKey } from '../../protocol/index.ts';
import { run } from './exec.ts';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface BundleInput {
  version: string;
  rootfsImage: string;
  kernel: string;
  initrd: string;
}

export async function writeBundle(dir: string, input: BundleInput, key: ImageSigningKey): Promise<ImageManifest> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // the filesystem image's free space is zeros: compressed, the download is a fraction of it
  await run('zstd', ['-q', '-T0', '-6', '-f', input.rootfsImage, '-o', join(dir, 'rootfs.img.zst')]);
  await copyFile(input.kernel, join(dir, 'vmlinuz'));
  await copyFile(input.initrd, join(dir, 'initrd.img'));
  const files = [];
  for (const name of IMAGE_FILES) {
    const p = join(dir, name);
    files.push({ name, bytes: (await stat(p)).size, sha256: await sha256File(p) });
  }
  const rootfs = { bytes: (await stat(input.rootfsImage)).size, sha256: await sha256File(input.rootfsImage) };
  const manifest: ImageManifest = { v: 1, version: input.version, createdAt: new Date().toISOString(), kid: key.kid, files, rootfs };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
  await writeFile(join(dir, 'manifest.json'), bytes);
  await writeFile(join(dir, 'manifest.sig'), signImageManifest(key, bytes) + '\n');
  return manifest;
}
