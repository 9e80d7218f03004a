// The per-session multivariant playlist, read back by a real HLS parser (m3u8-parser, as used by
// video.js): one copy of every variant per target, best first, each with its own audio group.
import { Parser } from 'm3u8-parser';
import { describe, expect, it } from 'vitest';
import { sessionMaster, sessionMedia } from '../src/manifest/hls.ts';
import { titleRecord } from './helpers.ts';

describe('HLS redundant variants', () => {
  it('repeats each variant per target with renamed rendition groups', () => {
    const template = titleRecord('t1').manifest.templates.hls.master;
    const out = sessionMaster(template, 3, (fileId, rank) => `https://control.test/v1/playback/s/hls/${rank}/${fileId}.m3u8`);
    const parser = new Parser();
    parser.push(out);
    parser.end();
    const m = parser.manifest as any;
    expect(m.playlists.map((p: any) => [p.uri, p.attributes.AUDIO, p.attributes.BANDWIDTH])).toEqual([
      ['https://control.test/v1/playback/s/hls/0/t1.v1.m3u8', 'aud', 1_000_000],
      ['https://control.test/v1/playback/s/hls/1/t1.v1.m3u8', 'aud-r1', 1_000_000],
      ['https://control.test/v1/playback/s/hls/2/t1.v1.m3u8', 'aud-r2', 1_000_000],
    ]);
    expect(Object.keys(m.mediaGroups.AUDIO)).toEqual(['aud', 'aud-r1', 'aud-r2']);
    expect(m.mediaGroups.AUDIO['aud-r2'].en.uri).toBe('https://control.test/v1/playback/s/hls/2/t1.a1.m3u8');
    expect(out.match(/#EXTM3U/g)).toHaveLength(1);
    expect(out.match(/#EXT-X-VERSION/g)).toHaveLength(1);
  });
});

describe('HLS key signalling', () => {
  const LICENCE = 'https://control.test/v1/license?session=s1';
  const line = (keyformat: string) =>
    `#EXTM3U\n#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="{{LICENSE_URL}}",KEYFORMAT="${keyformat}",KEYFORMATVERSIONS="1",KEYID=0x0123\n#EXT-X-MAP:URI="{{BASE}}t1.v1"\n`;

  it('a title stored with the DASH ClearKey system id as KEYFORMAT gets org.w3.clearkey in the session playlist (hls.js needs it)', () => {
    const out = sessionMedia(line('urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e'), 'https://a1.test/v1/t/tok/f/', LICENCE);
    expect(out).toContain(`#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="${LICENCE}",KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1",KEYID=0x0123`);
    expect(out).not.toContain('urn:uuid');
    expect(out).toContain('#EXT-X-MAP:URI="https://a1.test/v1/t/tok/f/t1.v1"');
  });

  it('a title packaged with org.w3.clearkey passes through unchanged apart from its URLs', () => {
    const out = sessionMedia(line('org.w3.clearkey'), 'https://a1.test/', LICENCE);
    expect(out).toBe(line('org.w3.clearkey').replace('{{LICENSE_URL}}', LICENCE).replace('{{BASE}}', 'https://a1.test/'));
  });
});
