// Session tickets shared by every serving worker of the box, so a viewer whose next connection
// lands on another worker (reusePort spreads them) still resumes without a full handshake.
//
// The main thread owns the keys (TicketKeyRing): one current key that encrypts new tickets and
// the previous one, kept for a rotation period so tickets issued just before a rotation still
// resume (and are then re-issued under the current key). Workers get the list by message and
// answer OpenSSL's ticket-key callback from it (TicketKeyCallback).
//
// node's public API (setTicketKeys) holds a single key, so rotating through it drops every
// outstanding ticket at once. The callback used here, SecureContext#enableTicketKeyCallback with
// `onticketkeycallback`, is node's own hook for SSL_CTX_set_tlsext_ticket_key_cb (present since
// node 0.x, used by node's tests). If a future node lacks it, the workers fall back to
// setTicketKeys with the current key and say so once; the TLS tests fail on that, on purpose.

import { randomBytes } from 'node:crypto';
import type { Server as TlsServer } from 'node:tls';

/** One key as node lays out ticketKeys: 16-byte name ‖ 16-byte HMAC secret ‖ 16-byte AES key. */
export const TICKET_KEY_BYTES = 48;
/** the current key and the one before it */
const KEPT = 2;

export class TicketKeyRing {
  #keys: Buffer[];
  #random: (n: number) => Buffer;

  constructor(random: (n: number) => Buffer = randomBytes) {
    this.#random = random;
    this.#keys = [random(TICKET_KEY_BYTES)];
  }

  /** current first, then the previous; hex, to cross the worker boundary as plain strings */
  get keys(): string[] {
    return this.#keys.map((k) => k.toString('hex'));
  }

  rotate(): void {
    this.#keys = [this.#random(TICKET_KEY_BYTES), ...this.#keys].slice(0, KEPT);
  }
}

interface NativeContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: (name: Buffer, iv: Buffer, encrypt: boolean) => unknown[];
}

/** node's internal handle on the server's current SSL_CTX (replaced by every setSecureContext). */
function nativeContext(server: TlsServer): NativeContext | undefined {
  return (server as unknown as { _sharedCreds?: { context?: NativeContext } })._sharedCreds?.context;
}

// OpenSSL return codes for the callback: 1 = key found, 2 = found but renew the ticket (it was
// made with an older key), 0 = unknown key (full handshake).
const FOUND = 1;
const RENEW = 2;
const UNKNOWN = 0;
/** node reads the HMAC and AES entries even for "unknown"; these are never used to decrypt */
const UNUSED = Buffer.alloc(16);

export class TicketKeyCallback {
  #keys: { name: Buffer; hmac: Buffer; aes: Buffer }[] = [];
  #fallback = false;
  readonly #warn: (msg: string) => void;

  constructor(hexKeys: string[], warn: (msg: string) => void) {
    this.#warn = warn;
    this.set(hexKeys);
  }

  set(hexKeys: string[]): void {
    this.#keys = hexKeys.map((h) => {
      const b = Buffer.from(h, 'hex');
      if (b.length !== TICKET_KEY_BYTES) throw new Error(`a ticket key is ${TICKET_KEY_BYTES} bytes, got ${b.length}`);
      return { name: b.subarray(0, 16), hmac: b.subarray(16, 32), aes: b.subarray(32, 48) };
    });
  }

  /** Answer the server's ticket-key callback from the shared keys; again after each setSecureContext. */
  attach(server: TlsServer): void {
    const ctx = nativeContext(server);
    if (!ctx?.enableTicketKeyCallback) {
      if (!this.#fallback) this.#warn('node lacks the ticket-key callback: tickets use the current key only and do not survive a rotation');
      this.#fallback = true;
      const k = this.#keys[0];
      server.setTicketKeys(Buffer.concat([k.name, k.hmac, k.aes]));
      return;
    }
    ctx.onticketkeycallback = (name, _iv, encrypt) => this.#answer(name, encrypt);
    ctx.enableTicketKeyCallback();
  }

  #answer(name: Buffer, encrypt: boolean): unknown[] {
    if (encrypt) {
      const k = this.#keys[0];
      return [FOUND, k.hmac, k.aes, k.name, randomBytes(16)];
    }
    for (let i = 0; i < this.#keys.length; i++) {
      const k = this.#keys[i];
      if (k.name.equals(name)) return [i === 0 ? FOUND : RENEW, k.hmac, k.aes];
    }
    return [UNKNOWN, UNUSED, UNUSED];
  }
}
