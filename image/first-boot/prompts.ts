// The first-boot questions at the console, for an ISP without an unattended edgebox.json. Each
// answer is checked as soon as it is given; a bad one is refused with the reason and asked again.
// The I/O is injected (a readline on the console in setup-main.ts, a script of answers in tests).

import { SiteConfig, checkSiteConfig, type ConfigCheck } from './site-config.ts';

export interface PromptIo {
  /** show `question`, resolve with the line typed (without the newline) */
  ask(question: string): Promise<string>;
  say(line: string): void;
}

interface Question {
  key: string;
  text: string;
  /** shown in brackets and used for an empty answer */
  def?: string;
  /** answer → value to store, or a string[] of reasons it is refused */
  parse(answer: string, sofar: Record<string, unknown>): { value: unknown } | { error: string };
  /** skip unless this holds for the answers so far */
  when?(sofar: Record<string, unknown>): boolean;
}

interface Schema {
  shape?: Record<string, Schema>;
  unwrap?: () => Schema;
  safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } };
}

/** Check one field with the site config's own schema, so the console and the file agree. */
function field(path: string[], value: unknown): string | null {
  let schema = SiteConfig as unknown as Schema;
  for (const p of path) {
    while (!schema.shape && schema.unwrap) schema = schema.unwrap();
    schema = schema.shape![p];
  }
  const r = schema.safeParse(value);
  return r.success ? null : r.error!.issues[0].message;
}

const text = (path: string[]) => (a: string) => {
  const err = field(path, a);
  return err ? { error: err } : { value: a };
};

function asn(a: string): { value: number } | { error: string } {
  const n = Number(a);
  return /^\d+$/.test(a) && n >= 1 && n <= 4294967295 ? { value: n } : { error: 'must be an AS number, 1 to 4294967295' };
}

const QUESTIONS: Question[] = [
  { key: 'name', text: 'Name of this box (its hostname)', def: 'edgebox', parse: text(['name']) },
  { key: 'interface', text: 'Serving interface (name, MAC address, or auto)', def: 'auto', parse: text(['interface']) },
  { key: 'ipv4.address', text: 'Serving IPv4 address with prefix length (e.g. 192.0.2.10/24)', parse: text(['ipv4', 'address']) },
  { key: 'ipv4.gateway', text: 'IPv4 gateway', parse: text(['ipv4', 'gateway']) },
  {
    key: 'ipv6.address', text: 'Serving IPv6 address with prefix length (e.g. 2001:db8::10/64), or none', def: 'none',
    parse: (a) => a === 'none' ? { value: null } : text(['ipv6', 'address'])(a),
  },
  { key: 'ipv6.gateway', text: 'IPv6 gateway', parse: text(['ipv6', 'gateway']), when: (s) => s['ipv6.address'] !== null },
  {
    key: 'dns', text: 'DNS servers, comma-separated (empty: none)', def: '',
    parse: (a) => {
      const list = a.split(',').map((x) => x.trim()).filter(Boolean);
      const err = field(['dns'], list);
      return err ? { error: err } : { value: list };
    },
  },
  {
    key: 'bgp.neighbor', text: "BGP: your router's address for the session, or waive (serve without BGP)",
    parse: (a) => a === 'waive' ? { value: 'waive' } : field(['bgp'], { localAsn: 1, peerAsn: 1, neighbor: a }) === null ? { value: a } : { error: 'must be an IPv4 or IPv6 address, or waive' },
  },
  { key: 'bgp.localAsn', text: "BGP: this box's AS number", parse: asn, when: (s) => s['bgp.neighbor'] !== 'waive' },
  { key: 'bgp.peerAsn', text: "BGP: your router's AS number", parse: asn, when: (s) => s['bgp.neighbor'] !== 'waive' },
  { key: 'controlUrl', text: 'Control URL (from your CDN contact, e.g. https://control.example.net)', parse: text(['controlUrl']) },
  { key: 'enrollmentToken', text: 'Enrollment token', parse: text(['enrollmentToken']) },
  {
    key: 'tokenKeys', text: 'URL token key, as id:secret',
    parse: (a) => {
      const i = a.indexOf(':');
      if (i <= 0) return { error: 'must be id:secret' };
      const keys = { [a.slice(0, i)]: a.slice(i + 1) };
      const err = field(['tokenKeys'], keys);
      return err ? { error: err } : { value: keys };
    },
  },
];

/** The answers as a site config object (before the schema's defaults). */
export function configFromAnswers(s: Record<string, unknown>): unknown {
  return {
    name: s.name, interface: s.interface,
    ipv4: { address: s['ipv4.address'], gateway: s['ipv4.gateway'] },
    ipv6: s['ipv6.address'] === null ? null : { address: s['ipv6.address'], gateway: s['ipv6.gateway'] },
    dns: s.dns,
    bgp: s['bgp.neighbor'] === 'waive' ? { waive: true } : { localAsn: s['bgp.localAsn'], peerAsn: s['bgp.peerAsn'], neighbor: s['bgp.neighbor'] },
    controlUrl: s.controlUrl, enrollmentToken: s.enrollmentToken, tokenKeys: s.tokenKeys,
  };
}

/** Ask until every answer is good and the ISP confirms the summary. */
export async function askSiteConfig(io: PromptIo): Promise<ConfigCheck & { ok: true }> {
  io.say('Edgebox first boot: this box needs its network and control settings. Answers are checked as you go.');
  for (;;) {
    const sofar: Record<string, unknown> = {};
    for (const q of QUESTIONS) {
      if (q.when && !q.when(sofar)) continue;
      for (;;) {
        const raw = (await io.ask(`${q.text}${q.def !== undefined ? ` [${q.def}]` : ''}: `)).trim();
        const answer = raw === '' && q.def !== undefined ? q.def : raw;
        const r = q.parse(answer, sofar);
        if ('value' in r) {
          sofar[q.key] = r.value;
          break;
        }
        io.say(`  not accepted: ${r.error}. Please answer again.`);
      }
    }
    const check = checkSiteConfig(configFromAnswers(sofar));
    if (!check.ok) {
      for (const e of check.errors) io.say(`  not accepted: ${e}`);
      io.say('Starting over.');
      continue;
    }
    io.say('');
    io.say(summary(check.config));
    const yes = (await io.ask('Save these settings? [yes/no]: ')).trim().toLowerCase();
    if (yes === 'yes' || yes === 'y') return check;
    io.say('Starting over.');
  }
}

export function summary(c: SiteConfig): string {
  return [
    `  name ${c.name}, interface ${c.interface}`,
    `  IPv4 ${c.ipv4.address} via ${c.ipv4.gateway}`,
    `  IPv6 ${c.ipv6 ? `${c.ipv6.address} via ${c.ipv6.gateway}` : 'none'}`,
    `  DNS ${c.dns.join(', ') || 'none'}`,
    `  BGP ${'waive' in c.bgp ? 'waived' : `AS${c.bgp.localAsn} to ${c.bgp.neighbor} AS${c.bgp.peerAsn}`}`,
    `  control ${c.controlUrl}`,
  ].join('\n');
}
