// One BGP session: the RFC 4271 §8 finite-state machine (Idle, Connect, Active, OpenSent,
// OpenConfirm, Established) over one TCP connection at a time, with hold-time negotiation,
// keepalives and connect-retry. Any malformed message ends in the NOTIFICATION the decoder chose
// and a reset; the session then retries after connect-retry. It decodes UPDATEs and hands them to
// its owner; it never sends one (the appliance advertises nothing).

import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from 'pino';
import { MessageReader, type RawMessage } from './message-reader.ts';
import { decodeOpen, encodeOpen, type FamilyKey, type OpenMessage } from './open-message.ts';
import type { NeighborSettings } from './settings.ts';
import { decodeNotification, describeNotification, encodeKeepalive, encodeNotification, encodeRouteRefresh } from './simple-messages.ts';
import { decodeUpdate, type Update } from './update-message.ts';
import type { AttrCache } from './path-attributes.ts';
import { realTimers, SessionTimers, type Timers } from './timers.ts';
import { AFI, BgpError, CEASE_SUB, ERR, FSM_SUB, MSG, OPEN_SUB, SAFI_UNICAST } from './wire.ts';

export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** Hold time while waiting for the peer's OPEN (RFC 4271 §8 suggests 4 minutes). */
const OPEN_HOLD_SEC = 240;

export interface SessionInit {
  neighbor: NeighborSettings;
  localAsn: number;
  routerId: string;
  logger: Logger;
  timers?: Timers;
}

export interface Negotiated { holdTime: number; families: FamilyKey[]; as4: boolean; peer: OpenMessage }

/**
 * Events: 'state' (state, previous), 'established' (Negotiated), 'update' (Update),
 * 'down' (reason: string, wasEstablished: boolean), 'notification' ({dir:'sent'|'received', code, subcode}).
 */
export class BgpSession extends EventEmitter {
  readonly neighbor: NeighborSettings;
  #init: SessionInit;
  #timers: SessionTimers;
  #log: Logger;
  #state: SessionState = 'Idle';
  #since = 0;
  #socket: net.Socket | null = null;
  #reader = new MessageReader();
  #negotiated: Negotiated | null = null;
  #running = false;
  #holdSec = 0;
  #holdDeadline = 0;
  /** parsed attribute sets of this connection's UPDATEs, by their octets */
  #attrCache: AttrCache = new Map();

  constructor(init: SessionInit) {
    super();
    this.#init = init;
    this.neighbor = init.neighbor;
    this.#timers = new SessionTimers(init.timers ?? realTimers);
    this.#log = init.logger.child({ peer: init.neighbor.address });
  }

