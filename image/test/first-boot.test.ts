import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../appliance/src/daemon/settings.ts';
import { askSiteConfig } from '../first-boot/prompts.ts';
import { applianceConfig, networkFile } from '../first-boot/render.ts';
import { checkSiteConfig } from '../first-boot/site-config.ts';

const GOOD = {
  name: 'lon-isp1-01',
  ipv4: { address: '192.0.2.10/24', gateway: '192.0.2.1' },
  ipv6: { address: '2001:db8::10/64', gateway: '2001:db8::1' },
  bgp: { localAsn: 64512, peerAsn: 64500, neighbor: '192.0.2.1' },
  controlUrl: 'https://control.example.net',
  enrollmentToken: 'enrollment-token-0123456789',
  tokenKeys: { k1: 'url-token-secret-0123456789' },
};

describe('site config (edgebox.json)', () => {
  it('accepts a complete config and fills the defaults', () => {
    const r = checkSiteConfig(GOOD);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config).toMatchObject({ interface: 'auto', dns: [], update: { pollIntervalSec: 900, healthDeadlineSec: 900 } });
  });

  it.each([
    ['an IPv4 address without its prefix length', { ipv4: { address: '192.0.2.10', gateway: '192.0.2.1' } }, 'ipv4.address: must be an IPv4 address with its prefix length'],
    ['an IPv6 gateway that is IPv4', { ipv6: { address: '2001:db8::10/64', gateway: '192.0.2.1' } }, 'ipv6.gateway: must be an IPv6 address'],
    ['no URL token key', { tokenKeys: {} }, 'tokenKeys: at least one key is needed'],
    ['a control URL with a path', { controlUrl: 'https://control.example.net/v1' }, 'controlUrl: must be scheme://host[:port] with no path'],
    ['an unknown setting', { colour: 'blue' }, '(top level): Unrecognized key: "colour"'],
  ])('refuses %s, naming the setting', (_name, over, message) => {
    const r = checkSiteConfig({ ...GOOD, ...over });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(message);
  });

  it('BGP may be waived explicitly, but not left out', () => {
    expect(checkSiteConfig({ ...GOOD, bgp: { waive: true } }).ok).toBe(true);
    const { bgp: _bgp, ...noBgp } = GOOD;
    expect(checkSiteConfig(noBgp).ok).toBe(false);
  });
});

describe('first-boot questions at the console', () => {
  const run = async (answers: string[]) => {
    const said: string[] = [];
    const asked: string[] = [];
    const r = await askSiteConfig({
      ask: async (q) => {
        asked.push(q);
        if (answers.length === 0) throw new Error(`ran out of answers at: ${q}`);
        return answers.shift()!;
      },
      say: (l) => said.push(l),
    });
    return { config: r.config, said, asked };
  };

  it('re-asks a bad answer with the reason, then saves the confirmed config', async () => {
    const { config, said, asked } = await run([
      '', 'eno1',
      '192.0.2.10', '192.0.2.10/24', // no prefix length: refused, asked again
      '192.0.2.1',
      '2001:db8::10/64', 'not-an-address', '2001:db8::1',
      '192.0.2.53, 192.0.2.54',
      '192.0.2.1', '4294967296', '64512', '64500', // an ASN out of range: refused
      'ftp://control', 'https://control.example.net',
      'short', 'enrollment-token-0123456789',
      'nocolon', 'k1:url-token-secret-0123456789',
      'yes',
    ]);
    expect(config).toMatchObject({
      name: 'edgebox', interface: 'eno1', ipv4: { address: '192.0.2.10/24', gateway: '192.0.2.1' },
      ipv6: { address: '2001:db8::10/64', gateway: '2001:db8::1' }, dns: ['192.0.2.53', '192.0.2.54'],
      bgp: { localAsn: 64512, peerAsn: 64500, neighbor: '192.0.2.1', passive: false }, controlUrl: 'https://control.example.net',
    });
    const refusals = said.filter((l) => l.includes('not accepted'));
    expect(refusals).toEqual([
      '  not accepted: must be an IPv4 address with its prefix length, e.g. 192.0.2.10/24. Please answer again.',
      '  not accepted: must be an IPv6 address. Please answer again.',
      '  not accepted: must be an AS number, 1 to 4294967295. Please answer again.',
      expect.stringMatching(/^ {2}not accepted: .*\. Please answer again\.$/),
      '  not accepted: must be at least 16 characters. Please answer again.',
      '  not accepted: must be id:secret. Please answer again.',
    ]);
    expect(asked.filter((q) => q.startsWith('Serving IPv4 address'))).toHaveLength(2);
  });

  it('with IPv6 "none" and BGP "waive" skips their follow-up questions; "no" at the summary starts over', async () => {
    const once = ['box2', '', '198.51.100.7/25', '198.51.100.1', 'none', '', 'waive', 'http://10.0.0.1:8080', 'enrollment-token-0123456789', 'k:url-token-secret-0123456789'];
    const { config, asked } = await run([...once, 'no', ...once, 'y']);
    expect(config).toMatchObject({ name: 'box2', ipv6: null, bgp: { waive: true }, dns: [] });
    expect(asked.some((q) => q.startsWith('IPv6 gateway') || q.startsWith('BGP: this box'))).toBe(false);
  });
});

describe('rendered boot config', () => {
  const dir = mkdtemp(join(tmpdir(), 'edgebox-render-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));

  it('the daemon config passes the appliance daemon\'s own settings loader', async () => {
    const r = checkSiteConfig(GOOD);
    if (!r.ok) throw new Error(r.errors.join());
    const file = join(await dir, 'appliance.json');
    await writeFile(file, JSON.stringify(applianceConfig(r.config, { adminToken: 'a'.repeat(43) })));
    const s = loadSettings(file, {});
    expect(s).toMatchObject({ listen: '[::]:80', adminListen: '127.0.0.1:8081', workers: 'auto', controlUrl: GOOD.controlUrl });
    expect(s.bgp.neighbors).toEqual([expect.objectContaining({ address: '192.0.2.1', peerAsn: 64500 })]);
    expect(s.report).toMatchObject({ enrollmentToken: GOOD.enrollmentToken, publicUrl: 'http://192.0.2.10' });
  });

  it('the network file carries both addresses and gateways on the chosen port', () => {
    const r = checkSiteConfig(GOOD);
    if (!r.ok) throw new Error();
    const text = networkFile(r.config, 'eno1');
    for (const l of ['Name=eno1', 'Address=192.0.2.10/24', 'Gateway=192.0.2.1', 'Address=2001:db8::10/64', 'Gateway=2001:db8::1']) expect(text).toContain(l);
    expect(networkFile(r.config, '52:54:00:AA:BB:CC')).toContain('MACAddress=52:54:00:aa:bb:cc');
  });
});
