// Each appliance's route set as the store keeps it: a log of entries, each a full set or a delta,
// written with every accepted report that changed routes (Control.flush) and replayed in order by
// another control instance (ClusterSync) or by this one after a restart (Control.open), through
// the same PrefixSets paths a report takes, so the route-set hash checks the result.
//
// A full set is one compact entry, not a row per route: routes grouped by their attributes (as
// appliances send them), JSON, deflated when large — a 1M-route table is a few MB written once.
// Small bodies (every delta, a few hundred routes) stay plain JSON: each zlib call allocates
// about 300 KB of native state, which at 1,000 deltas/s cost steering ~8 % of its rate, and
// 10,000 first reports deflated in one flush left ~200 MB more RSS after the steering bench's
// world build. The body's first byte says which (BODY_JSON / BODY_DEFLATE). A full
// entry replaces everything logged before it for that appliance, so the store keeps, per
// appliance, at most one full set and the deltas since. The deltas accepted between two flushes
// are one entry (a box sending 1,000 single-prefix deltas a second writes 4 rows a second, not
// 1,000). When the deltas written since the last full set name more routes than the set holds
// (and more than COMPACT_MIN_ROUTES), or fill COMPACT_MAX_ENTRIES entries, the next write is a
// full set from memory instead: the log is compacted into its snapshot. A full write then costs no more than the deltas it replaces did, and
// replaying a log costs at most about twice its set, in at most COMPACT_MAX_ENTRIES + 1 rows.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { promisify } from 'node:util';
import { deflateRaw, inflateRawSync } from 'node:zlib';
import type { PrefixDelta, RouteAttrs, RouteGroup } from '../../../protocol/index.ts';
import type { RouteEntry } from '../store/repository.ts';
import type { ApplianceState } from './appliance-state.ts';

/** deltas naming this many routes or fewer never trigger a compaction (a tiny set's deltas stay deltas) */
export const COMPACT_MIN_ROUTES = 64;
/** delta entries (one per flush) written since the last full set that trigger one whatever their size */
export const COMPACT_MAX_ENTRIES = 1000;

/** A full set as replayed: the appliance's hash of it and its routes, grouped. */
export interface RouteSetBody { hash: string; groups: RouteGroup[] }

export type DecodedEntry = ({ full: true } & RouteSetBody) | { full: false; deltas: PrefixDelta[] };

/** Everything about a route but its prefix, as one string (routes with equal keys share a group). */
function attrsKey(r: RouteAttrs): string {
  return `${r.peer ?? ''}|${r.asPathLength}|${r.med ?? ''}|${r.localPref ?? ''}|${r.origin ?? ''}|${r.asPath?.join(' ') ?? ''}|` +
    `${r.communities?.join(' ') ?? ''}|${r.largeCommunities?.join(' ') ?? ''}`;
}

/** The appliance's routes as one full entry; undefined while control holds no hash for them (asked for the full set). */
export function encodeFull(a: ApplianceState): Promise<RouteEntry> | undefined {
  if (a.prefixHash === undefined) return undefined;
  // a copy of the list (route objects are replaced, never changed): reports accepted while this
  // encodes change a.routes, not what is encoded under this hash
  return encodeSet(a.prefixHash, a.routes.slice());
}

/** routes grouped, or prefixes stringified, between two yields to the event loop */
const ENCODE_SLICE = 8_192;

// A 1M-route set took about 1.5 CPU-s to group, stringify and deflate; done in one go on control's
// event loop, that stalled every playback start for as long. So it is done in slices with the
// loop served between them, and deflated on libuv's threadpool.
async function encodeSet(hash: string, routes: RouteAttrs[]): Promise<RouteEntry> {
  const groups = new Map<string, RouteGroup>();
  for (let i = 0; i < routes.length; i++) {
    if (i > 0 && i % ENCODE_SLICE === 0) await yieldToLoop();
    const r = routes[i];
    const k = attrsKey(r);
    let g = groups.get(k);
    if (!g) {
      const { prefix: _, ...attrs } = r;
      g = { attrs, prefixes: [] };
      groups.set(k, g);
    }
    g.prefixes.push(r.prefix);
  }
  // the JSON of a RouteSetBody, written in parts: {"hash":…,"groups":[{"attrs":…,"prefixes":[…]},…]}
  const parts: string[] = [`{"hash":${JSON.stringify(hash)},"groups":[`];
  let sinceYield = 0;
  for (const g of groups.values()) {
    parts.push(`${parts.length > 1 ? ',' : ''}{"attrs":${JSON.stringify(g.attrs)},"prefixes":[`);
    for (let i = 0; i < g.prefixes.length; i += ENCODE_SLICE) {
      const slice = g.prefixes.slice(i, i + ENCODE_SLICE);
      parts.push(`${i > 0 ? ',' : ''}${JSON.stringify(slice).slice(1, -1)}`);
      if ((sinceYield += slice.length) >= ENCODE_SLICE) {
        sinceYield = 0;
        await yieldToLoop();
      }
    }
    parts.push(']}');
  }
  parts.push(']}');
  return { full: true, body: await encodeJson(parts.join('')) };
}

