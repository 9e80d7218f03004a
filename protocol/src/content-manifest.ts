// The content manifest: what the packager made of one title. It goes to the origin (no keys in
// it) and to control, which plans fill from `files` and writes per-session DASH/HLS manifests by
// filling the templates' placeholders:
//
//   DASH `templates.dash` (one MPD, on-demand profile, SegmentBase + indexRange):
//     {{BASE_URLS}}       → one <BaseURL> element per ranked appliance, best first, each ending in
//                           `/v1/t/<token>/f/` (see urls.ts); each Representation's own BaseURL is
//                           its bare fileId, resolved against them.
//     {{LICENSE_URL}}     → the ClearKey licence URL for the session (XML-attribute escaped).
//   HLS `templates.hls.master`: a multivariant playlist; each media playlist URI is written as
//     {{MEDIA:<fileId>}}  → the URL control serves that stream's per-session media playlist at.
//   HLS `templates.hls.media[fileId]`: a media playlist with EXT-X-MAP and EXT-X-BYTERANGE whose
//     URIs are written as {{BASE}}<fileId>; {{BASE}} → an appliance's `/v1/t/<token>/f/` URL.
//     {{LICENSE_URL}} may appear in EXT-X-KEY.

import { z } from 'zod';
import { FILE_ID_RE, TITLE_ID_RE } from './file-id.ts';

export const KID_HEX_RE = /^[0-9a-f]{32}$/;
export const SHA256_HEX_RE = /^[0-9a-f]{64}$/;

export const ByteRange = z.object({
  /** first byte, inclusive */
  start: z.number().int().min(0),
  /** last byte, inclusive (as in HTTP Range and DASH indexRange) */
  end: z.number().int().min(0),
});
export type ByteRange = z.infer<typeof ByteRange>;

export const FileKind = z.enum(['video', 'audio', 'text']);
export type FileKind = z.infer<typeof FileKind>;

export const KeyLabel = z.enum(['audio', 'sd', 'hd', 'uhd']);
export type KeyLabel = z.infer<typeof KeyLabel>;

export const ContentFile = z.object({
  fileId: z.string().regex(FILE_ID_RE),
  kind: FileKind,
  mimeType: z.string(),
  codecs: z.string(),
  /** bits per second, as in the MPD */
  bandwidth: z.number().int().min(0),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  frameRate: z.string().optional(),
  language: z.string().optional(),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(SHA256_HEX_RE),
  initRange: ByteRange,
  indexRange: ByteRange,
  /** key id (hex, 32 digits) this stream is encrypted under; absent for clear streams */
  kid: z.string().regex(KID_HEX_RE).optional(),
  /** VMAF (or SSIM, see ladder metric) measured by QA, for video rungs */
  quality: z.number().optional(),
});
export type ContentFile = z.infer<typeof ContentFile>;

export const ContentManifest = z.object({
  version: z.literal(1),
  titleId: z.string().regex(TITLE_ID_RE),
  durationMs: z.number().int().positive(),
  files: z.array(ContentFile).min(1),
  /** every key id used by this title */
  kids: z.array(z.string().regex(KID_HEX_RE)),
  templates: z.object({
    dash: z.string(),
    hls: z.object({ master: z.string(), media: z.record(z.string(), z.string()) }),
  }),
  createdAt: z.string(),
});
export type ContentManifest = z.infer<typeof ContentManifest>;

/** One content key. Travels only packager → control (never to the origin or an appliance). */
export const ContentKey = z.object({
  kid: z.string().regex(KID_HEX_RE),
  key: z.string().regex(KID_HEX_RE),
  label: KeyLabel,
});
export type ContentKey = z.infer<typeof ContentKey>;

/**
 * What the packager registers with control (POST /v1/titles, authenticated), or, before control
 * exists, writes as `<titleId>.title.json` into control's ingest directory.
 */
export const TitleRecord = z.object({
  title: z.object({
    titleId: z.string().regex(TITLE_ID_RE),
    name: z.string().min(1).max(200),
    /** region codes where the title may be played; empty means everywhere */
    regions: z.array(z.string()).default([]),
  }),
  manifest: ContentManifest,
  keys: z.array(ContentKey).min(1),
});
export type TitleRecord = z.infer<typeof TitleRecord>;
