// The appliance's BGP speaker: one session per configured neighbor, a listener for passive ones,
// import policy and the prefix limit in front of one adj-RIB-in, and stale handling when a session
// drops. It learns and never advertises.

import net from 'node:net';
import pino, { type Logger } from 'pino';
import { parseAddress } from '../../../protocol/index.ts';
import { AdjRibIn, type RouteAttributes } from './adj-rib-in.ts';
import { rejectReason } from './import-policy.ts';
import { summarizeAsPath } from './path-attributes.ts';
import { BgpSession, type SessionState } from './session.ts';
import { realTimers, type Timers } from './timers.ts';
import type { BgpSettings, NeighborSettings } from './settings.ts';
import type { Update } from './update-message.ts';
import { AFI, BgpError, CEASE_SUB, ERR, SAFI_UNICAST } from './wire.ts';

export interface SpeakerOptions {
  logger?: Logger;
  timers?: Timers;
}

export interface SessionStatus {
  peer: string;
  state: SessionState;
  since: number;
  prefixes: number;
}

export interface SpeakerStats { updates: number; rejected: number; treatedAsWithdraw: number; endOfRib: number }

function canonical(addr: string): string {
  const a = parseAddress(addr);
  return a ? `${a.family}:${a.value}` : addr;
}

export class BgpSpeaker {
  readonly rib = new AdjRibIn();
  readonly stats: SpeakerStats = { updates: 0, rejected: 0, treatedAsWithdraw: 0, endOfRib: 0 };
  #settings: BgpSettings;
  #log: Logger;
  #timers: Timers;
  #sessions: BgpSession[] = [];
  #server: net.Server | null = null;
  #stale = new Map<BgpSession, unknown>();
  /** families whose End-of-RIB arrived on each session's current connection */
  #eor = new Map<BgpSession, Set<string>>();

  constructor(settings: BgpSettings, opts: SpeakerOptions = {}) {
    this.#settings = settings;
    this.#log = opts.logger ?? pino({ level: 'silent' });
    this.#timers = opts.timers ?? realTimers;
    for (const n of settings.neighbors) this.#sessions.push(this.#makeSession(n));
  }

