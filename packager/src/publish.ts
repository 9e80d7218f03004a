// Publish: CMAF files and the key-free content manifest go to the origin store; title, manifest
// and keys go to control only — POSTed to /v1/titles when a control URL is given, else written
// as `<titleId>.title.json` into control's ingest directory. Every write is temp file → fsync →
// rename, so a reader never sees half a file, and nothing is written unless QA passed.

import { copyFile, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { TitleRecord, type ContentManifest } from '../../protocol/index.ts';

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function atomicCopy(src: string, dest: string): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  await copyFile(src, tmp);
  await fsyncPath(tmp);
  await rename(tmp, dest);
}

async function atomicWrite(dest: string, data: string, mode?: number): Promise<void> {
  const tmp = `${dest}.tmp-${process.pid}`;
  await writeFile(tmp, data, { mode });
  await fsyncPath(tmp);
  await rename(tmp, dest);
}

/** Origin store layout: `<store>/<fileId>` (served at /v1/f/<fileId>) and `<store>/manifests/<titleId>.json`. */
export function originPaths(store: string, titleId: string): { manifest: string } {
  return { manifest: join(store, 'manifests', `${titleId}.json`) };
}

export async function publishToOrigin(store: string, manifest: ContentManifest, files: Record<string, string>): Promise<string[]> {
  await mkdir(join(store, 'manifests'), { recursive: true });
  const written: string[] = [];
  try {
    for (const f of manifest.files) {
      const dest = join(store, f.fileId);
      await atomicCopy(files[f.fileId], dest);
      written.push(dest);
    }
    // The manifest last: its presence says the title's files are all there.
    const m = originPaths(store, manifest.titleId).manifest;
    await atomicWrite(m, JSON.stringify(manifest, null, 2));
    written.push(m);
  } catch (e) {
    await Promise.all(written.map((p) => unlink(p).catch(() => {})));
    throw e;
  }
  return written;
}

export interface Registration {
  via: 'control' | 'file';
  where: string;
}

export async function registerTitle(
  record: TitleRecord,
  target: { controlUrl?: string; controlToken?: string; registerDir: string },
): Promise<Registration> {
  const body = TitleRecord.parse(record);
  if (target.controlUrl) {
    const url = `${target.controlUrl.replace(/\/+$/, '')}/v1/titles`;
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(target.controlToken ? { authorization: `Bearer ${target.controlToken}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new Error(`control refused the title (${res.statusCode} from ${url}): ${text.slice(0, 300)}`);
    }
    return { via: 'control', where: url };
  }
  await mkdir(target.registerDir, { recursive: true });
  const dest = join(target.registerDir, `${body.title.titleId}.title.json`);
  // It holds content keys: readable by its owner only.
  await atomicWrite(dest, JSON.stringify(body, null, 2), 0o600);
  return { via: 'file', where: dest };
}
