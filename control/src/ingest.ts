// Title records the packager dropped into the ingest directory (`<titleId>.title.json`), read at
// start and on a timer. A file is registered again only when its mtime or size changes; a bad
// file is logged and left where it is (nothing is lost, a fixed copy is picked up next time).

import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TitleRecord } from '../../protocol/index.ts';
import type { Control } from './control.ts';

export class TitleIngest {
  #c: Control;
  #dir: string;
  #seen = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(c: Control, dir: string) {
    this.#c = c;
    this.#dir = dir;
  }

  /** One pass, after any pass already under way; returns how many titles were (re)registered. */
  scan(): Promise<number> {
    const pass = this.#queue.then(() => this.#scan());
    this.#queue = pass.catch(() => {});
    return pass;
  }

  async #scan(): Promise<number> {
    let names: string[];
    try {
      names = (await readdir(this.#dir)).filter((n) => n.endsWith('.title.json')).sort();
    } catch (err) {
      this.#c.log.warn({ err, dir: this.#dir }, 'ingest directory unreadable');
      return 0;
    }
    let n = 0;
    for (const name of names) {
      const path = join(this.#dir, name);
      try {
        const st = await stat(path);
        const mark = `${st.mtimeMs}:${st.size}`;
        if (this.#seen.get(name) === mark) continue;
        const parsed = TitleRecord.safeParse(JSON.parse(await readFile(path, 'utf8')));
        if (!parsed.success) {
          const i = parsed.error.issues[0];
          throw new Error(`${i.path.map(String).join('.')}: ${i.message}`);
        }
        await this.#c.catalog.register(parsed.data, this.#c.now());
        this.#seen.set(name, mark);
        this.#c.log.info({ file: name, titleId: parsed.data.title.titleId }, 'title ingested');
        n++;
      } catch (err) {
        this.#c.log.error({ file: path, error: (err as Error).message }, 'title file rejected; left in place');
      }
    }
    return n;
  }

  /** Scan every `intervalMs` (the caller runs the first scan). */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => void this.scan(), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#queue;
  }
}
