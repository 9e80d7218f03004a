// End to end through the CLI: a synthetic master with two audio languages is packaged with a
// per-title ladder, encrypted, checked and published. Then every artefact is checked from the
// outside: manifests parse, byte ranges point at the right boxes, hashes and sizes match, keys
// decrypt (and a wrong key does not), keyframes align.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseMpd } from 'mpd-parser';
import type { ContentManifest, TitleRecord } from '../../protocol/index.ts';
import { boxesIn, topLevelBoxes } from '../src/mp4-boxes.ts';
import { sha256File } from '../src/content-manifest.ts';
import { checkKeyframesAligned, checkRoundTrip, keyframeTimes } from '../src/qa.ts';
import { packagedTitle, type Packaged, parseM3u8 } from './helpers/packaged.ts';

const TITLE = 't-e2e';
let p: Packaged;
let store: string, reg: string, out: string, work: string;
let cli: Packaged['cli'];
let manifest: ContentManifest;
let record: TitleRecord;
const tmp = { get dir() { return p.dir; } };

const BASE = 'https://a1.example/v1/t/TOKEN/f/';
const LICENSE = 'https://control.example/v1/licence?s=1&t=2';

function fillDash(t: string): string {
  return t.replace('{{BASE_URLS}}', `<BaseURL>${BASE}</BaseURL>`).split('{{LICENSE_URL}}').join(LICENSE.replace(/&/g, '&amp;'));
}

beforeAll(async () => {
  p = await packagedTitle(TITLE);
  ({ store, reg, out, work, cli, manifest, record } = p);
}, 300_000);

afterAll(async () => {
  await p?.cleanup();
});

