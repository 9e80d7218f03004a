// Per-session DASH: the packager's MPD template with one <BaseURL> per ranked target (best first;
// players try them in order and fail over) and the session's licence URL.
//
// One licence request per session for shaka-player: it opens a ClearKey session per distinct init
// data, and without init data of its own each AdaptationSet's ClearKey element gets one made from
// that set's default_KID — a title with an audio key and a video key cost three licence round
// trips before the first frame (audio, video, and the title's common-system pssh). The template
// carries that pssh (every key id of the title) on the 1077efec… element; writing it on each
// set's mp4protection element too makes it the default init data of every key system there, so
// all sets share one init data and one session. dash.js builds its ClearKey init data from
// default_KID alone (one request per key) and is unaffected; titles already stored get it too.

import { jsonStringContent } from './json-string.ts';

// A playback start escapes each of its base URLs (~200 characters, none of these in practice):
// one test instead of five replace passes when there is nothing to escape.
const XML_SPECIAL_RE = /[&<>"']/;

export function xmlEscape(s: string): string {
  if (!XML_SPECIAL_RE.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const SET_RE = /<AdaptationSet\b[\s\S]*?<\/AdaptationSet>/g;
const MP4PROTECTION_RE = /<ContentProtection\b(?=[^>]*schemeIdUri="urn:mpeg:dash:mp4protection:2011")([^>]*?)\s*\/>/;
const COMMON_PSSH_RE = /<ContentProtection\b[^>]*schemeIdUri="urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"[^>]*>\s*(<cenc:pssh>[^<]+<\/cenc:pssh>)/;

/** Each AdaptationSet's common-system pssh also on its (self-closing) mp4protection element. */
export function psshOnMp4Protection(mpd: string): string {
  return mpd.replace(SET_RE, (set) => {
    const pssh = COMMON_PSSH_RE.exec(set)?.[1];
    return pssh ? set.replace(MP4PROTECTION_RE, (_m, attrs: string) => `<ContentProtection${attrs}>${pssh}</ContentProtection>`) : set;
  });
}

const PLACEHOLDER_RE = /\{\{(BASE_URLS|LICENSE_URL)\}\}/;

/**
 * A title's MPD template made ready once (the pssh rewrite, split at its placeholders) so each
 * session only writes in its base URLs and licence URL: a playback start renders one. With
 * `json` the MPD comes as JSON string content (jsonStringContent of the same text), the literal
 * text escaped once here.
 */
export function compileMpd(template: string): (baseUrls: readonly string[], licenceUrl: string, json?: boolean) => string {
  // split with a capturing group: literal text at even indices, placeholder names at odd ones
  const pieces = psshOnMp4Protection(template).split(PLACEHOLDER_RE);
  const jsonPieces = pieces.map((p, i) => (i % 2 === 0 ? jsonStringContent(p) : p));
  return (baseUrls, licenceUrl, json = false) => {
    let bases = baseUrls.map((u) => `<BaseURL>${xmlEscape(u)}</BaseURL>`).join('\n    ');
    let licence = xmlEscape(licenceUrl);
    if (json) {
      bases = jsonStringContent(bases);
      licence = jsonStringContent(licence);
    }
    const literal = json ? jsonPieces : pieces;
    let out = literal[0];
    for (let i = 1; i < literal.length; i += 2) out += (literal[i] === 'BASE_URLS' ? bases : licence) + literal[i + 1];
    return out;
  };
}

export function sessionMpd(template: string, baseUrls: readonly string[], licenceUrl: string): string {
  return compileMpd(template)(baseUrls, licenceUrl);
}
