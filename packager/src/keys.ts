// Content keys: one per title for audio and one per video class (SD, HD, UHD) that the ladder
// uses. Randomness is injected so tests can make keys predictable.

import { randomBytes } from 'node:crypto';
import type { ContentKey, KeyLabel } from '../../protocol/index.ts';

export type RandomBytes = (n: number) => Buffer;

/** SD below 720 lines, HD up to 1080, UHD above. */
export function videoKeyLabel(height: number): KeyLabel {
  if (height < 720) return 'sd';
  if (height <= 1080) return 'hd';
  return 'uhd';
}

export function makeKeys(labels: Iterable<KeyLabel>, random: RandomBytes = randomBytes): ContentKey[] {
  return [...new Set(labels)].map((label) => ({ label, kid: random(16).toString('hex'), key: random(16).toString('hex') }));
}

/** Shaka Packager's DRM label for ours. */
export function shakaLabel(label: KeyLabel): string {
  return label === 'uhd' ? 'UHD1' : label.toUpperCase();
}