/** deltas accepted in order, as one entry */
export async function encodeDeltas(ds: PrefixDelta[]): Promise<RouteEntry> {
  return { full: false, body: await encodeJson(JSON.stringify(ds)) };
}

/** first byte of a body: what follows is JSON as UTF-8, or that JSON deflated (raw) */
const BODY_JSON = 0;
const BODY_DEFLATE = 1;
/** bodies whose JSON is at least this long are deflated (a set of some thousands of routes) */
export const DEFLATE_MIN_BYTES = 64 << 10;
const deflateRawAsync = promisify(deflateRaw);

async function encodeJson(json: string): Promise<Buffer> {
  const n = Buffer.byteLength(json, 'utf8');
  if (n >= DEFLATE_MIN_BYTES) return Buffer.concat([Buffer.of(BODY_DEFLATE), await deflateRawAsync(json)]);
  const body = Buffer.allocUnsafe(1 + n); // one allocation: the tag, then the JSON
  body[0] = BODY_JSON;
  body.write(json, 1, 'utf8');
  return body;
}

export function decodeEntry(e: RouteEntry): DecodedEntry {
  const tag = e.body[0];
  const payload = e.body.subarray(1);
  let json: string;
  if (tag === BODY_JSON) json = payload.toString('utf8');
  else if (tag === BODY_DEFLATE) json = inflateRawSync(payload).toString('utf8');
  else throw new Error(`route log: entry body of unknown format ${tag === undefined ? '(empty)' : tag}`);
  const v = JSON.parse(json);
  return e.full ? { full: true, ...(v as RouteSetBody) } : { full: false, deltas: v as PrefixDelta[] };
}

/**
 * What one instance writes to the log: per appliance, the deltas accepted since the last flush,
 * or a full set (a full report, a compaction, or a write that failed and must start over).
 */
export class RouteLogWriter {
  /** per appliance: a full set wanted, or deltas accepted since the last take (after entries a failed write gave back) */
  #pending = new Map<ApplianceState, { full: boolean; deltas: PrefixDelta[]; unsent: RouteEntry[] }>();
  /** routes named by the deltas, and delta entries, this instance wrote since the last full set, per appliance */
  #since = new Map<string, { routes: number; entries: number }>();
  /** full entries written, and of those the compactions (for tests and metrics) */
  readonly stats = { fullWritten: 0, compactions: 0, deltasWritten: 0 };

  full(a: ApplianceState): void { this.#pending.set(a, { full: true, deltas: [], unsent: [] }); }

  delta(a: ApplianceState, d: PrefixDelta): void {
    const p = this.#pending.get(a);
    if (p === undefined) this.#pending.set(a, { full: false, deltas: [d], unsent: [] });
    else if (!p.full) p.deltas.push(d);
  }

  /** A write of entries take() gave failed: they go first next time (not encoded again; a full set wanted since replaces them). */
  giveBack(a: ApplianceState, entries: RouteEntry[]): void {
    const p = this.#pending.get(a);
    if (p === undefined) this.#pending.set(a, { full: false, deltas: [], unsent: entries });
    else if (!p.full) p.unsent = [...entries, ...p.unsent];
  }

  /** The entries to write for `a` now, if any (taken: see giveBack). What is taken is decided
   *  at the call; only the encoding is awaited. */
  async take(a: ApplianceState): Promise<RouteEntry[] | undefined> {
    const p = this.#pending.get(a);
    if (!p) return undefined;
    this.#pending.delete(a);
    const since = this.#since.get(a.id) ?? { routes: 0, entries: 0 };
    let routes = since.routes;
    for (const d of p.deltas) routes += d.announced.length + d.withdrawn.length;
    const entries = since.entries + (p.deltas.length > 0 ? 1 : 0);
    const compact = !p.full && ((routes > COMPACT_MIN_ROUTES && routes > a.routes.length) || entries >= COMPACT_MAX_ENTRIES);
    if (p.full || compact) {
      const encoding = encodeFull(a);
      if (encoding) {
        this.#since.set(a.id, { routes: 0, entries: 0 });
        this.stats.fullWritten++;
        if (compact) this.stats.compactions++;
        return [await encoding];
      }
    }
    this.#since.set(a.id, { routes, entries });
    this.stats.deltasWritten += p.deltas.length;
    return p.deltas.length > 0 ? [...p.unsent, await encodeDeltas(p.deltas)] : p.unsent;
  }
}
