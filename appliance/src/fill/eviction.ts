// What fill removes, and when. A held file the manifest no longer lists is "unwanted". It goes
// (1) once every wanted file is in — the files that replace it have arrived — or (2) earlier,
// when a wanted file needs its room: unwanted files are then evicted lowest score first (the
// store's score: control's rank, which unwanted files no longer have, and local demand). A file
// being read (pinned by a serving worker) is never evicted; it is retried at the next pass.
// Control's ranks go to the store (setPopularity) so its RAM/SSD/HDD placement follows them.

import type { FillManifest } from '../../../protocol/index.ts';
import type { Store, StoredFile } from '../store/store.ts';

/** Held files the manifest does not list, lowest score first (the order to evict them in). */
export function unwantedFiles(store: Store, wanted: ReadonlyMap<string, unknown>): StoredFile[] {
  return store.list().filter((f) => !wanted.has(f.fileId)).sort((a, b) => a.score - b.score);
}

/** Ranks for the store: the manifest's for wanted files, none for held (or formerly wanted) files it dropped. */
export function ranksFor(m: FillManifest, held: readonly StoredFile[], wantedBefore: Iterable<string> = []): Record<string, number | null> {
  const ranks: Record<string, number | null> = {};
  for (const id of wantedBefore) ranks[id] = null;
  for (const f of held) ranks[f.fileId] = null;
  for (const f of m.files) ranks[f.fileId] = f.rank;
  return ranks;
}

/**
 * Make room for a wanted file from unwanted ones: 'room' when a root can now take it, 'reads'
 * when it could once files being read (a viewer, or a peer filling from this box — typically
 * the very files a re-plan moved to that peer) are let go, 'full' when not even then.
 */
export async function roomFromUnwanted(store: Store, bytes: number, wanted: ReadonlyMap<string, unknown>): Promise<'room' | 'reads' | 'full'> {
  if (store.rootFor(bytes)) return 'room';
  const unwanted = unwantedFiles(store, wanted).map((f) => f.fileId);
  await store.makeRoom(bytes, unwanted);
  if (store.rootFor(bytes)) return 'room';
  return store.roomOnceUnread(bytes, unwanted) ? 'reads' : 'full';
}

/** Every wanted file is in: remove the unwanted ones that nobody is reading. Returns those removed. */
export function evictReplaced(store: Store, wanted: ReadonlyMap<string, unknown>): string[] {
  return store.evictUnread(unwantedFiles(store, wanted).map((f) => f.fileId));
}
