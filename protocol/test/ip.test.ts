import { describe, expect, it } from 'vitest';
import { formatPrefix, parseAddress, parsePrefix, prefixContains } from '../index.ts';

describe('addresses and prefixes', () => {
  it('parses and rejects addresses', () => {
    expect(parseAddress('192.0.2.1')).toEqual({ family: 4, value: 0xc0000201n });
    expect(parseAddress('::1')).toEqual({ family: 6, value: 1n });
    expect(parseAddress('2001:db8::')?.value).toBe(0x20010db8n << 96n);
    expect(parseAddress('::ffff:10.0.0.1')).toEqual({ family: 4, value: 0x0a000001n });
    for (const bad of ['256.0.0.1', '1.2.3', '01.2.3.4', '1::2::3', 'g::1', '', '1.2.3.4.5', '1:2:3:4:5:6:7:8:9']) {
      expect(parseAddress(bad), bad).toBeNull();
    }
  });
  it('parses prefixes and matches addresses', () => {
    const p = parsePrefix('203.0.113.0/24')!;
    expect(prefixContains(p, parseAddress('203.0.113.9')!)).toBe(true);
    expect(prefixContains(p, parseAddress('203.0.114.9')!)).toBe(false);
    expect(parsePrefix('203.0.113.1/24')).toBeNull();
    expect(formatPrefix(parsePrefix('203.0.113.1/24', true)!)).toBe('203.0.113.0/24');
    expect(formatPrefix(parsePrefix('2001:db8:0:0::/48')!)).toBe('2001:db8::/48');
    expect(parsePrefix('0.0.0.0/0')?.length).toBe(0);
    expect(parsePrefix('10.0.0.0/33')).toBeNull();
    expect(parsePrefix('::/129')).toBeNull();
  });
});
