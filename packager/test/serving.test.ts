// The packaged title served for real: the origin process serves its files by Range in both URL
// forms, control (its own process) ingests the title record or takes it over HTTP, and a viewer
// session's DASH and HLS manifests, filled in by control from our templates, lead to byte
// ranges the origin serves.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseMpd } from 'mpd-parser';
import { signToken, type ContentManifest, type TitleRecord } from '../../protocol/index.ts';
import { registerTitle } from '../src/publish.ts';
import { packagedTitle, type Packaged, parseM3u8 } from './helpers/packaged.ts';
import { startControlProcess, startOrigin, type Started } from './helpers/processes.ts';

const TITLE = 't-serve';
let p: Packaged;
let store: string, reg: string;
let manifest: ContentManifest;
let record: TitleRecord;
const tmp = { get dir() { return p.dir; } };

beforeAll(async () => {
  p = await packagedTitle(TITLE);
  ({ store, reg, manifest, record } = p);
}, 300_000);

afterAll(async () => {
  await p?.cleanup();
});

describe('serving a packaged title', () => {
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
      const parsed = parseMpd(session.dash.mpd, { manifestUri: session.dash.url });
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

      // HLS: the multivariant playlist names control's per-session media playlists, whose
      // byte ranges lead to the origin.
      const master = parseM3u8(session.hls.master);
      expect(master.playlists.length).toBeGreaterThan(0);
      // control writes its own publicUrl (the default port) into URLs; the test's control listens
      // on an ephemeral port, so keep the path and use the real address.
      const u = new URL(master.playlists[0].uri, session.hls.url);
      const mediaUrl = `${control.url}${u.pathname}${u.search}`;
      const mediaRes = await fetch(mediaUrl);
      expect(mediaRes.status).toBe(200);
      const mediaText = await mediaRes.text();
      expect(mediaText).not.toContain('{{');
      const media = parseM3u8(mediaText);
      const seg = media.segments[1];
      expect(seg.uri.startsWith(`${origin.url}/v1/t/`)).toBe(true);
      const r = await fetch(seg.uri, { headers: { range: `bytes=${seg.byterange.offset}-${seg.byterange.offset + seg.byterange.length - 1}` } });
      expect(r.status).toBe(206);
      expect(Buffer.from(await r.arrayBuffer()).toString('latin1', 4, 8)).toBe('moof');
    });
  });
});
