// The HLS templates' key line, as the packager writes it from Shaka Packager's playlist: ClearKey
// signalled with the EME key system name (hls.js matches KEYFORMAT against `drmSystems`), the
// session's licence URL as a placeholder and the key id, never the key.

import { describe, expect, it } from 'vitest';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { CLEARKEY_KEYFORMAT, hlsMediaTemplate } from '../src/hls-template.ts';

const SHAKA_MEDIA = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="t1.v360.mp4",BYTERANGE="800@0"
#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="data:text/plain;base64,AAAA",KEYFORMAT="identity"
#EXTINF:2.000,
#EXT-X-BYTERANGE:1000@900
t1.v360.mp4
#EXT-X-ENDLIST
`;

describe('HLS media template key line', () => {
  it('names org.w3.clearkey, the licence URL placeholder and the key id', () => {
    const kid = '0123456789abcdef0123456789abcdef';
    const t = hlsMediaTemplate(SHAKA_MEDIA, 't1.v360.mp4', kid);
    expect(CLEARKEY_KEYFORMAT).toBe('org.w3.clearkey');
    expect(t).toContain(`#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="{{LICENSE_URL}}",KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1",KEYID=0x${kid}`);
    expect(t).not.toContain('base64');
    const p = new M3u8Parser();
    p.push(t.replaceAll('{{LICENSE_URL}}', 'https://control.test/v1/license?session=s').replaceAll('{{BASE}}', 'https://a.test/'));
    p.end();
    const seg = (p.manifest as any).segments[0];
    expect(seg.uri).toBe('https://a.test/t1.v360.mp4');
    expect(seg.map.uri).toBe('https://a.test/t1.v360.mp4');
  });

  it('drops the key line of a clear stream', () => {
    expect(hlsMediaTemplate(SHAKA_MEDIA, 't1.v360.mp4', undefined)).not.toContain('#EXT-X-KEY');
  });
});
