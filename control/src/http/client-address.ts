// The viewer's address: the socket peer, unless that peer is a configured trusted proxy, in
// which case X-Forwarded-For is read right to left and the first address not itself a trusted
// proxy is the client. An untrusted peer's X-Forwarded-For is ignored (anyone can write it).

import { parseAddress, prefixContains } from '../../../protocol/index.ts';
import type { Address, Prefix } from '../../../protocol/index.ts';

function trusted(a: Address, proxies: readonly Prefix[]): boolean {
  return proxies.some((p) => prefixContains(p, a));
}

export function clientAddress(socketIp: string | undefined, xff: string | string[] | undefined, proxies: readonly Prefix[]): Address | null {
  let addr = socketIp === undefined ? null : parseAddress(socketIp);
  if (!addr || !trusted(addr, proxies) || xff === undefined) return addr;
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseAddress(hops[i]);
    if (!hop) return addr; // garbage in the chain: stop at the last address we could trust
    addr = hop;
    if (!trusted(hop, proxies)) return hop;
  }
  return addr;
}
