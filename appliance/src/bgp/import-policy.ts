// Import policy: which learned prefixes the appliance accepts. The prefix limit itself is
// enforced by the speaker against the adj-RIB-in count (it must close the session).

import { newWordsPrefix, parsePrefixWords, type WordsPrefix } from '../../../protocol/index.ts';
import type { ImportPolicySettings } from './settings.ts';

// Special-purpose and unallocated space that never names a client (RFC 6890 and friends).
// 100.64.0.0/10 (shared CGN space) is left out: behind a carrier NAT, clients of an embedded
// appliance can legitimately live there.
const BOGON_PREFIXES = [
  '0.0.0.0/8', '10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
  '::/8', '100::/64', '2001:2::/48', '2001:10::/28', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8',
];
// Parsed once into words: this runs for every announced prefix (a million in a full table), on
// the prefix's words, with no BigInt.
const BOGONS = BOGON_PREFIXES.map((s) => {
  const p = newWordsPrefix();
  if (!parsePrefixWords(s, p)) throw new Error(`bad bogon ${s}`);
  return p;
});

/** Does `b` cover `p` (same family, no longer, same leading bits)? */
function covers(b: WordsPrefix, p: WordsPrefix): boolean {
  if (b.family !== p.family || b.length > p.length) return false;
  for (let k = 0, bits = b.length; bits > 0; k++, bits -= 32) {
    const x = (b.words[k] ^ p.words[k]) >>> 0;
    if (bits >= 32 ? x !== 0 : (x >>> (32 - bits)) !== 0) return false;
  }
  return true;
}

const scratch = newWordsPrefix();

/** null when accepted, else the reason it is rejected */
export function rejectReason(prefix: string, policy: ImportPolicySettings): string | null {
  const p = scratch;
  if (!parsePrefixWords(prefix, p)) return 'unparseable prefix';
  if (p.length === 0) return policy.allowDefault ? null : 'default route';
  const bounds = p.family === 4 ? policy.ipv4Length : policy.ipv6Length;
  if (p.length < bounds.min || p.length > bounds.max) return `length /${p.length} outside /${bounds.min}–/${bounds.max}`;
  if (policy.rejectBogons && BOGONS.some((b) => covers(b, p))) return 'bogon';
  return null;
}
