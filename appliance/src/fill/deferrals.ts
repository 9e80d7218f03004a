// Files waiting for a peer or IX appliance that does not have them yet (a 404 from a source control
// planned to hold the file: protocol/src/fill-manifest.ts). The engine keeps, per such file, its
// escalation memory (when each level was first tried, how often it was deferred) and when to come
// back to it; meanwhile it fills other files. The scheduler's queue puts the files it can fetch
// now — never deferred, and whose first source is not marked `notYet` — before the others.

import type { FillFile } from '../../../protocol/index.ts';
import { newEscalationMemory, type EscalationMemory } from './escalation.ts';

interface Deferred {
  memory: EscalationMemory;
  /** not started again before this time; 0 while it is not deferred */
  until: number;
  /** the file's sources and notYet when it was deferred: a manifest that changes them ends the wait */
  sourcesKey: string;
}

const keyOf = (f: FillFile) => `${f.sources.join(',')}|${f.notYet?.join(',') ?? ''}`;

export class Deferrals {
  #files = new Map<string, Deferred>();

  /** The file's escalation memory, for its next download (kept across deferrals). */
  memory(f: FillFile): EscalationMemory {
    let d = this.#files.get(f.fileId);
    if (!d) this.#files.set(f.fileId, (d = { memory: newEscalationMemory(), until: 0, sourcesKey: keyOf(f) }));
    return d.memory;
  }

  /** Its download ended 'deferred': come back at `until`. */
  defer(f: FillFile, until: number): void {
    this.memory(f);
    const d = this.#files.get(f.fileId)!;
    d.until = until;
    d.sourcesKey = keyOf(f);
  }

  /** Its download ended otherwise (published, given up, stopped): the next one starts afresh. */
  forget(fileId: string): void {
    this.#files.delete(fileId);
  }

  /** A new window: every file starts afresh. */
  clear(): void {
    this.#files.clear();
  }

  /** Files waiting for their sources now. */
  waiting(now: number): number {
    let n = 0;
    for (const d of this.#files.values()) if (d.until > now) n++;
    return n;
  }

  /**
   * A new manifest: files it no longer wants are forgotten; a deferred file whose sources changed
   * (a source gained it, per control) is tried at once, its backoff reset. Its levels' clocks go on.
   */
  manifest(wanted: ReadonlyMap<string, FillFile>): void {
    for (const [fileId, d] of this.#files) {
      const f = wanted.get(fileId);
      if (!f) this.#files.delete(fileId);
      else if (keyOf(f) !== d.sourcesKey) {
        d.until = 0;
        d.memory.deferrals = 0;
        d.sourcesKey = keyOf(f);
      }
    }
  }

  /**
   * The scheduler's queue from the missing files (most popular first): files it can fetch now
   * first, then those whose sources have not had them (deferred and due again, or whose first
   * source the manifest marks `notYet`), each group in rank order; files deferred until later are
   * left out.
   */
  queue(missing: readonly FillFile[], now: number): FillFile[] {
    const ready: FillFile[] = [];
    const later: FillFile[] = [];
    for (const f of missing) {
      const d = this.#files.get(f.fileId);
      if (d && d.until > now) continue;
      if ((d && d.until > 0) || (f.notYet !== undefined && f.sources.length > 0 && f.notYet.includes(f.sources[0]))) later.push(f);
      else ready.push(f);
    }
    return ready.concat(later);
  }
}
