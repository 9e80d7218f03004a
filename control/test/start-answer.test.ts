// A playback start writes its answer's JSON with the title's manifests escaped once ahead
// (manifest/json-string.ts). The bytes must be those JSON.stringify gives for the same manifests,
// whatever the template holds: quotes, backslashes, control characters, non-ASCII text (one or
// two UTF-16 units) and a lone surrogate, in the literal text and in the per-session parts.

import { describe, expect, it } from 'vitest';
import { compileMpd } from '../src/manifest/dash.ts';
import { compileMaster } from '../src/manifest/hls.ts';
import { jsonStringContent } from '../src/manifest/json-string.ts';

const AWKWARD = 'q"uote back\\slash tab\t cr\r nul\u0000 \u001f é 日本 😀 lone\ud800 </script> \u2028';
const escaped = (s: string) => JSON.stringify(s).slice(1, -1);

describe('manifests as JSON string content', () => {
  it('jsonStringContent is JSON.stringify\'s escaping, also for text it leaves as it is', () => {
    for (const s of ['', 'plain http://a/v1/t/x.y/f/', AWKWARD, '\ud83d', '\ude00x']) expect(jsonStringContent(s)).toBe(escaped(s));
  });

  it('an MPD comes out as the escaped text of the same MPD', () => {
    const template = `<?xml version="1.0"?>\n<MPD title="${AWKWARD}">{{BASE_URLS}}<Period>{{LICENSE_URL}} ${AWKWARD}</Period></MPD>\n`;
    const mpd = compileMpd(template);
    const bases = ['http://a1/v1/t/x/f/', `http://a2/${AWKWARD}/`];
    const licence = `http://c/v1/license?session=s&x="${AWKWARD}"`;
    const text = mpd(bases, licence);
    expect(mpd(bases, licence, true)).toBe(escaped(text));
    expect(JSON.parse(`"${mpd(bases, licence, true)}"`)).toBe(text);
  });

  it('a multivariant playlist comes out as the escaped text of the same playlist, for each number of targets', () => {
    const template = [
      '#EXTM3U', `#EXT-X-SESSION-DATA:DATA-ID="x",VALUE="${AWKWARD}"`,
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="é",URI="{{MEDIA:t.a1}}"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO="aud"', '{{MEDIA:t.v1}}', '',
    ].join('\n');
    const master = compileMaster(template);
    const mediaUrl = (fileId: string, rank: number) => `https://c/v1/playback/s/hls/${rank}/${fileId}.m3u8?"${AWKWARD}`;
    for (const targets of [1, 3, 1]) {
      const text = master(targets, mediaUrl);
      expect(master(targets, mediaUrl, true)).toBe(escaped(text));
    }
  });
});