  get sessions(): readonly BgpSession[] { return this.#sessions; }

  /** The listener's port (useful when configured as 0), or null without passive neighbors. */
  get listenPort(): number | null {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  async start(): Promise<void> {
    if (this.#settings.neighbors.some((n) => n.passive)) {
      const server = net.createServer((sock) => this.#onIncoming(sock));
      server.on('error', (e) => this.#log.error({ err: e.message }, 'bgp listener error'));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.#settings.listenPort, this.#settings.listenAddress, () => { server.off('error', reject); resolve(); });
      });
      this.#server = server;
    }
    for (const s of this.#sessions) s.start();
  }

  async stop(): Promise<void> {
    for (const s of this.#sessions) s.stop();
    for (const t of this.#stale.values()) this.#timers.clearTimeout(t);
    this.#stale.clear();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  status(): SessionStatus[] {
    return this.#sessions.map((s) => ({
      peer: s.neighbor.address, state: s.state, since: s.since, prefixes: this.rib.count(s.neighbor.address),
    }));
  }

  #onIncoming(sock: net.Socket): void {
    const from = canonical(sock.remoteAddress ?? '');
    const s = this.#sessions.find((x) => x.neighbor.passive && canonical(x.neighbor.address) === from);
    if (!s) {
      this.#log.warn({ from: sock.remoteAddress }, 'bgp connection from an unconfigured address refused');
      sock.on('error', () => {});
      sock.destroy();
      return;
    }
    s.accept(sock);
  }

  #makeSession(n: NeighborSettings): BgpSession {
    const s = new BgpSession({
      neighbor: n, localAsn: this.#settings.localAsn, routerId: this.#settings.routerId ?? '0.0.0.0',
      logger: this.#log, timers: this.#timers,
    });
    const peer = n.address;
    s.on('update', (u: Update) => this.#onUpdate(s, u));
    s.on('established', () => {
      this.#eor.delete(s);
      // Routes kept from the previous session stay until re-announced or End-of-RIB sweeps them.
      this.#log.info({ peer, stale: this.rib.count(peer) }, 'bgp session established');
    });
    s.on('down', (_reason: string, wasEstablished: boolean) => {
      if (!wasEstablished || this.rib.count(peer) === 0) return;
      const n2 = this.rib.markStale(peer);
      const old = this.#stale.get(s);
      if (old !== undefined) this.#timers.clearTimeout(old);
      this.#stale.set(s, this.#timers.setTimeout(() => {
        this.#stale.delete(s);
        const gone = this.rib.sweepStale(peer);
        this.#log.info({ peer, gone }, 'bgp stale routes withdrawn');
      }, n.staleTime * 1000));
      this.#log.info({ peer, stale: n2, staleTime: n.staleTime }, 'bgp routes kept as stale');
    });
    return s;
  }

  #onUpdate(s: BgpSession, u: Update): void {
    const n = s.neighbor;
    const peer = n.address;
    this.stats.updates++;
    if (u.treatedAsWithdraw) this.stats.treatedAsWithdraw++;
    if (u.endOfRib) {
      this.stats.endOfRib++;
      // End-of-RIB: whatever is still stale for this family was not re-announced.
      const gone = this.rib.sweepStale(peer, u.endOfRib === 'ipv4' ? 4 : 6);
      if (gone > 0) this.#log.info({ peer, gone, family: u.endOfRib }, 'bgp stale routes swept at End-of-RIB');
      const fams = s.negotiated?.families ?? [];
      if (fams.every((f) => f === u.endOfRib) || this.rib.count(peer) === 0) this.#clearStaleTimer(s);
      // The attribute cache speeds up the initial table; after it, updates are sparse.
      const done = this.#eor.get(s) ?? new Set<string>();
      this.#eor.set(s, done.add(u.endOfRib));
      if (fams.every((f) => done.has(f))) s.attrCache.clear();
    }
    // Every prefix of one UPDATE shares its attributes: the RIB interns them once per UPDATE.
    const accepted: string[] = [];
    let withdrawn = u.withdrawn;
    let attrs: RouteAttributes | null = null;
    if (u.announced.length > 0) {
      for (const prefix of u.announced) {
        const why = rejectReason(prefix, n.import);
        if (why) {
          this.stats.rejected++;
          if (withdrawn === u.withdrawn) withdrawn = [...withdrawn];
          withdrawn.push(prefix); // an earlier accepted copy must not survive a rejected re-announcement
          continue;
        }
        accepted.push(prefix);
      }
      attrs = this.#routeAttributes(s, u);
    }
    this.rib.applyUpdate(peer, withdrawn, accepted, attrs);
    const count = this.rib.count(peer);
    if (count > n.import.maxPrefixes) {
      // RFC 4486 §4: Cease / Maximum Number of Prefixes Reached, data = AFI, SAFI, limit.
      const data = Buffer.alloc(7);
      data.writeUInt16BE(AFI.IPV4, 0);
      data[2] = SAFI_UNICAST;
      data.writeUInt32BE(n.import.maxPrefixes, 3);
      this.#log.warn({ peer, count, limit: n.import.maxPrefixes }, 'bgp prefix limit exceeded');
      s.reset(new BgpError(ERR.CEASE, CEASE_SUB.MAX_PREFIXES, `${count} prefixes exceed the limit ${n.import.maxPrefixes}`, data));
    }
  }

  /**
   * The RIB's shape of an UPDATE's attributes: made once per attribute set of a connection and
   * kept as the session's attribute cache value, so later UPDATEs with the same set reuse it.
   */
  #routeAttributes(s: BgpSession, u: Update): RouteAttributes {
    if (u.cached !== undefined) return u.cached as RouteAttributes;
    const { asPath, asPathLength } = summarizeAsPath(u.attrs.asPath);
    const attrs: RouteAttributes = { asPathLength, asPath, peer: s.neighbor.address };
    if (u.attrs.med !== undefined) attrs.med = u.attrs.med;
    if (u.attrs.localPref !== undefined) attrs.localPref = u.attrs.localPref;
    if (u.attrs.origin) attrs.origin = u.attrs.origin;
    if (u.attrs.communities) attrs.communities = u.attrs.communities;
    if (u.attrs.largeCommunities) attrs.largeCommunities = u.attrs.largeCommunities;
    const entry = u.attrsKey !== null ? s.attrCache.get(u.attrsKey) : undefined;
    if (entry) entry.value = attrs;
    return attrs;
  }

  #clearStaleTimer(s: BgpSession): void {
    const t = this.#stale.get(s);
    if (t !== undefined) {
      this.#timers.clearTimeout(t);
      this.#stale.delete(s);
    }
  }
}
