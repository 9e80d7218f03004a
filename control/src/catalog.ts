// Titles in memory (for play requests without a database read) and in the store; title keys are
// sealed with the KEK before they reach the store and opened only to answer a licence.

import { ContentManifest } from '../../protocol/index.ts';
import type { TitleRecord } from '../../protocol/index.ts';
import type { KeyVault } from './licence/key-vault.ts';
import type { Repository, TitleRow } from './store/repository.ts';

export interface CatalogTitle {
  titleId: string;
  name: string;
  regions: string[];
  manifest: ContentManifest;
  fileIds: string[];
  kids: Set<string>;
}

export class Catalog {
  #titles = new Map<string, CatalogTitle>();
  #repo: Repository;
  #vault: KeyVault;

  private constructor(repo: Repository, vault: KeyVault) {
    this.#repo = repo;
    this.#vault = vault;
  }

  /** The catalogue with every stored title in memory. */
  static async load(repo: Repository, vault: KeyVault): Promise<Catalog> {
    const c = new Catalog(repo, vault);
    for (const row of await repo.listTitles()) c.#cache(row);
    return c;
  }

  #cache(row: TitleRow): CatalogTitle {
    const manifest = ContentManifest.parse(JSON.parse(row.manifest));
    const t: CatalogTitle = {
      titleId: row.titleId, name: row.name, regions: row.regions, manifest,
      fileIds: manifest.files.map((f) => f.fileId), kids: new Set(manifest.kids),
    };
    this.#titles.set(t.titleId, t);
    return t;
  }

  /** A title another control instance stored (several instances on one database). */
  adopt(row: TitleRow): void { this.#cache(row); }

  /** Throws with a message naming the inconsistency; nothing is stored then. */
  async register(record: TitleRecord, now: number): Promise<CatalogTitle> {
    const { title, manifest, keys } = record;
    if (manifest.titleId !== title.titleId) throw new Error(`manifest.titleId ${manifest.titleId} differs from title.titleId ${title.titleId}`);
    const other = manifest.files.find((f) => !f.fileId.startsWith(`${title.titleId}.`));
    if (other) throw new Error(`file ${other.fileId} does not belong to title ${title.titleId}`);
    const keyed = new Set(keys.map((k) => k.kid));
    const missing = manifest.kids.find((k) => !keyed.has(k));
    if (missing) throw new Error(`no key for kid ${missing}`);
    const stray = keys.find((k) => !manifest.kids.includes(k.kid));
    if (stray) throw new Error(`key ${stray.kid} is not listed in manifest.kids`);
    const row: TitleRow = { titleId: title.titleId, name: title.name, regions: title.regions, manifest: JSON.stringify(manifest) };
    await this.#repo.putTitle(row, keys.map((k) => ({
      kid: k.kid, titleId: title.titleId, label: k.label, sealed: this.#vault.seal(title.titleId, k.kid, k.key),
    })), now);
    return this.#cache(row);
  }

  get(titleId: string): CatalogTitle | undefined { return this.#titles.get(titleId); }
  all(): IterableIterator<CatalogTitle> { return this.#titles.values(); }

  /** Clear keys of one title, by kid (hex). */
  async keysOf(titleId: string): Promise<Map<string, Buffer>> {
    return new Map((await this.#repo.keysOfTitle(titleId)).map((k) => [k.kid, this.#vault.open(titleId, k.kid, k.sealed)]));
  }
}
