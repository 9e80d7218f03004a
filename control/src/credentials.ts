// Credentials: secrets are random 256-bit base64url strings; only their SHA-256 is stored, so a
// copy of the database does not let anyone act as an appliance or an account. Domain code
// (control, playback) and the HTTP routes both use these, so they live outside http/.

import { hash, randomBytes } from 'node:crypto';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0')}`;
}

// crypto.hash, the one-shot form: the same digest without a Hash object per call (every playback
// call and every appliance report hashes its bearer token): 0.66 -> 0.25 µs in process.
export function secretHash(secret: string): string {
  return hash('sha256', secret, 'hex');
}
