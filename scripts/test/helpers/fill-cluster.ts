// Helpers for the whole-system fill tests (scripts/test/fill-cluster.test.ts): polling, fill
// windows open or closed at the real current time, viewer URLs, a small tmpfs store root, and
// what an appliance holds against what its manifest asks for.

import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileUrl, signToken, titleOfFileId, type FillManifest } from '../../../protocol/index.ts';
import type { Cluster, ClusterAppliance } from '../../lib/cluster.ts';
import { fillWindowAt } from '../../lib/control-api.ts';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Poll `fn` until it returns something truthy; on timeout, fail with `what` and the last value
 *  (or what `explain` says). */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  o: { timeoutMs?: number; intervalMs?: number; explain?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  let last: unknown;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      lastError = e;
    }
    await sleep(o.intervalMs ?? 300);
  }
  const detail = o.explain ? await o.explain().catch((e) => `(explain failed: ${e})`) : JSON.stringify(last);
  throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}\n${detail}`);
}

/** `p`, or an error naming `what` after `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Site fill windows in UTC, open or closed around the current hour (scripts/lib/control-api.ts). */
export const windowAt = fillWindowAt;

/** A viewer URL for a file on an appliance, with a token for its title signed by the cluster's key. */
export function viewerUrl(c: Cluster, origin: string, fileId: string): string {
  const token = signToken({
    kid: c.secrets.tokenKid, secret: c.secrets.tokenSecret, exp: Math.floor(Date.now() / 1000) + 3600, title: titleOfFileId(fileId),
  });
  return fileUrl(origin, fileId, token);
}

/** Mount a tmpfs of `bytes` at `dir` (root only); false when that is not possible here. */
export function mountTmpfs(dir: string, bytes: number): boolean {
  if (process.getuid?.() !== 0) return false;
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
}

/** fileIds the manifest asks for */
export function planned(m: FillManifest | null): string[] {
  return (m?.files ?? []).map((f) => f.fileId).sort();
}

export interface Holding {
  name: string;
  applianceId: string;
  manifest: FillManifest | null;
  held: string[];
  missing: string[];
  extra: string[];
}

/** What an appliance holds against what its current manifest asks for. */
export async function holding(a: ClusterAppliance): Promise<Holding> {
  const [manifest, held] = await Promise.all([a.fillManifest(), a.files()]);
  const want = new Set(planned(manifest));
  const have = new Set(held);
  return {
    name: a.name,
    applianceId: a.applianceId,
    manifest,
    held,
    missing: [...want].filter((f) => !have.has(f)),
    extra: held.filter((f) => !want.has(f)),
  };
}

/** True once it holds exactly what its manifest asks for (and the manifest asks for something). */
export async function holdsExactlyItsPlan(a: ClusterAppliance): Promise<Holding | false> {
  const h = await holding(a);
  return h.manifest && h.manifest.files.length > 0 && h.missing.length === 0 && h.extra.length === 0 ? h : false;
}

/** One line per appliance for failure messages: plan vs store, and its fill status. */
export async function describeFill(apps: ClusterAppliance[]): Promise<string> {
  const lines: string[] = [];
  for (const a of apps) {
    try {
      const h = await holding(a);
      const st = (await a.status().catch(() => undefined))?.fill;
      lines.push(`${a.name} (${a.applianceId}): plan ${h.manifest?.files.length ?? 'none'}, held ${h.held.length}, ` +
        `missing ${h.missing.length} [${h.missing.slice(0, 5).join(' ')}], extra ${h.extra.length} [${h.extra.slice(0, 5).join(' ')}]; ` +
        `fill ${JSON.stringify(st ? { window: st.window?.open, blocked: st.blocked, active: st.active?.length, bytes: st.bytesBySource, failures: st.failuresBySource, bad: st.badSources?.slice(0, 3) } : null)}`);
    } catch (e) {
      lines.push(`${a.name}: ${(e as Error).message}`);
    }
  }
  return lines.join('\n');
}
