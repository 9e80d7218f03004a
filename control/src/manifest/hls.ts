// Per-session HLS. HLS has no list of base URLs, so failover uses redundant variant streams
// (RFC 8216 §6.2.2 / Apple's "redundant streams"): the multivariant playlist repeats every
// variant once per ranked target, best target first, each copy pointing at a media playlist
// whose segment URLs go to that target. Rendition groups (EXT-X-MEDIA) are repeated with the
// rank appended to GROUP-ID and to the variants' AUDIO/SUBTITLES/VIDEO references, so each copy
// is self-contained and a player that drops a failing variant also drops its audio.

import { jsonStringContent } from './json-string.ts';

const GROUP_ATTR_RE = /\b(GROUP-ID|AUDIO|SUBTITLES|VIDEO)="([^"]*)"/g;
const MEDIA_SPLIT_RE = /\{\{MEDIA:([^}]+)\}\}/;

function isPerVariant(line: string): boolean {
  return line.startsWith('#EXT-X-MEDIA:') || line.startsWith('#EXT-X-I-FRAME-STREAM-INF:');
}

type MediaUrl = (fileId: string, rank: number) => string;
/** Literal text, or where a media playlist's URL goes. */
type Piece = string | { fileId: string; rank: number };

/**
 * A title's multivariant template made ready once: parsed into its head and per-variant blocks,
 * and for each number of targets the copies with renamed groups, split where the per-session
 * media playlist URLs go. A playback start then only writes those URLs in. With `json` the
 * playlist comes as JSON string content (jsonStringContent of the same text), the literal text
 * escaped once per number of targets.
 */
export function compileMaster(template: string): (targets: number, mediaUrl: MediaUrl, json?: boolean) => string {
  const lines = template.split(/\r?\n/);
  const head: string[] = [];
  const blocks: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith('#EXT-X-STREAM-INF:')) {
      blocks.push([l, lines[i + 1] ?? '']);
      i++;
    } else if (isPerVariant(l)) {
      blocks.push([l]);
    } else if (blocks.length === 0 && l.trim() !== '') {
      head.push(l);
    }
  }
  const byTargets = new Map<number, { text: Piece[]; json: Piece[] }>();
  const piecesFor = (targets: number): Piece[] => {
    const out: Piece[] = [];
    let text = head.map((l) => `${l}\n`).join('');
    for (let rank = 0; rank < targets; rank++) {
      for (const block of blocks) {
        for (const l of block) {
          const renamed = rank === 0 ? l : l.replace(GROUP_ATTR_RE, (_m, k: string, v: string) => `${k}="${v}-r${rank}"`);
          // split with a capturing group: literal text at even indices, file ids at odd ones
          const parts = renamed.split(MEDIA_SPLIT_RE);
          for (let i = 0; i < parts.length; i++) {
            if (i % 2 === 0) text += parts[i];
            else { out.push(text, { fileId: parts[i], rank }); text = ''; }
          }
          text += '\n';
        }
      }
    }
    out.push(text || '\n'); // an empty template still ends its (empty) last line, as it always has
    return out;
  };
  return (targets, mediaUrl, json = false) => {
    let pieces = byTargets.get(targets);
    if (!pieces) {
      const text = piecesFor(targets);
      byTargets.set(targets, (pieces = { text, json: text.map((p) => (typeof p === 'string' ? jsonStringContent(p) : p)) }));
    }
    let out = '';
    for (const p of json ? pieces.json : pieces.text) {
      out += typeof p === 'string' ? p : json ? jsonStringContent(mediaUrl(p.fileId, p.rank)) : mediaUrl(p.fileId, p.rank);
    }
    return out;
  };
}

/** `mediaUrl(fileId, rank)` names the per-session media playlist for one target. */
export function sessionMaster(template: string, targets: number, mediaUrl: MediaUrl): string {
  return compileMaster(template)(targets, mediaUrl);
}

// Titles packaged before the packager wrote `org.w3.clearkey` carry the DASH ClearKey system id
// as the key line's KEYFORMAT, which no HLS player knows (hls.js skips the key and stalls at
// 0 s). Stored templates are left as they are; the session's playlist says it the known way.
const LEGACY_CLEARKEY_KEYFORMAT = /(#EXT-X-KEY:[^\n]*KEYFORMAT=)"urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"/gi;
export const CLEARKEY_KEYFORMAT = 'org.w3.clearkey';

export function sessionMedia(template: string, base: string, licenceUrl: string): string {
  return template
    .replace(LEGACY_CLEARKEY_KEYFORMAT, `$1"${CLEARKEY_KEYFORMAT}"`)
    .replaceAll('{{BASE}}', base)
    .replaceAll('{{LICENSE_URL}}', licenceUrl);
}
