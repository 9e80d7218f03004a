// Runs the real control service (`node control/main.ts <config>`) as a child process on a fixed
// loopback port, so it can be stopped and started again at the same address.

import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TitleRecord } from '../../../../protocol/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');

export const OPERATOR_TOKEN = 'operator-token-for-reporter-tests';
export const ENROLLMENT_TOKEN = 'enrollment-token-for-reporter-tests-0001';
export const PACKAGER_TOKEN = 'packager-token-for-reporter-tests';

export interface ControlProc {
  url: string;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  op(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** `extra`: more control settings (they win over the defaults above) */
export async function startControlProcess(dir: string, port: number, reportIntervalMs: number, extra: Record<string, unknown> = {}): Promise<ControlProc> {
  const config = path.join(dir, 'control.json');
  await writeFile(config, JSON.stringify({
    host: '127.0.0.1', port, dbPath: path.join(dir, 'control.db'), logLevel: 'info', operatorToken: OPERATOR_TOKEN, packagerToken: PACKAGER_TOKEN,
    enrollmentTokens: [{ token: ENROLLMENT_TOKEN, siteId: 'lon-1' }], reportIntervalMs, publicUrl: `http://127.0.0.1:${port}`,
    ...extra,
  }));
  const proc: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'control/main.ts'), config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`control did not start: ${out}`)), 20000);
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('control listening')) { clearTimeout(t); resolve(); }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d) => { out += d; });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`control exited ${code}: ${out}`)); });
  });
  proc.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGCONT');
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
    op: async (method, p, body) => {
      const res = await fetch(url + p, {
        method, headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/** A title of two files (`<titleId>.v1`, `<titleId>.a1`) registered at control, as the packager would: steering needs one. */
export async function addTitle(c: ControlProc, titleId: string): Promise<void> {
  const kid = (n: number) => Buffer.from(`${titleId}:${n}`.padEnd(16, '.').slice(0, 16)).toString('hex');
  const file = (fileId: string, kind: 'video' | 'audio', k: string) => ({
    fileId, kind, mimeType: 'video/mp4', codecs: 'avc1', bandwidth: 1e6, bytes: 5000, sha256: '0'.repeat(64),
    initRange: { start: 0, end: 9 }, indexRange: { start: 10, end: 99 }, kid: k,
  });
  const rec: TitleRecord = {
    title: { titleId, name: titleId, regions: [] },
    manifest: {
      version: 1, titleId, durationMs: 60_000, files: [file(`${titleId}.v1`, 'video', kid(1)), file(`${titleId}.a1`, 'audio', kid(2))], kids: [kid(1), kid(2)],
      templates: { dash: '<MPD><Period>{{BASE_URLS}}</Period></MPD>', hls: { master: '#EXTM3U\n', media: {} } }, createdAt: '2026-01-01T00:00:00Z',
    },
    keys: [{ kid: kid(1), key: '11'.repeat(16), label: 'hd' }, { kid: kid(2), key: '22'.repeat(16), label: 'audio' }],
  };
  const res = await fetch(`${c.url}/v1/titles`, {
    method: 'POST', headers: { authorization: `Bearer ${PACKAGER_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(rec),
  });
  if (res.status !== 201) throw new Error(`title ${titleId}: ${res.status} ${await res.text()}`);
}
