// Fetch a bundle: manifest.json and manifest.sig first (nothing else is fetched until the
// signature verifies against the image's baked keys and the manifest names the target version),
// then each file, streamed to the data partition while its sha256 is computed; a file whose size
// or hash is wrong is deleted and the bundle refused. Files already complete are not fetched again.
// The files come through node:http(s), a plain stream with less work per chunk than fetch's web
// streams: under qemu's emulation the updater was CPU-bound through the whole download.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { verifyImageManifest, type ImageManifest } from '../../protocol/index.ts';

export class BundleError extends Error {
  /** the network or the server failed, not the bundle: worth trying again at the next poll */
  readonly transient: boolean;
  constructor(message: string, transient = false) {
    super(message);
    this.name = 'BundleError';
    this.transient = transient;
  }
}

/** How long a file's download may go without receiving a byte. */
const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

/**
 * A GET's response body as a Node stream, following redirects; refused unless 200. Each request
 * has its own connection: a kept-alive one the server closed while the box was still writing the
 * previous file would fail the next request.
 */
function getBody(url: string, redirects = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const get = u.protocol === 'https:' ? httpsGet : u.protocol === 'http:' ? httpGet : null;
    if (!get) return reject(new BundleError(`${url}: only http and https are supported`));
    const req = get(u, { timeout: IDLE_TIMEOUT_MS, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects < MAX_REDIRECTS) {
        res.resume();
        return resolve(getBody(new URL(res.headers.location, url).href, redirects + 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new BundleError(`${url}: HTTP ${status}`, status >= 500 || status === 429));
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
    req.on('error', (e) => reject(new BundleError(`${url}: ${e.message}`, true)));
  });
}

async function getSmall(url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of await getBody(url)) chunks.push(c as Buffer);
  } catch (e) {
    throw e instanceof BundleError ? e : new BundleError(`${url}: ${(e as Error).message}`, true);
  }
  return Buffer.concat(chunks);
}

export async function fetchManifest(manifestUrl: string, keys: Record<string, string>, version: string): Promise<{ manifest: ImageManifest; bytes: Uint8Array }> {
  const bytes = new Uint8Array(await getSmall(manifestUrl));
  const sig = (await getSmall(new URL('manifest.sig', manifestUrl).href)).toString('utf8');
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
    const h = createHash('sha256');
    let n = 0;
    const counted = new Transform({
      transform(c: Buffer, _enc, cb) {
        h.update(c);
        n += c.length;
        cb(n > f.bytes ? new BundleError(`${f.name}: more than the ${f.bytes} bytes the manifest says`) : null, c);
      },
    });
    try {
      const res = await getBody(new URL(f.name, manifestUrl).href);
      await pipeline(res, counted, createWriteStream(part, { flush: true, highWaterMark: 1 << 20 }));
    } catch (e) {
      await rm(part, { force: true });
      throw e instanceof BundleError ? e : new BundleError(`${f.name}: download failed: ${(e as Error).message}`, true);
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
