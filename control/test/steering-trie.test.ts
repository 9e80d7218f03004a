// The route table's parts against plain reference code on random data: the prefix trie against
// a linear longest-prefix scan (through inserts and deletes), and the word parser against
// protocol's parsePrefix on valid, near-valid and garbage input.

import { describe, expect, it } from 'vitest';
import { formatPrefix, parseAddress, parsePrefix, prefixContains, prefixMask } from '../../protocol/index.ts';
import type { Address, Family, Prefix } from '../../protocol/index.ts';
import { PrefixTrie } from '../src/steering/prefix-trie.ts';
import { addressWords, newWordsPrefix, parsePrefixWords, v6BySplit } from '../../protocol/index.ts';
import { seededRandom as rng } from '../../protocol/index.ts';


function randomBits(r: () => number, width: number): bigint {
  let v = 0n;
  for (let i = 0; i < width / 32; i++) v = (v << 32n) | BigInt(Math.floor(r() * 2 ** 32));
  return v;
}

/** Prefixes that nest: random lengths over a few random bases, so many cover each other. */
function randomPrefixes(r: () => number, family: Family, n: number): Prefix[] {
  const width = family === 4 ? 32 : 128;
  const bases = Array.from({ length: 8 }, () => randomBits(r, width));
  const seen = new Set<string>();
  const out: Prefix[] = [];
  while (out.length < n) {
    const base = r() < 0.8 ? bases[Math.floor(r() * bases.length)] ^ (randomBits(r, width) >> BigInt(Math.floor(r() * width))) : randomBits(r, width);
    const length = r() < 0.05 ? Math.floor(r() * 17) : Math.floor(r() * (width + 1));
    const p: Prefix = { family, length, bits: base & prefixMask(family, length) };
    const k = formatPrefix(p);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}

function words(family: Family, v: bigint): Uint32Array {
  const w = new Uint32Array(4);
  addressWords({ family, value: v }, w);
  return w;
}

function reference(live: Map<number, Prefix>, a: Address): number[] {
  return [...live.entries()].filter(([, p]) => prefixContains(p, a)).sort((x, y) => x[1].length - y[1].length).map(([id]) => id);
}

describe.each([4, 6] as const)('prefix trie, IPv%i', (family) => {
  const width = family === 4 ? 32 : 128;

  it('answers every lookup as a linear scan does, through inserts and deletes', () => {
    const r = rng(family * 101);
    const prefixes = randomPrefixes(r, family, 2000);
    const trie = new PrefixTrie(family, 4);
    const live = new Map<number, Prefix>();
    const values = new Int32Array(130), lengths = new Uint8Array(130);
    const check = (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        // Addresses inside stored prefixes (so matches nest), plus anywhere.
        const inside = live.size > 0 && r() < 0.8 ? [...live.values()][Math.floor(r() * live.size)] : undefined;
        const v = inside ? inside.bits | (randomBits(r, width) & ~prefixMask(family, inside.length) & ((1n << BigInt(width)) - 1n)) : randomBits(r, width);
        const n = trie.matches(words(family, v), values, lengths);
        const got = Array.from(values.subarray(0, n));
        expect(got).toEqual(reference(live, { family, value: v }));
        expect(Array.from(lengths.subarray(0, n))).toEqual(got.map((id) => live.get(id)!.length));
      }
    };
    prefixes.forEach((p, id) => {
      const node = trie.insert(words(family, p.bits), p.length);
      expect(trie.value(node)).toBe(-1);
      trie.setValue(node, id);
      live.set(id, p);
    });
    expect(trie.size).toBe(prefixes.length);
    expect(trie.nodes).toBeLessThanOrEqual(2 * prefixes.length + 1 + 65536);
    check(1500);
    for (const [id, p] of live) expect(trie.value(trie.find(words(family, p.bits), p.length))).toBe(id);
    // Delete two thirds, in random order, checking on the way.
    const order = [...live.keys()].sort(() => r() - 0.5);
    for (const [i, id] of order.slice(0, 1300).entries()) {
      const p = live.get(id)!;
      expect(trie.delete(words(family, p.bits), p.length)).toBe(true);
      expect(trie.delete(words(family, p.bits), p.length)).toBe(false);
      live.delete(id);
      if (i % 300 === 0) check(150);
    }
    check(1500);
    // Re-insert some, then delete everything: no node is left behind but the root.
    for (const id of order.slice(0, 400)) {
      const p = prefixes[id];
      trie.setValue(trie.insert(words(family, p.bits), p.length), id);
      live.set(id, p);
    }
    check(500);
    for (const [id, p] of [...live]) {
      expect(trie.delete(words(family, p.bits), p.length)).toBe(true);
      live.delete(id);
    }
    expect(trie.size).toBe(0);
    expect(trie.nodes).toBe(1);
    check(200);
  });

  it('finds only exact prefixes, and the default route covers everything', () => {
    const trie = new PrefixTrie(family);
    const p = parsePrefix(family === 4 ? '10.1.0.0/16' : '2001:db8::/32')!;
    trie.setValue(trie.insert(words(family, p.bits), p.length), 7);
    expect(trie.find(words(family, p.bits), p.length + 1)).toBe(-1);
    expect(trie.find(words(family, p.bits), p.length - 1)).toBe(-1);
    trie.setValue(trie.insert(new Uint32Array(4), 0), 9);
    const values = new Int32Array(130), lengths = new Uint8Array(130);
    expect(Array.from(values.subarray(0, trie.matches(words(family, p.bits | 1n), values, lengths)))).toEqual([9, 7]);
    expect(Array.from(values.subarray(0, trie.matches(words(family, 0n), values, lengths)))).toEqual([9]);
  });
});