  get state(): SessionState { return this.#state; }
  get since(): number { return this.#since; }
  get negotiated(): Negotiated | null { return this.#negotiated; }
  /** attribute sets seen on the current connection (path-attributes.ts); the owner sets their values */
  get attrCache(): AttrCache { return this.#attrCache; }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#begin();
  }

  /** Administrative stop: Cease / Administrative Shutdown, then Idle for good. */
  stop(): void {
    this.#running = false;
    this.#timers.clear('connectRetry');
    if (this.#socket) this.#fail(new BgpError(ERR.CEASE, CEASE_SUB.ADMIN_SHUTDOWN, 'administrative shutdown'));
    else this.#setState('Idle');
  }

  /** Close the session with a NOTIFICATION (the speaker uses this for the prefix limit). */
  reset(err: BgpError): void {
    if (this.#socket) this.#fail(err);
  }

  /**
   * Ask the peer to send its routes again (RFC 2918), e.g. after the import policy changed.
   * Returns false when the session is not Established or the peer lacks the capability.
   */
  requestRefresh(): boolean {
    const n = this.#negotiated;
    if (this.#state !== 'Established' || !n?.peer.routeRefresh) return false;
    for (const f of n.families) this.#send(encodeRouteRefresh(f === 'ipv4' ? AFI.IPV4 : AFI.IPV6, SAFI_UNICAST));
    return true;
  }

  /** A connection the speaker's listener accepted from this neighbor's address. */
  accept(socket: net.Socket): void {
    if (!this.#running || this.#socket || this.#state !== 'Active') {
      // One connection at a time: a second one is refused (Cease / Connection Rejected).
      socket.on('error', () => {});
      socket.end(encodeNotification(ERR.CEASE, CEASE_SUB.CONNECTION_REJECTED));
      return;
    }
    this.#timers.clear('connectRetry');
    this.#attach(socket);
  }

  #begin(): void {
    if (!this.#running) return;
    if (this.neighbor.passive) {
      this.#setState('Active');
      return;
    }
    this.#setState('Connect');
    const sock = net.connect({ host: this.neighbor.address, port: this.neighbor.port, localAddress: this.neighbor.localAddress });
    const onError = (e: Error) => {
      this.#log.debug({ err: e.message }, 'bgp connect failed');
      sock.destroy();
      if (this.#socket === null && this.#running) {
        this.#setState('Active');
        this.#retryLater();
      }
    };
    sock.once('error', onError);
    sock.once('connect', () => {
      sock.off('error', onError);
      this.#timers.clear('connectRetry');
      if (!this.#running) { sock.destroy(); return; }
      this.#attach(sock);
    });
    // ConnectRetry also bounds the attempt itself: an unanswered SYN is abandoned and retried
    // rather than left to the kernel's minutes-long timeout.
    this.#timers.arm('connectRetry', this.neighbor.connectRetry, () => {
      if (this.#socket !== null) return;
      sock.off('error', onError);
      sock.on('error', () => {});
      sock.destroy();
      if (this.#running) this.#begin();
    });
  }

  #retryLater(): void {
    this.#timers.arm('connectRetry', this.neighbor.connectRetry, () => {
      if (this.#running && this.#socket === null) this.#begin();
    });
  }

  #attach(sock: net.Socket): void {
    this.#socket = sock;
    this.#reader = new MessageReader();
    this.#attrCache = new Map();
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.#onData(sock, chunk));
    sock.on('error', (e) => { if (this.#socket === sock) this.#drop(`socket error: ${e.message}`); });
    sock.on('close', () => { if (this.#socket === sock) this.#drop('connection closed by peer'); });
    this.#send(encodeOpen({
      asn: this.#init.localAsn, holdTime: this.neighbor.holdTime, routerId: this.#init.routerId,
      families: this.neighbor.families, restartTime: Math.min(this.neighbor.staleTime, 4095),
    }));
    this.#setState('OpenSent');
    this.#armHold(OPEN_HOLD_SEC);
  }

  #onData(sock: net.Socket, chunk: Buffer): void {
    if (this.#socket !== sock) return;
    try {
      for (const m of this.#reader.push(chunk)) {
        if (this.#socket !== sock) return;
        this.#handle(m);
      }
    } catch (e) {
      if (e instanceof BgpError) this.#fail(e);
      else {
        // Our bug, not the peer's: log it and reset rather than let it take the daemon down.
        this.#log.error({ err: e }, 'bgp internal error while handling a message');
        this.#fail(new BgpError(ERR.CEASE, CEASE_SUB.OUT_OF_RESOURCES, 'internal error'));
      }
    }
  }

  #handle(m: RawMessage): void {
    if (m.type === MSG.NOTIFICATION) {
      const n = decodeNotification(m.body);
      this.emit('notification', { dir: 'received', code: n.code, subcode: n.subcode });
      this.#drop(`notification received: ${describeNotification(n)}`);
      return;
    }
    switch (this.#state) {
      case 'OpenSent':
        if (m.type !== MSG.OPEN) throw new BgpError(ERR.FSM, FSM_SUB.OPENSENT, `message type ${m.type} in OpenSent`);
        this.#onOpen(decodeOpen(m.body));
        return;
      case 'OpenConfirm':
        if (m.type !== MSG.KEEPALIVE) throw new BgpError(ERR.FSM, FSM_SUB.OPENCONFIRM, `message type ${m.type} in OpenConfirm`);
        this.#restartHold();
        this.#setState('Established');
        this.emit('established', this.#negotiated);
        return;
      case 'Established':
        if (m.type === MSG.OPEN) throw new BgpError(ERR.FSM, FSM_SUB.ESTABLISHED, 'OPEN in Established');
        this.#restartHold();
        if (m.type === MSG.UPDATE) {
          const n = this.#negotiated!;
          const u: Update = decodeUpdate(m.body, { as4: n.as4, families: n.families, ibgp: this.neighbor.peerAsn === this.#init.localAsn }, this.#attrCache);
          if (u.treatedAsWithdraw) this.#log.warn({ reason: u.treatedAsWithdraw }, 'bgp update treated as withdraw (RFC 7606)');
          this.emit('update', u);
        }
        // KEEPALIVE: hold timer restarted above. ROUTE-REFRESH: we advertise nothing, so nothing to resend.
        return;
      default:
        return;
    }
  }

  #onOpen(o: OpenMessage): void {
    const n = this.neighbor;
    if (o.asn !== n.peerAsn) {
      const d = Buffer.alloc(2);
      d.writeUInt16BE(o.myAs);
      throw new BgpError(ERR.OPEN, OPEN_SUB.BAD_PEER_AS, `peer AS ${o.asn}, expected ${n.peerAsn}`, d);
    }
    if (o.holdTime === 1 || o.holdTime === 2) throw new BgpError(ERR.OPEN, OPEN_SUB.BAD_HOLD_TIME, `hold time ${o.holdTime}`);
    const ibgp = n.peerAsn === this.#init.localAsn;
    if (o.routerId === '0.0.0.0' || (ibgp && o.routerId === this.#init.routerId)) {
      throw new BgpError(ERR.OPEN, OPEN_SUB.BAD_BGP_ID, `bad BGP identifier ${o.routerId}`);
    }
    const families = n.families.filter((f) => o.families.includes(f));
    const holdTime = Math.min(o.holdTime, n.holdTime);
    this.#negotiated = { holdTime, families, as4: o.as4, peer: o };
    this.#log.info({ holdTime, families, as4: o.as4, routerId: o.routerId }, 'bgp open received');
    this.#send(encodeKeepalive());
    this.#setState('OpenConfirm');
    this.#restartHold();
    if (holdTime > 0) this.#armKeepalive(Math.max(1, Math.floor(holdTime / 3)));
  }

  #armKeepalive(sec: number): void {
    this.#timers.arm('keepalive', sec, () => {
      if (!this.#socket) return;
      this.#send(encodeKeepalive());
      this.#armKeepalive(sec);
    });
  }

  /**
   * Every message restarts the hold timer. Re-arming a timer per message costs more than the
   * message itself during a full table (a million UPDATEs), so a message only moves the deadline
   * and the armed timer, when it fires early, waits out the rest.
   */
  #restartHold(): void {
    const hold = this.#negotiated?.holdTime ?? OPEN_HOLD_SEC;
    if (hold <= 0) this.#timers.clear('hold');
    else if (hold === this.#holdSec && this.#timers.armed('hold')) this.#holdDeadline = this.#timers.clock.now() + hold * 1000;
    else this.#armHold(hold);
  }

  #armHold(sec: number): void {
    this.#holdSec = sec;
    this.#holdDeadline = this.#timers.clock.now() + sec * 1000;
    const fire = () => {
      const left = this.#holdDeadline - this.#timers.clock.now();
      if (left > 0) this.#timers.arm('hold', left / 1000, fire);
      else this.#fail(new BgpError(ERR.HOLD_TIMER, 0, `hold timer expired (${sec}s)`));
    };
    this.#timers.arm('hold', sec, fire);
  }

  #send(buf: Buffer): void {
    this.#socket?.write(buf);
  }

  /** Send the NOTIFICATION for `err`, close, and fall back to Idle. */
  #fail(err: BgpError): void {
    const sock = this.#socket;
    this.emit('notification', { dir: 'sent', code: err.code, subcode: err.subcode });
    this.#log.warn({ code: err.code, subcode: err.subcode, reason: err.message }, 'bgp notification sent');
    if (sock) {
      sock.end(encodeNotification(err.code, err.subcode, err.data));
      const t = setTimeout(() => sock.destroy(), 2000);
      t.unref();
    }
    this.#drop(`notification sent: ${describeNotification(err)} (${err.message})`, true);
  }

  #drop(reason: string, alreadyClosing = false): void {
    const sock = this.#socket;
    if (!sock) return;
    this.#socket = null;
    if (!alreadyClosing) sock.destroy();
    sock.on('error', () => {});
    this.#timers.clear('hold');
    this.#timers.clear('keepalive');
    const wasEstablished = this.#state === 'Established';
    this.#negotiated = null;
    this.#log.info({ reason, wasEstablished }, 'bgp session down');
    this.#setState('Idle');
    this.emit('down', reason, wasEstablished);
    if (this.#running) this.#retryLater();
  }

  #setState(s: SessionState): void {
    if (s === this.#state) return;
    const prev = this.#state;
    this.#state = s;
    this.#since = this.#timers.clock.now();
    this.emit('state', s, prev);
    if (s === 'Idle' && this.#running && this.neighbor.passive) {
      // Passive sessions wait in Active for the router to come back.
      this.#state = 'Active';
      this.emit('state', 'Active', 'Idle');
    }
  }
}
