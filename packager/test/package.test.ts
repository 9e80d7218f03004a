// End to end through the CLI: a synthetic master with two audio languages is packaged with a
// per-title ladder, encrypted, checked and published. Then every artefact is checked from the
// outside: manifests parse, byte ranges point at the right boxes, hashes and sizes match, keys
// decrypt (and a wrong key does not), and the origin serves the files with Range.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseMpd } from 'mpd-parser';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { TitleRecord, type ContentManifest } from '../../protocol/index.ts';
import { boxesIn, topLevelBoxes } from '../src/mp4-boxes.ts';
import { sha256File } from '../src/content-manifest.ts';
import { checkKeyframesAligned, checkRoundTrip, keyframeTimes } from '../src/qa.ts';
import { makeMaster, tempDir, VMAF_MODEL } from './helpers/masters.ts';
import { runNode, startControlProcess, startOrigin, type Started } from './helpers/processes.ts';
import { registerTitle } from '../src/publish.ts';
import { signToken } from '../../protocol/index.ts';

const TITLE = 't-e2e';
let tmp: Awaited<ReturnType<typeof tempDir>>;
let store: string, reg: string, out: string, work: string;
let cli: { code: number; stdout: string; stderr: string };
let manifest: ContentManifest;
let record: TitleRecord;

const BASE = 'https://a1.example/v1/t/TOKEN/f/';
const LICENSE = 'https://control.example/v1/licence?s=1&t=2';

function fillDash(t: string): string {
  return t.replace('{{BASE_URLS}}', `<BaseURL>${BASE}</BaseURL>`).split('{{LICENSE_URL}}').join(LICENSE.replace(/&/g, '&amp;'));
}

function parseM3u8(text: string): any {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest;
}

beforeAll(async () => {
  tmp = await tempDir('e2e');
  [store, reg, out, work] = ['origin', 'ingest', 'out', 'work'].map((d) => join(tmp.dir, d));
  const master = await makeMaster(tmp.dir, 'master.mp4', { kind: 'flat', width: 640, height: 360, durationS: 6, languages: ['eng', 'fra'] });
  const config = join(tmp.dir, 'packager.json');
  await writeFile(config, JSON.stringify({
    sampleShots: 2, shotSeconds: 1.5, trialBpp: [0.03, 0.1], vmafSubsample: 5, trialPreset: 'ultrafast', encodePreset: 'veryfast', maxRungs: 3, workDir: work,
  }));
  cli = await runNode(['packager/cli.ts', master, '--title', TITLE, '--name', 'End to end', '--json', '--config', config,
    '--out', out, '--origin-store', store, '--register-dir', reg, '--vmaf-model', process.env.EDGEBOX_PACKAGER_VMAF_MODEL_PATH ?? VMAF_MODEL]);
  if (cli.code !== 0) throw new Error(`package failed (${cli.code}): ${cli.stdout} ${cli.stderr.slice(-2000)}`);
  manifest = JSON.parse(await readFile(join(store, 'manifests', `${TITLE}.json`), 'utf8'));
  record = TitleRecord.parse(JSON.parse(await readFile(join(reg, `${TITLE}.title.json`), 'utf8')));
}, 300_000);

