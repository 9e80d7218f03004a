// Fetch a bundle: manifest.json and manifest.sig first (nothing else is fetched until the
// signature verifies against the image's baked keys and the manifest names the target version),
// then each file, streamed to the data partition while its sha256 is computed; a file whose size
// or hash is wrong is deleted and the bundle refused. Files already complete are not fetched again.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { verifyImageManifest, type ImageManifest } from '../../protocol/index.ts';

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

async function get(url: string, timeoutMs: number): Promise<Response> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!r.ok) throw new BundleError(`${url}: HTTP ${r.status}`);
  return r;
}

export async function fetchManifest(manifestUrl: string, keys: Record<string, string>, version: string): Promise<{ manifest: ImageManifest; bytes: Uint8Array }> {
  const bytes = new Uint8Array(await (await get(manifestUrl, 30_000)).arrayBuffer());
  const sig = await (await get(new URL('manifest.sig', manifestUrl).href, 30_000)).text();
  const check = verifyImageManifest(bytes, sig, keys);
  if (!check.ok) throw new BundleError(check.message);
  if (check.manifest.version !== version) throw new BundleError(`the bundle is version ${check.manifest.version}, control's target is ${version}`);
  return { manifest: check.manifest, bytes };
}

export async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 4 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

/** Download every file the manifest lists into `dir`, verified. Returns the local paths. */
export async function downloadBundle(manifestUrl: string, m: ImageManifest, dir: string, onProgress?: (name: string, bytes: number) => void): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const f of m.files) {
    const dest = join(dir, f.name);
    out[f.name] = dest;
    if (existsSync(dest) && (await stat(dest)).size === f.bytes && (await sha256Of(dest)) === f.sha256) continue;
    const part = `${dest}.part`;
    const res = await get(new URL(f.name, manifestUrl).href, 30 * 60_000);
    const h = createHash('sha256');
    let n = 0;
    const counted = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream).on('data', (c: Buffer) => {
      h.update(c);
      n += c.length;
      if (n > f.bytes) counted.destroy(new BundleError(`${f.name}: more than the ${f.bytes} bytes the manifest says`));
    });
    try {
      await pipeline(counted, createWriteStream(part, { flush: true }));
    } catch (e) {
      await rm(part, { force: true });
      throw e instanceof BundleError ? e : new BundleError(`${f.name}: download failed: ${(e as Error).message}`);
    }
    const sum = h.digest('hex');
    if (n !== f.bytes || sum !== f.sha256) {
      await rm(part, { force: true });
      throw new BundleError(`${f.name}: ${n !== f.bytes ? `${n} bytes, the manifest says ${f.bytes}` : `sha256 ${sum} does not match the manifest's ${f.sha256}`}`);
    }
    await rename(part, dest);
    onProgress?.(f.name, n);
  }
  return out;
}
