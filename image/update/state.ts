// The updater's memory, on the data partition so it survives reboots and slot changes: what each
// slot holds, which slot is committed, the trial in progress, versions that failed (not retried
// until the operator targets another version), and statuses control has not acknowledged yet.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ImageStatus } from '../../protocol/index.ts';
import type { Slot } from './boot-entries.ts';

export interface UpdateState {
  committed: Slot;
  slots: Record<Slot, { version: string | null }>;
  /** a slot written and booted once, waiting to report healthy */
  trial: { slot: Slot; version: string; bootId: string | null; startedAt: number | null } | null;
  /** version → why it failed */
  failed: Record<string, string>;
  /** the last status sent (or to send) to control */
  status: ImageStatus | null;
  statusAcked: boolean;
  history: { at: number; state: ImageStatus['state']; version: string | null; reason: string | null }[];
}

export function initialState(slot: Slot, version: string): UpdateState {
  return {
    committed: slot, slots: { a: { version: slot === 'a' ? version : null }, b: { version: slot === 'b' ? version : null } },
    trial: null, failed: {}, status: null, statusAcked: true, history: [],
  };
}

export async function loadState(path: string, slot: Slot, version: string): Promise<UpdateState> {
  try {
    const s = JSON.parse(await readFile(path, 'utf8')) as UpdateState;
    if (s && (s.committed === 'a' || s.committed === 'b') && s.slots) return s;
  } catch { /* first boot, or unreadable: start over from what is running */ }
  return initialState(slot, version);
}

export async function saveState(path: string, s: UpdateState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, JSON.stringify(s, null, 2) + '\n', { flush: true });
  await rename(tmp, path);
}

const HISTORY = 20;

/** Record a new status (to be sent to control) and keep a short history. */
export function setStatus(s: UpdateState, st: ImageStatus): void {
  s.status = st;
  s.statusAcked = false;
  s.history.push({ at: st.at, state: st.state, version: st.targetVersion, reason: st.reason });
  if (s.history.length > HISTORY) s.history.splice(0, s.history.length - HISTORY);
}
