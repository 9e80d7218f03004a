// The per-session multivariant playlist, read back by a real HLS parser (m3u8-parser, as used by
// video.js): one copy of every variant per target, best first, each with its own audio group.
import { Parser } from 'm3u8-parser';
import { describe, expect, it } from 'vitest';
import { sessionMaster } from '../src/manifest/hls.ts';
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
