// The appliance image's contract: signed update bundles, the per-site target version control
// keeps, and what the box tells control about its updates and its turn-up checks.
//
//   PUT  /v1/sites/:siteId/image            (operator) body ImageTarget → 200 SiteImage
//   GET  /v1/sites/:siteId/image            (operator) → 200 SiteImage (target + each box's status)
//   GET  /v1/appliances/:id/image           Authorization: Bearer <credential> → 200 ImageTargetReply
//   POST /v1/appliances/:id/image-status    Authorization: Bearer <credential> body ImageStatus → 204
//   POST /v1/appliances/:id/turnup          Authorization: Bearer <credential> body TurnupReport → 204
//
// A bundle is a directory (or its URL prefix) holding `manifest.json`, `manifest.sig` and the
// files the manifest names (the root filesystem zstd-compressed, the kernel, the initramfs). `manifest.sig` is base64url(Ed25519 signature over the exact bytes of
// manifest.json); the appliance checks it against the public keys baked into its image before it
// trusts anything in the manifest, then checks each file's size and sha256 as it downloads.

import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { z } from 'zod';
import { SHA256_HEX_RE } from './content-manifest.ts';
import { FillWindow } from './fill-manifest.ts';

/** "1.4.0", "2026.11.3-rc1": what an operator types; compared for equality only. */
export const IMAGE_VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
export const ImageVersion = z.string().regex(IMAGE_VERSION_RE, 'must be 1-64 of [0-9A-Za-z.+_-], starting with a letter or digit');

/** The root filesystem travels zstd-compressed (its free space is zeros); kernel and initramfs as they are. */
export const IMAGE_FILES = ['rootfs.img.zst', 'vmlinuz', 'initrd.img'] as const;
export const ImageFileName = z.enum(IMAGE_FILES);

export const ImageManifest = z.object({
  v: z.literal(1),
  version: ImageVersion,
  /** ISO time the bundle was built */
  createdAt: z.string(),
  /** key id of the signing key, looked up in the image's baked key set */
  kid: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  files: z.array(z.object({
    name: ImageFileName,
    bytes: z.number().int().positive(),
    sha256: z.string().regex(SHA256_HEX_RE),
  })).length(IMAGE_FILES.length).refine((fs) => IMAGE_FILES.every((n) => fs.some((f) => f.name === n)), 'must list rootfs.img.zst, vmlinuz and initrd.img once each'),
  /** the root filesystem image once decompressed: what is written to the slot, checked as it is written */
  rootfs: z.object({ bytes: z.number().int().positive(), sha256: z.string().regex(SHA256_HEX_RE) }),
});
export type ImageManifest = z.infer<typeof ImageManifest>;

/** An Ed25519 key as JWK members (base64url): `x` public, `d` the private seed. */
export interface ImageSigningKey { kid: string; x: string; d: string }

export function generateImageSigningKey(kid: string): ImageSigningKey {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return { kid, x: jwk.x!, d: jwk.d! };
}

export function signImageManifest(key: ImageSigningKey, manifestBytes: Uint8Array): string {
  const k = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.x, d: key.d }, format: 'jwk' });
  return sign(null, manifestBytes, k).toString('base64url');
}

export type ManifestCheck =
  | { ok: true; manifest: ImageManifest }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'bad-signature'; message: string };

/**
 * Verify manifest.json's bytes against its signature with the image's key set (kid → x), then
 * parse it. Nothing in an unverified manifest is used, not even to pick a key: the signature is
 * tried against the key its kid names, and the kid is read from the bytes the signature covers.
 */
export function verifyImageManifest(bytes: Uint8Array, signature: string, keys: Readonly<Record<string, string>>): ManifestCheck {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', message: 'manifest.json is not JSON' };
  }
  const kid = (json as { kid?: unknown } | null)?.kid;
  const x = typeof kid === 'string' && Object.hasOwn(keys, kid) ? keys[kid] : undefined;
  if (x === undefined) return { ok: false, reason: 'unknown-key', message: `manifest signed with a key this image does not trust (${String(kid)})` };
  const sig = Buffer.from(signature.trim(), 'base64url');
  let good = false;
  try {
    good = sig.length === 64 && verify(null, bytes, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }), sig);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'bad-signature', message: 'manifest signature does not verify' };
  const m = ImageManifest.safeParse(json);
  if (!m.success) return { ok: false, reason: 'malformed', message: `manifest: ${m.error.issues[0].path.join('.')}: ${m.error.issues[0].message}` };
  return { ok: true, manifest: m.data };
}

/** The operator's per-site target: the version its boxes should run and where its bundle is. */
export const ImageTarget = z.object({
  version: ImageVersion,
  /** URL of the bundle's manifest.json; the other files are fetched from beside it */
  manifestUrl: z.url().max(500),
});
export type ImageTarget = z.infer<typeof ImageTarget>;

/** What an appliance learns when it asks: the target (null: stay) and when it may download. */
export const ImageTargetReply = z.object({
  target: ImageTarget.nullable(),
  fillWindow: FillWindow,
  /** operator's "fill now" override (epoch ms), as for fill; null when none */
  fillNowUntil: z.number().int().nullable(),
});
export type ImageTargetReply = z.infer<typeof ImageTargetReply>;

export const ImageUpdateState = z.enum([
  /** running the target (or no target): nothing to do */
  'idle',
  /** a newer target is known; waiting for the fill window */
  'waiting-window',
  'downloading',
  /** written to the inactive slot, about to drain and reboot into it */
  'staged',
  /** booted the new slot once; waiting for it to report healthy */
  'trying',
  /** the new slot reported healthy and is now the default */
  'committed',
  /** the new slot did not report healthy in time: back on the previous slot */
  'rolled-back',
  /** the bundle was refused (bad signature, sha256, size) or could not be written */
  'failed',
]);
export type ImageUpdateState = z.infer<typeof ImageUpdateState>;

export const ImageStatus = z.object({
  state: ImageUpdateState,
  /** the version running now, and its slot */
  currentVersion: ImageVersion,
  slot: z.enum(['a', 'b']),
  /** the version the state is about (the target being fetched, tried or rolled back) */
  targetVersion: ImageVersion.nullable(),
  reason: z.string().max(1000).nullable(),
  at: z.number().int(),
});
export type ImageStatus = z.infer<typeof ImageStatus>;

export const TurnupCheckName = z.enum(['interfaces', 'store', 'control', 'bgp']);
export type TurnupCheckName = z.infer<typeof TurnupCheckName>;

export const TurnupReport = z.object({
  passed: z.boolean(),
  version: ImageVersion,
  checks: z.array(z.object({
    name: TurnupCheckName,
    ok: z.boolean(),
    /** the check was waived by the site config (BGP) */
    waived: z.boolean().default(false),
    detail: z.string().max(1000),
  })).max(16),
  at: z.number().int(),
});
export type TurnupReport = z.infer<typeof TurnupReport>;

export function applianceImagePath(applianceId: string): string {
  return `/v1/appliances/${encodeURIComponent(applianceId)}/image`;
}
export function applianceImageStatusPath(applianceId: string): string {
  return `/v1/appliances/${encodeURIComponent(applianceId)}/image-status`;
}
export function applianceTurnupPath(applianceId: string): string {
  return `/v1/appliances/${encodeURIComponent(applianceId)}/turnup`;
}