describe('prefix words', () => {
  const wordsOf = (p: Prefix) => Array.from(words(p.family, p.bits).subarray(0, p.family === 4 ? 1 : 4));
  const agree = (s: string) => {
    const out = newWordsPrefix();
    const ok = parsePrefixWords(s, out);
    const ref = parsePrefix(s);
    expect(ok, s).toBe(ref !== null);
    if (ref) {
      expect([out.family, out.length], s).toEqual([ref.family, ref.length]);
      expect(Array.from(out.words.subarray(0, ref.family === 4 ? 1 : 4)), s).toEqual(wordsOf(ref));
    }
  };

  it('agrees with parsePrefix on edge cases', () => {
    for (const s of [
      '0.0.0.0/0', '10.0.0.0/8', '10.0.0.1/8', '255.255.255.255/32', '1.2.3.4/33', '256.0.0.0/8', '01.0.0.0/8', '1.2.3/24',
      '1.2.3.4.5/32', '1.2.3.4/', '1.2.3.4', '/8', '1.2.3.4/008', '1.2.3.4/0032', '1.2.3.4/-1', '1.2.3.4/ 8', ' 1.2.3.4/32',
      '::/0', '::/128', '::1/128', '2001:db8::/32', '2001:db8::1/32', '2001:DB8::/32', '2001:db8:0:0:0:0:0:0/32',
      '2001:db8::0:0:0:0:0:0/32', '1:2:3:4:5:6:7:8/128', '1:2:3:4:5:6:7:8:9/128', '1::2::3/128', ':1::/16', '1::/16', '1:/16',
      ':::/0', '::ffff:1.2.3.4/128', '::ffff:1.2.3.0/120', '::1.2.3.4/96', '1:2:3:4:5:6:1.2.3.4/128', '12345::/16',
      'g::/16', '2001:db8::/129', '2001:db8::/48', 'fe80::%eth0/64', '[2001:db8::]/32', '1.2.3.4/32/1', '',
    ]) agree(s);
  });

  it('agrees with parsePrefix on random prefixes and mutations of them', () => {
    const r = rng(5);
    const chars = '0123456789abcdefABCDEF:./x ';
    for (let i = 0; i < 20000; i++) {
      const family: Family = r() < 0.5 ? 4 : 6;
      const length = Math.floor(r() * (family === 4 ? 33 : 129));
      const p: Prefix = { family, length, bits: randomBits(r, family === 4 ? 32 : 128) & prefixMask(family, length) };
      let s = formatPrefix(p);
      if (r() < 0.5) {
        const at = Math.floor(r() * (s.length + 1));
        const c = chars[Math.floor(r() * chars.length)];
        const op = r();
        s = op < 0.33 ? s.slice(0, at) + c + s.slice(at) : op < 0.66 ? s.slice(0, at) + s.slice(at + 1) : s.slice(0, at) + c + s.slice(at + 1);
      } else if (r() < 0.3) {
        // host bits set
        s = formatPrefix({ ...p, bits: randomBits(r, family === 4 ? 32 : 128) }).replace(/\/\d+$/, `/${length}`);
      }
      agree(s);
    }
  });
});

