// The titles of the soak: random-byte files in the origin's store, registered with control as
// the packager would, promoted in the site's region and planned, so the appliances fill them.
// More arrive during the soak (one every few minutes), so fill keeps working beside the viewers.

import type { ControlApi } from '../../scripts/lib/control-api.ts';
import { writeTitle } from '../../scripts/lib/test-titles.ts';
import type { SourceFile } from './ranges.ts';

export interface CatalogueOptions {
  api: ControlApi;
  originStore: string;
  region: string;
  filesPerTitle: number;
  fileBytes: number;
}

export class Catalogue {
  readonly sources = new Map<string, SourceFile>();
  readonly titles: string[] = [];
  #o: CatalogueOptions;

  constructor(o: CatalogueOptions) { this.#o = o; }

  /** Write, register and promote `n` titles; then plan. */
  async add(n: number): Promise<void> {
    const o = this.#o;
    for (let i = 0; i < n; i++) {
      const titleId = `soak${String(this.titles.length).padStart(3, '0')}`;
      const t = writeTitle(o.originStore, { titleId, files: o.filesPerTitle, bytes: o.fileBytes });
      await o.api.registerTitle(t.record);
      await o.api.promote(titleId, { regions: [o.region], expectedViews: 1000 - this.titles.length, releaseAt: Date.now() });
      for (const f of t.files) this.sources.set(f.fileId, { titleId, path: f.path, bytes: f.bytes });
      this.titles.push(titleId);
    }
    await o.api.plan();
  }

  get bytes(): number {
    let n = 0;
    for (const s of this.sources.values()) n += s.bytes;
    return n;
  }
}
