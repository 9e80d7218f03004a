// The operator's one-call view for the status page (Bearer operatorToken, read-only): sites,
// appliances with their state and prefixes, live sessions, steering and playback counters
// (misses by cause), and every title with the appliances holding it. Fill progress is
// GET /v1/fill/status (routes/fill.ts); the page reads both.

import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Control } from '../../control.ts';
import type { Delivery } from '../../playback/delivery.ts';
import { parseWith } from '../../errors.ts';
import { requireStatic } from '../auth.ts';

const OverviewQuery = z.object({
  /** prefixes listed per appliance (the count is always given) */
  prefixes: z.coerce.number().int().min(0).max(10_000).default(50),
  sessions: z.coerce.number().int().min(0).max(10_000).default(200),
  titles: z.coerce.number().int().min(0).max(100_000).default(500),
});

/** A prom-client counter's values by one label, e.g. misses by cause. */
async function byLabel(counter: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, string | number | undefined> }> }> }, label: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await counter.get()).values) {
    const k = String(v.labels[label] ?? '');
    out[k] = (out[k] ?? 0) + v.value;
  }
  return out;
}

function targetsOf(delivery: string): Array<{ applianceId: string | null; tier: string }> {
  try {
    return (JSON.parse(delivery) as Delivery).targets.map((t) => ({ applianceId: t.applianceId ?? null, tier: t.tier }));
  } catch {
    return [];
  }
}

export function overviewRoutes(app: FastifyInstance, c: Control): void {
  app.get('/v1/overview', async (req) => {
    requireStatic(req, c.settings.operatorToken, 'operator');
    const q = parseWith(OverviewQuery, req.query, 'query');
    const now = c.now();
    const appliances = [...c.fleet.all()];
    const steering = (await c.metrics.steering.get()).values.reduce((n, v) => n + v.value, 0);
    const live = await c.repo.listLiveSessions(now - c.settings.sessionTtlMs, q.sessions);

    const titles = [...c.catalog.all()].sort((a, b) => a.titleId.localeCompare(b.titleId)).slice(0, q.titles).map((t) => {
      const bytes = t.manifest.files.reduce((n, f) => n + f.bytes, 0);
      const placed = [];
      for (const a of appliances) {
        let held = 0;
        for (const f of t.fileIds) if (a.inventory.has(f)) held++;
        if (held > 0) placed.push({ applianceId: a.id, name: a.name, siteId: a.site.siteId, filesHeld: held, complete: held === t.fileIds.length });
      }
      return { titleId: t.titleId, name: t.name, regions: t.regions, files: t.fileIds.length, bytes, durationMs: t.manifest.durationMs, placed };
    });

    return {
      now,
      publicUrl: c.publicUrl,
      originUrl: c.settings.originUrl,
      sites: await c.repo.listSites(),
      appliances: appliances.map((a) => ({
        applianceId: a.id, name: a.name, siteId: a.site.siteId, siteKind: a.site.kind, region: a.site.region,
        publicUrl: a.publicUrl, state: c.fleet.status(a, now), operatorDrain: a.operatorDrain,
        health: a.health, load: a.load, utilisation: a.utilisation, lastReportAt: a.lastReportAt ?? null,
        softwareVersion: a.softwareVersion, bgp: a.bgp, tiers: a.tiers, files: a.inventory.size,
        prefixCount: a.routes.length, prefixes: a.routes.slice(0, q.prefixes).map((r) => r.prefix),
      })),
      sessions: {
        live: live.length,
        list: live.map((s) => ({
          sessionId: s.sessionId.slice(0, 8), accountId: s.accountId, profileId: s.profileId, titleId: s.titleId, device: s.device,
          clientIp: s.clientIp, startedAt: s.startedAt, lastHeartbeatAt: s.lastHeartbeatAt, positionMs: s.positionMs,
          bitrateKbps: s.bitrateKbps, bufferMs: s.bufferMs, targets: targetsOf(s.delivery),
        })),
      },
      counters: {
        steeringDecisions: steering,
        missesByCause: await byLabel(c.metrics.misses, 'cause'),
        playbackStarts: await byLabel(c.metrics.playback, 'result'),
        licences: await byLabel(c.metrics.licences, 'result'),
      },
      titles,
    };
  });
}