describe('IPv4 address parsing (hand-scanned, as steering does per playback start)', () => {
  // The RegExp version it replaced, as the reference.
  const reference = (s: string): bigint | null => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
    if (!m) return null;
    let v = 0n;
    for (let i = 1; i <= 4; i++) {
      if (Number(m[i]) > 255 || (m[i].length > 1 && m[i][0] === '0')) return null;
      v = (v << 8n) | BigInt(Number(m[i]));
    }
    return v;
  };
  it('agrees with the RegExp parser on random and mutated quads', () => {
    const r = rng(8);
    const chars = '0123456789.:x ';
    for (let i = 0; i < 50_000; i++) {
      let s = Array.from({ length: 4 }, () => String(Math.floor(r() * (r() < 0.1 ? 1000 : 256)))).join('.');
      if (r() < 0.1) s = s.replace(/\b(\d)/, '0$1');
      if (r() < 0.4) {
        const at = Math.floor(r() * (s.length + 1));
        s = s.slice(0, at) + chars[Math.floor(r() * chars.length)] + s.slice(at + (r() < 0.5 ? 1 : 0));
      }
      const want = reference(s);
      const got = parseAddress(s);
      if (want !== null) expect(got, s).toEqual({ family: 4, value: want });
      else expect(got === null || got.family === 6, s).toBe(true);
    }
  });
});

describe('IPv6 address parsing (hand-scanned)', () => {
  // The reference: protocol's split/RegExp parser (the one the embedded-IPv4 form still takes),
  // on the text the hand scanner takes (no embedded IPv4, at most 45 characters).
  const reference = (s: string): bigint | null => (s.length > 45 || s.length < 2 || s.includes('.') ? null : v6BySplit(s));
  it('agrees with the split/RegExp parser on random and mutated addresses', () => {
    const r = rng(9);
    const chars = '0123456789abcdefABCDEF:g';
    for (let i = 0; i < 50_000; i++) {
      let v = 0n;
      for (let k = 0; k < 8; k++) v = (v << 16n) | BigInt(r() < 0.4 ? 0 : Math.floor(r() * 65536));
      let s = formatPrefix({ family: 6, bits: v, length: 128 }).replace('/128', '');
      if (r() < 0.5) {
        const at = Math.floor(r() * (s.length + 1));
        s = s.slice(0, at) + chars[Math.floor(r() * chars.length)] + s.slice(at + (r() < 0.5 ? 1 : 0));
      }
      const want = reference(s);
      const got = parseAddress(s);
      if (want === null) expect(got, s).toBeNull();
      else if (want >> 32n === 0xffffn) expect(got, s).toEqual({ family: 4, value: want & 0xffffffffn });
      else expect(got, s).toEqual({ family: 6, value: want });
    }
  });
});
