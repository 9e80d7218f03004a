// Before measuring: both servers must return the same bytes as the file for a range, and the
// appliance must refuse a forged token, so the bench is known to measure real token checks on
// correct responses.

import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { fileUrl } from '../../protocol/index.ts';
import type { BenchFile } from './dataset.ts';
import type { Target } from './rounds.ts';

export async function checkSameBytes(
  targets: Target[],
  files: BenchFile[],
  tokens: Map<string, string>,
  log: (msg: string) => void,
  /** for https:// origins: the CA that signed both servers' certificate */
  caPem?: string,
): Promise<void> {
  const dispatcher = caPem ? new Agent({ connect: { ca: caPem } }) : undefined;
  for (const f of files) {
    const want = readFileSync(f.path);
    const start = Math.floor(f.bytes / 3);
    const end = start + 1024 * 1024 - 1;
    for (const t of targets) {
      const res = await fetch(fileUrl(t.origin, f.fileId, tokens.get(f.titleId)), {
        headers: { range: `bytes=${start}-${end}` },
        signal: AbortSignal.timeout(10_000),
        dispatcher,
      });
      const got = Buffer.from(await res.arrayBuffer());
      if (res.status !== 206 || !got.equals(want.subarray(start, end + 1))) {
        throw new Error(`${t.name}: range ${start}-${end} of ${f.fileId} answered ${res.status} with ` +
          `${got.length} bytes that do not match the file`);
      }
    }
  }
  const edgebox = targets.find((t) => t.name === 'edgebox');
  if (edgebox) {
    const f = files[0];
    const forged = `${tokens.get(f.titleId)!.slice(0, -4)}AAAA`;
    const res = await fetch(fileUrl(edgebox.origin, f.fileId, forged), { signal: AbortSignal.timeout(10_000), dispatcher });
    await res.arrayBuffer();
    if (res.status !== 403) throw new Error(`edgebox answered ${res.status} to a forged token, expected 403`);
  }
  await dispatcher?.close();
  log(`sanity${caPem ? ' (HTTPS)' : ''}: both servers return byte-exact ranges; the appliance refuses a forged token`);
}
