// The per-session MPD's key signalling: the title's common-system pssh is written on each
// AdaptationSet's mp4protection element (shaka-player's default init data for the set), so every
// set has the same init data and shaka-player asks for one licence; everything else is the template.

import { describe, expect, it } from 'vitest';
import { psshOnMp4Protection, sessionMpd, xmlEscape } from '../src/manifest/dash.ts';

const PSSH = '<cenc:pssh>AAAARHBzc2gBAAAAEHfv7MCyTQKs4zweUuL7SwAAAALKYASEi/rkxa6O2b+O7nJ69rqsXBtniEI0UFfc4YX1BAAAAAA=</cenc:pssh>';
const set = (kid: string, pssh: boolean) => `<AdaptationSet id="${kid}" contentType="video">
      <ContentProtection value="cenc" schemeIdUri="urn:mpeg:dash:mp4protection:2011" cenc:default_KID="${kid}"/>
      <ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0">
        <dashif:Laurl>{{LICENSE_URL}}</dashif:Laurl>
      </ContentProtection>
      ${pssh ? `<ContentProtection schemeIdUri="urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b">\n        ${PSSH}\n      </ContentProtection>` : ''}
      <Representation id="0"><BaseURL>t.v1</BaseURL></Representation>
    </AdaptationSet>`;
const mpd = (...sets: string[]) => `<MPD>{{BASE_URLS}}<Period>${sets.join('\n')}</Period></MPD>`;

describe('per-session MPD', () => {
  it('puts the common-system pssh on every set\'s mp4protection element, keeping the rest', () => {
    const out = psshOnMp4Protection(mpd(set('k-video', true), set('k-audio', true)));
    const mp4 = [...out.matchAll(/<ContentProtection value="cenc" schemeIdUri="urn:mpeg:dash:mp4protection:2011" cenc:default_KID="([^"]+)">(<cenc:pssh>[^<]+<\/cenc:pssh>)<\/ContentProtection>/g)];
    expect(mp4.map((m) => m[1])).toEqual(['k-video', 'k-audio']);
    expect(mp4.every((m) => m[2] === PSSH)).toBe(true);
    expect(out.match(/urn:uuid:1077efec/g)).toHaveLength(2);
    expect(out).toContain('<dashif:Laurl>{{LICENSE_URL}}</dashif:Laurl>');
  });

  it('leaves a set without a common-system pssh as it is', () => {
    const template = mpd(set('k-video', false));
    expect(psshOnMp4Protection(template)).toBe(template);
  });

  it('writes the base URLs in order and the escaped licence URL', () => {
    const out = sessionMpd(mpd(set('k', true)), ['http://a1/v1/t/x/f/', 'http://a2/v1/t/x/f/'], 'http://c/v1/license?session=s&x=1');
    expect([...out.matchAll(/<BaseURL>([^<]+)<\/BaseURL>/g)].map((m) => m[1])).toEqual(['http://a1/v1/t/x/f/', 'http://a2/v1/t/x/f/', 't.v1']);
    expect(out).toContain('<dashif:Laurl>http://c/v1/license?session=s&amp;x=1</dashif:Laurl>');
  });

  it('escapes each XML special character, and returns text without one as it is', () => {
    expect(xmlEscape(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
    expect(xmlEscape('&&')).toBe('&amp;&amp;');
    const plain = 'http://a1.example.net/v1/t/eyJ2IjoxfQ.abc_-/f/';
    expect(xmlEscape(plain)).toBe(plain);
  });
});