describe('packager end to end (CLI)', () => {
  it('prints progress with percent and ETA, and one JSON result', () => {
    const events = cli.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).progress);
    expect(events.length).toBeGreaterThan(5);
    const pct = events.map((e) => e.percent);
    expect(pct.every((p, i) => i === 0 || p >= pct[i - 1])).toBe(true);
    expect(pct[pct.length - 1]).toBe(100);
    expect(events.some((e) => typeof e.etaS === 'number')).toBe(true);
    const result = JSON.parse(cli.stdout);
    expect(result.titleId).toBe(TITLE);
    expect(result.qa.passed).toBe(true);
    expect(result.ladder.metric).toBe('vmaf');
    expect(result.registration.via).toBe('file');
  });

  it('writes the ladder decision with every measurement, and QA with each rung\'s VMAF', async () => {
    const { ladder } = JSON.parse(await readFile(join(out, `${TITLE}.ladder.json`), 'utf8'));
    expect(ladder.metric).toBe('vmaf');
    expect(ladder.trials).toHaveLength(2 * 2); // 240p and 360p × two rates
    for (const t of ladder.trials) expect(t.quality).toBeGreaterThan(0);
    expect(ladder.hull.length).toBeGreaterThan(0);
    expect(ladder.rungs.length).toBeGreaterThan(0);
    const qa = JSON.parse(await readFile(join(out, `${TITLE}.qa.json`), 'utf8'));
    expect(qa.passed).toBe(true);
    expect(qa.keyframesAligned).toBe(true);
    const video = manifest.files.filter((f) => f.kind === 'video');
    expect(video.length).toBe(ladder.rungs.length);
    for (const f of video) {
      expect(qa.files[f.fileId].quality).toBeGreaterThan(30);
      expect(f.quality).toBe(qa.files[f.fileId].quality);
      expect(f.height).toBeLessThanOrEqual(360);
    }
  });

  it('manifest: streams, languages, separate keys for audio and video, no key anywhere public', async () => {
    const audio = manifest.files.filter((f) => f.kind === 'audio');
    expect(audio.map((a) => a.language).sort()).toEqual(['en', 'fr']);
    expect(audio.map((a) => a.fileId).sort()).toEqual([`${TITLE}.a_en`, `${TITLE}.a_fr`]);
    expect(record.keys.map((k) => k.label).sort()).toEqual(['audio', 'sd']);
    const kidOf = (label: string) => record.keys.find((k) => k.label === label)!.kid;
    for (const f of manifest.files) expect(f.kid).toBe(kidOf(f.kind === 'audio' ? 'audio' : 'sd'));
    expect(new Set(manifest.kids)).toEqual(new Set(record.keys.map((k) => k.kid)));
    const publicText = [JSON.stringify(manifest), ...(await Promise.all((await readdir(out)).filter((f) => !f.endsWith('.title.json')).map((f) => readFile(join(out, f), 'latin1'))))].join('\n');
    for (const k of record.keys) expect(publicText.includes(k.key)).toBe(false);
    expect((await stat(join(reg, `${TITLE}.title.json`))).mode & 0o077).toBe(0);
  });

  it('origin files match the manifest: sizes and sha256', async () => {
    for (const f of manifest.files) {
      const p = join(store, f.fileId);
      expect((await stat(p)).size).toBe(f.bytes);
      expect(await sha256File(p)).toBe(f.sha256);
    }
  });

  it('initRange is ftyp+moov, indexRange is the sidx, HLS byte ranges are moof+mdat', async () => {
    for (const f of manifest.files) {
      const boxes = await topLevelBoxes(join(store, f.fileId));
      expect(boxesIn(boxes, f.initRange.start, f.initRange.end)?.map((b) => b.type)).toEqual(['ftyp', 'moov']);
      expect(boxesIn(boxes, f.indexRange.start, f.indexRange.end)?.map((b) => b.type)).toEqual(['sidx']);
      const media = parseM3u8(manifest.templates.hls.media[f.fileId].split('{{BASE}}').join(BASE).split('{{LICENSE_URL}}').join(LICENSE));
      expect(media.segments.length).toBeGreaterThan(1);
      const map = media.segments[0].map;
      expect(map.uri).toBe(`${BASE}${f.fileId}`);
      expect(map.byterange).toEqual({ offset: f.initRange.start, length: f.initRange.end - f.initRange.start + 1 });
      let end = 0;
      for (const s of media.segments) {
        expect(s.uri).toBe(`${BASE}${f.fileId}`);
        const { offset, length } = s.byterange;
        expect(boxesIn(boxes, offset, offset + length - 1)?.map((b) => b.type)).toEqual(['moof', 'mdat']);
        end = offset + length;
      }
      expect(end).toBe(f.bytes);
    }
  });

  it('the DASH template parses with mpd-parser, signals ClearKey for shaka-player and dash.js', () => {
    const mpd = fillDash(manifest.templates.dash);
    const parsed = parseMpd(mpd, { manifestUri: 'https://control.example/v1/sessions/s1/manifest.mpd' });
    const video = manifest.files.filter((f) => f.kind === 'video');
    expect(parsed.playlists).toHaveLength(video.length);
    for (const p of parsed.playlists) {
      const f = manifest.files.find((x) => p.resolvedUri === `${BASE}${x.fileId}`)!;
      expect(f).toBeTruthy();
      expect(p.attributes.BANDWIDTH).toBe(f.bandwidth);
      expect(p.sidx.byterange).toEqual({ offset: f.indexRange.start, length: f.indexRange.end - f.indexRange.start + 1 });
      expect(p.contentProtection['org.w3.clearkey'].pssh.length).toBeGreaterThan(0);
    }
    // The master's first language is the default (Role main).
    expect(Object.keys(parsed.mediaGroups.AUDIO.audio).sort()).toEqual(['en (main)', 'fr']);
    // Each AdaptationSet: mp4protection with the default KID, then the W3C ClearKey system with
    // the licence URL (dashif:Laurl for dash.js ≥ 4 and shaka-player, clearkey:Laurl for older dash.js).
    const sets = [...mpd.matchAll(/<AdaptationSet[\s\S]*?<\/AdaptationSet>/g)].map((m) => m[0]);
    expect(sets).toHaveLength(3);
    for (const s of sets) {
      expect(s).toMatch(/<ContentProtection value="cenc" schemeIdUri="urn:mpeg:dash:mp4protection:2011" cenc:default_KID="[0-9a-f-]{36}"\/>\s*<ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"/);
      expect(s).toContain(`<dashif:Laurl>${LICENSE.replace(/&/g, '&amp;')}</dashif:Laurl>`);
    }
    expect(mpd).toContain('xmlns:dashif="https://dashif.org/CPS"');
  });

  it('the HLS templates parse with m3u8-parser', () => {
    const master = parseM3u8(manifest.templates.hls.master.replace(/\{\{MEDIA:([^}]+)\}\}/g, 'https://control.example/v1/s/1/hls/$1.m3u8'));
    const video = manifest.files.filter((f) => f.kind === 'video');
    expect(master.playlists).toHaveLength(video.length);
    expect(master.playlists.map((p: any) => p.uri).sort()).toEqual(video.map((f) => `https://control.example/v1/s/1/hls/${f.fileId}.m3u8`).sort());
    expect(Object.keys(master.mediaGroups.AUDIO.audio).sort()).toEqual(['en', 'fr']);
    for (const f of manifest.files) {
      const media = parseM3u8(manifest.templates.hls.media[f.fileId].split('{{BASE}}').join(BASE).split('{{LICENSE_URL}}').join(LICENSE));
      expect(media.endList).toBe(true);
      const key = media.segments[0].key ?? media.contentProtection;
      expect(JSON.stringify(key)).toContain(LICENSE);
      expect(manifest.templates.hls.media[f.fileId]).toContain(`KEYID=0x${f.kid}`);
    }
  });

  it('round trip: decrypts with the right key to the clear encode, fails with a wrong one', async () => {
    const v = manifest.files.find((f) => f.kind === 'video')!;
    const key = record.keys.find((k) => k.kid === v.kid)!.key;
    const clear = join(work, TITLE, `${v.fileId.split('.')[1]}.mp4`);
    const ok = await checkRoundTrip(join(store, v.fileId), clear, key, tmp.dir);
    expect(ok.error).toBeUndefined();
    expect(ok.result!.frames).toBe(150);
    const wrong = (key[0] === '0' ? '1' : '0') + key.slice(1);
    const bad = await checkRoundTrip(join(store, v.fileId), clear, wrong, tmp.dir);
    expect(bad.error).toMatch(/differs|decrypt failed/);
    const a = manifest.files.find((f) => f.kind === 'audio')!;
    const akey = record.keys.find((k) => k.label === 'audio')!.key;
    const aclear = join(work, TITLE, `${a.fileId.split('.')[1]}.mp4`);
    expect((await checkRoundTrip(join(store, a.fileId), aclear, akey, tmp.dir, { audio: true })).error).toBeUndefined();
    expect((await checkRoundTrip(join(store, a.fileId), aclear, key, tmp.dir, { audio: true })).error).toBeTruthy();
  });

  it('keyframes sit every 2 s and align across renditions', async () => {
    const key = record.keys.find((k) => k.label === 'sd')!.key;
    const video = manifest.files.filter((f) => f.kind === 'video');
    expect(await checkKeyframesAligned(video.map((f) => ({ name: f.fileId, path: join(store, f.fileId), key })))).toBeUndefined();
    const times = await keyframeTimes(join(store, video[0].fileId), key);
    expect(times.map(Number)).toEqual([0, 2, 4]);
  });
});
