import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addSite, enroll, OPERATOR, PACKAGER, sendReport, startTestControl, titleRecord } from './helpers.ts';
import type { Ctx } from './helpers.ts';

describe('title registration', () => {
  let ctx: Ctx, dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'edgebox-ingest-'));
    writeFileSync(join(dir, 'early.title.json'), JSON.stringify(titleRecord('early')));
    writeFileSync(join(dir, 'broken.title.json'), '{"title": ');
    ctx = await startTestControl({ ingestDir: dir, ingestIntervalMs: 3_600_000 });
  });
  afterAll(async () => {
    await ctx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests title files at start and leaves a bad one in place', async () => {
    const titles = await ctx.call('GET', '/v1/titles', { token: OPERATOR });
    expect(titles.body.map((t: { titleId: string }) => t.titleId)).toEqual(['early']);
    expect(readdirSync(dir).sort()).toEqual(['broken.title.json', 'early.title.json']);
  });

  it('picks up new files on the next scan', async () => {
    writeFileSync(join(dir, 'later.title.json'), JSON.stringify(titleRecord('later')));
    expect(await ctx.ingest!.scan()).toBe(1);
    expect(await ctx.ingest!.scan()).toBe(0);
    expect((await ctx.call('GET', '/v1/titles', { token: OPERATOR })).body).toHaveLength(2);
  });

  it('registers over HTTP and refuses inconsistent records with a named reason', async () => {
    expect((await ctx.call('POST', '/v1/titles', { token: PACKAGER, body: titleRecord('t1') })).status).toBe(201);
    const noKey = titleRecord('t2');
    noKey.keys = noKey.keys.slice(0, 1);
    const r1 = await ctx.call('POST', '/v1/titles', { token: PACKAGER, body: noKey });
    expect([r1.status, r1.body.error.code, r1.body.error.message]).toEqual([422, 'inconsistent_title', `no key for kid ${titleRecord('t2').keys[1].kid}`]);
    const r2 = await ctx.call('POST', '/v1/titles', { token: PACKAGER, body: { ...titleRecord('t3'), manifest: { version: 2 } } });
    expect(r2.status).toBe(400);
    expect(r2.body.error.message).toMatch(/^body\.manifest/);
    const titles = (await ctx.call('GET', '/v1/titles', { token: OPERATOR })).body.map((t: { titleId: string }) => t.titleId);
    expect(titles).toEqual(['early', 'later', 't1']);
  });

  it('says where a title is available', async () => {
    await addSite(ctx, 's1');
    const box = await enroll(ctx, 's1', 'box1');
    await sendReport(ctx, box, { files: ['t1.v1'], routes: [] });
    const r = await ctx.call('GET', '/v1/titles/t1/availability', { token: OPERATOR });
    expect(r.body).toMatchObject({ titleId: 't1', files: 2, appliances: [{ applianceId: box.applianceId, filesHeld: 1, complete: false, state: 'healthy' }] });
    expect((await ctx.call('GET', '/v1/titles/nope/availability', { token: OPERATOR })).status).toBe(404);
  });
});
