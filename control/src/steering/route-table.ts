// Every reported prefix of every appliance, in one trie per address family. A prefix carries the
// routes of all appliances that reported it (every box in a site normally reports the same set).

import { familyBits, parsePrefix } from '../../../protocol/index.ts';
import type { Address, Family, RouteAttrs } from '../../../protocol/index.ts';
import type { ApplianceState } from './appliance-state.ts';
import { PrefixTrie, toWords } from './prefix-trie.ts';

export interface RouteEntry {
  app: ApplianceState;
  length: number;
  /** BGP's default when absent */
  localPref: number;
  asPathLength: number;
  med: number;
}

export class RouteTable {
  #v4 = new PrefixTrie<RouteEntry[]>(1 << 16);
  #v6 = new PrefixTrie<RouteEntry[]>(1 << 16);
  #scratch: RouteEntry[][] = [];

  #trie(f: Family): PrefixTrie<RouteEntry[]> { return f === 4 ? this.#v4 : this.#v6; }

  get prefixCount(): number { return this.#v4.size + this.#v6.size; }

  /** Replace an appliance's routes; returns the prefixes that did not parse (skipped). */
  replace(app: ApplianceState, routes: RouteAttrs[]): string[] {
    for (const r of app.routes) {
      const p = parsePrefix(r.prefix);
      if (!p) continue;
      const words = toWords(p.family, p.bits);
      const trie = this.#trie(p.family);
      const list = trie.get(words, p.length);
      if (!list) continue;
      const kept = list.filter((e) => e.app !== app);
      if (kept.length === 0) trie.delete(words, p.length);
      else trie.set(words, p.length, kept);
    }
    const bad: string[] = [];
    const accepted: RouteAttrs[] = [];
    for (const r of routes) {
      const p = parsePrefix(r.prefix);
      if (!p) { bad.push(r.prefix); continue; }
      accepted.push(r);
      const words = toWords(p.family, p.bits);
      const trie = this.#trie(p.family);
      const entry: RouteEntry = {
        app, length: p.length, localPref: r.localPref ?? 100, asPathLength: r.asPathLength, med: r.med ?? 0,
      };
      const list = trie.get(words, p.length);
      if (list) {
        const i = list.findIndex((e) => e.app === app);
        if (i >= 0) list[i] = entry; else list.push(entry);
      } else {
        trie.set(words, p.length, [entry]);
      }
    }
    app.routes = accepted;
    return bad;
  }

  /** Route lists on the path to the address, shortest prefix first. The array is reused. */
  lookup(a: Address): RouteEntry[][] {
    return this.#trie(a.family).matches(toWords(a.family, a.value), familyBits(a.family), this.#scratch);
  }
}