afterAll(async () => {
  await tmp?.cleanup();
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

  describe('origin and control (real processes)', () => {
    let origin: Started;
    let control: Started;
    const OPERATOR = 'operator-token-0123456789';
    const PACKAGER = 'packager-token-0123456789';
    const URL_SECRET = 'url-token-secret-0123456789';
    beforeAll(async () => {
      origin = await startOrigin(store, { EDGEBOX_ORIGIN_URL_TOKEN_KEYS: JSON.stringify({ k1: URL_SECRET }) });
      // control ingests the packager's <titleId>.title.json from its ingest directory at start,
      // and (with no appliances) steers viewers to the origin.
      control = await startControlProcess({
        EDGEBOX_CONTROL_DB_PATH: join(tmp.dir, 'control.db'), EDGEBOX_CONTROL_INGEST_DIR: reg, EDGEBOX_CONTROL_ORIGIN_URL: origin.url,
        EDGEBOX_CONTROL_OPERATOR_TOKEN: OPERATOR, EDGEBOX_CONTROL_PACKAGER_TOKEN: PACKAGER, EDGEBOX_CONTROL_KEK: 'ab'.repeat(32),
        EDGEBOX_CONTROL_URL_TOKEN_KID: 'k1', EDGEBOX_CONTROL_URL_TOKEN_SECRET: URL_SECRET,
      });
    });
    afterAll(async () => {
      await control?.stop();
      await origin?.stop();
    });

    it('origin serves byte ranges of published files and the key-free manifest', async () => {
      const f = manifest.files[0];
      const res = await fetch(`${origin.url}/v1/f/${f.fileId}`, { headers: { range: `bytes=${f.indexRange.start}-${f.indexRange.end}` } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes ${f.indexRange.start}-${f.indexRange.end}/${f.bytes}`);
      const body = Buffer.from(await res.arrayBuffer());
      const file = await readFile(join(store, f.fileId));
      expect(body.equals(file.subarray(f.indexRange.start, f.indexRange.end + 1))).toBe(true);
      expect(body.toString('latin1', 4, 8)).toBe('sidx');
      const full = await fetch(`${origin.url}/v1/f/${f.fileId}`);
      expect(full.status).toBe(200);
      expect(full.headers.get('content-type')).toBe('video/mp4');
      expect(Number(full.headers.get('content-length'))).toBe(f.bytes);
      await full.arrayBuffer();
      const m = await fetch(`${origin.url}/v1/manifests/${TITLE}.json`);
      expect(((await m.json()) as ContentManifest).files.length).toBe(manifest.files.length);
    });

    it('origin answers errors as JSON: unknown file, bad id, unsatisfiable range, bad token', async () => {
      const missing = await fetch(`${origin.url}/v1/f/${TITLE}.nope`);
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as any).error.code).toBe('not_found');
      const bad = await fetch(`${origin.url}/v1/f/..%2Fmanifests`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as any).error.code).toBe('bad_file_id');
      const f = manifest.files[0];
      const r = await fetch(`${origin.url}/v1/f/${f.fileId}`, { headers: { range: `bytes=${f.bytes + 10}-` } });
      expect(r.status).toBe(416);
      expect(r.headers.get('content-range')).toBe(`bytes */${f.bytes}`);
      expect(((await r.json()) as any).error.code).toBe('range_not_satisfiable');
      const other = signToken({ kid: 'k1', secret: URL_SECRET, exp: Math.floor(Date.now() / 1000) + 600, title: 'another' });
      const t = await fetch(`${origin.url}/v1/t/${other}/f/${f.fileId}`);
      expect(t.status).toBe(403);
      expect(((await t.json()) as any).error.code).toBe('bad_token');
    });

    it('control ingests the title file the packager wrote', async () => {
      const res = await fetch(`${control.url}/v1/titles`, { headers: { authorization: `Bearer ${OPERATOR}` } });
      expect(res.status).toBe(200);
      const titles = (await res.json()) as { titleId: string; files: number }[];
      expect(titles.find((t) => t.titleId === TITLE)?.files).toBe(manifest.files.length);
    });

    it('--control posts the record with the packager token; a wrong token is refused', async () => {
      await expect(registerTitle(record, { controlUrl: control.url, controlToken: 'wrong-token-0123456789', registerDir: join(tmp.dir, 'unused') }))
        .rejects.toThrow(/control refused the title \(401/);
      const ok = await registerTitle(record, { controlUrl: control.url, controlToken: PACKAGER, registerDir: join(tmp.dir, 'unused') });
      expect(ok).toEqual({ via: 'control', where: `${control.url}/v1/titles` });
    });

    it('a viewer session: control fills the DASH template, the player\'s ranges come from the origin', async () => {
      const op = { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' };
      const acc = (await (await fetch(`${control.url}/v1/accounts`, { method: 'POST', headers: op, body: JSON.stringify({ name: 'viewer', plan: 'premium', region: 'eu' }) })).json()) as any;
      const prf = (await (await fetch(`${control.url}/v1/accounts/${acc.accountId}/profiles`, { method: 'POST', headers: op, body: JSON.stringify({ name: 'p' }) })).json()) as any;
      const play = await fetch(`${control.url}/v1/playback`, {
        method: 'POST', headers: { authorization: `Bearer ${acc.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ titleId: TITLE, profileId: prf.profileId, device: 'test' }),
      });
      const session = (await play.json()) as any;
      expect(play.status, JSON.stringify(session)).toBe(201);
      const parsed = parseMpd(session.dash.mpd, { manifestUri: `${control.url}${session.dash.url}` });
      expect(parsed.playlists.length).toBe(manifest.files.filter((f) => f.kind === 'video').length);
      for (const p of parsed.playlists) {
        expect(p.resolvedUri.startsWith(`${origin.url}/v1/t/`)).toBe(true);
        const { offset, length } = p.sidx.byterange;
        const res = await fetch(p.resolvedUri, { headers: { range: `bytes=${offset}-${offset + length - 1}` } });
        expect(res.status).toBe(206);
        expect(Buffer.from(await res.arrayBuffer()).toString('latin1', 4, 8)).toBe('sidx');
      }
      expect(session.dash.mpd).toContain('urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e');
      expect(session.dash.mpd).not.toContain('{{');
    });
  });
});
