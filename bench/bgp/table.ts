// The table the BGP bench feeds through BIRD: distinct IPv4 and IPv6 prefixes in public space
// (nothing the appliance's import policy refuses), of mixed lengths that nest, with a chosen
// number of distinct attribute sets (MED + community per route, so BIRD packs as many prefixes
// per UPDATE as share them, as a real table's routes do), plus a small "churn" block the bench
// withdraws and announces again to exercise deltas. Deterministic from a seed.

import { formatV6Groups, seededRandom as rng } from '../../protocol/index.ts';

export interface TableSpec { routes: number; v6Share: number; attrSets: number; churn: number; seed: number }

export interface Table { v4: string[]; v6: string[]; churn: string[]; spec: TableSpec }

// First octets with no special-purpose space in them (RFC 6890 and the policy's bogons).
const V4_FIRST = Array.from({ length: 223 }, (_, i) => i + 1).filter((o) => ![10, 100, 127, 169, 172, 192, 198, 203].includes(o));

function v4Prefix(r: () => number): string {
  // Mostly /24s, as in real tables, the rest /16–/23.
  const length = r() < 0.6 ? 24 : 16 + Math.floor(r() * 8);
  const v = ((V4_FIRST[Math.floor(r() * V4_FIRST.length)] << 24) | Math.floor(r() * 2 ** 24)) >>> 0;
  const m = (v & ((0xffffffff << (32 - length)) >>> 0)) >>> 0;
  return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}/${length}`;
}

function v6Prefix(r: () => number): string {
  // Inside 2400::/6 (allocated RIR space, clear of 2001:db8::/32 and the other bogons); mostly
  // /48 and /32, the rest /29–/47.
  const u = r();
  const length = u < 0.5 ? 48 : u < 0.8 ? 32 : 29 + Math.floor(r() * 19);
  const w0 = (0x24000000 | Math.floor(r() * 0x04000000)) >>> 0;
  const w1 = Math.floor(r() * 2 ** 32) >>> 0;
  const mask = (bits: number) => (bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);
  const a = (w0 & mask(length)) >>> 0, b = (w1 & mask(length - 32)) >>> 0;
  const g = [a >>> 16, a & 0xffff, b >>> 16, b & 0xffff, 0, 0, 0, 0];
  return `${formatV6Groups(g)}/${length}`;
}

export function makeTable(spec: TableSpec): Table {
  const r = rng(spec.seed);
  const seen = new Set<string>();
  const draw = (f: (r: () => number) => string) => {
    for (;;) {
      const p = f(r);
      if (!seen.has(p)) { seen.add(p); return p; }
    }
  };
  const n6 = Math.round(spec.routes * spec.v6Share);
  const v6 = Array.from({ length: n6 }, () => draw(v6Prefix));
  const v4 = Array.from({ length: spec.routes - n6 - spec.churn }, () => draw(v4Prefix));
  const churn = Array.from({ length: spec.churn }, () => draw(v4Prefix));
  return { v4, v6, churn, spec };
}

/** The route's attribute set number, spread over the table. */
function setOf(i: number, sets: number): number {
  return (Math.imul(i, 0x9e3779b1) >>> 0) % sets;
}

function staticBlock(name: string, family: 'ipv4' | 'ipv6', prefixes: string[], sets: number, offset: number): string {
  const lines = prefixes.map((p, i) => {
    const k = setOf(i + offset, sets);
    return `route ${p} blackhole { bgp_med = ${k}; bgp_community.add((65001, ${k % 65536})); };`;
  });
  return `protocol static ${name} { ${family}; ${lines.join('\n')}\n}\n`;
}

/** BIRD 2 config: the table in static protocols, exported over one passive eBGP session. */
export function birdConfig(t: Table, birdAddr: string, birdPort: number, ourAddr: string): string {
  return [
    'router id 10.255.0.1;',
    'protocol device {}',
    staticBlock('t4', 'ipv4', t.v4, t.spec.attrSets, 0),
    staticBlock('t6', 'ipv6', t.v6, t.spec.attrSets, t.v4.length),
    staticBlock('churn', 'ipv4', t.churn, t.spec.attrSets, t.v4.length + t.v6.length),
    `protocol bgp edge {
  local ${birdAddr} port ${birdPort} as 65001; neighbor ${ourAddr} as 64512; multihop; passive on; strict bind on; hold time 90;
  ipv4 { import none; export all; };
  ipv6 { import none; export all; next hop address 2a00:ffff::1; };
}`,
  ].join('\n');
}
