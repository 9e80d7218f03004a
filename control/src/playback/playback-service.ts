// Play, heartbeat, stop: entitlement and region checks, steering, the stream limit (one atomic
// store call), and the session's liveness (ended, or silent for longer than the TTL).

import { z } from 'zod';
import { formatAddress, HttpError } from '../../../protocol/index.ts';
import type { Address } from '../../../protocol/index.ts';
import type { Control } from '../control.ts';
import { secretHash } from '../credentials.ts';
import { steer } from '../steering/steer.ts';
import type { Account, SessionRow } from '../store/repository.ts';
import { baseUrls, makeDelivery, manifestsAsJson, sessionPaths } from './delivery.ts';
import { recordSample } from './throughput-samples.ts';
import type { Delivery } from './delivery.ts';
import { streamLimit } from './plans.ts';
import { newSessionId } from './session-ids.ts';
import { ViewerCache } from './viewer-cache.ts';

export const PlayRequest = z.object({
  titleId: z.string().min(1).max(64),
  profileId: z.string().min(1).max(64),
  device: z.string().min(1).max(100),
});

export const Heartbeat = z.object({
  positionMs: z.number().int().min(0),
  bitrateKbps: z.number().int().min(0),
  bufferMs: z.number().int().min(0),
  /** the appliance the player is fetching from (one of the session's targets); absent = the first */
  applianceId: z.string().min(1).max(64).optional(),
});

export class PlaybackService {
  #c: Control;
  #viewers = new ViewerCache();

  constructor(c: Control) { this.#c = c; }

  async account(token: string): Promise<Account> {
    const a = await this.#viewers.accounts.get(secretHash(token), (hash) => this.#c.repo.accountByToken(hash));
    if (!a) throw new HttpError(401, 'unauthenticated', 'unknown account token');
    return a;
  }

  isLive(s: SessionRow, now = this.#c.now()): boolean {
    return s.endedAt === null && now - s.lastHeartbeatAt <= this.#c.settings.sessionTtlMs;
  }

  /** A started session: its id, and its answer as JSON text ({sessionId, …, targets, dash: {url, mpd}, hls: {url, master}}). */
  async start(account: Account, body: z.output<typeof PlayRequest>, client: Address): Promise<{ sessionId: string; json: string }> {
    const c = this.#c;
    const profile = await this.#viewers.profiles.get(body.profileId, (id) => c.repo.getProfile(id));
    if (!profile) throw new HttpError(404, 'profile_not_found', `no profile ${body.profileId}`);
    if (profile.accountId !== account.accountId) throw new HttpError(403, 'forbidden', 'that profile belongs to another account');
    if (account.status !== 'active') throw new HttpError(403, 'not_entitled', 'the account has no active subscription');
    const title = c.catalog.get(body.titleId);
    if (!title) throw new HttpError(404, 'title_not_found', `no title ${body.titleId}`);
    if (title.regions.length > 0 && !title.regions.includes(account.region)) {
      throw new HttpError(403, 'not_in_region', `title ${title.titleId} is not available in region ${account.region}`);
    }
    const now = c.now();
    const decision = steer(c.fleet, { address: client, titleId: title.titleId, fileIds: title.fileIds, region: account.region, now }, {
      topK: c.settings.topK, fallbackK: c.settings.fallbackK, originUrl: c.settings.originUrl, throughput: c.throughput,
    });
    const sid = newSessionId();
    const key = c.urlTokenKeys.signing(now);
    const delivery = makeDelivery(sid, title, decision.targets, client, now, {
      kid: key.kid, secret: key.secret, ttlSec: c.settings.urlTokenTtlSec, bindClient: c.settings.tokenClientBinding,
    });
    const started = await c.repo.startSession({
      sessionId: sid, accountId: account.accountId, profileId: profile.profileId, titleId: title.titleId,
      device: body.device, clientIp: formatAddress(client), startedAt: now, lastHeartbeatAt: now,
      endedAt: null, delivery: JSON.stringify(delivery),
    }, streamLimit(account.plan), now - c.settings.sessionTtlMs);
    if (!started.ok) {
      c.metrics.playback.inc({ result: 'stream_limit' });
      throw new HttpError(429, 'stream_limit', `the plan allows ${streamLimit(account.plan)} streams; already streaming on: ${started.devices.join(', ')}`, { devices: started.devices });
    }
    c.metrics.playback.inc({ result: 'started' });
    c.metrics.steering.inc();
    if (decision.miss) c.metrics.misses.inc({ cause: decision.miss });
    if (decision.degraded) c.metrics.steeringDegraded.inc();
    const paths = sessionPaths(c.publicUrl, sid);
    const bases = baseUrls(delivery);
    const answer = JSON.stringify({
      sessionId: sid,
      titleId: title.titleId,
      resumePositionMs: started.positionMs,
      expiresAt: delivery.exp,
      licenseUrl: paths.licence,
      heartbeatUrl: paths.heartbeat,
      heartbeatTtlMs: c.settings.sessionTtlMs,
      targets: decision.targets.map((t, i) => ({ tier: t.tier, applianceId: t.applianceId, baseUrl: bases[i] })),
    });
    // The answer's JSON with its manifests written in already escaped (manifest/json-string.ts):
    // the same bytes as JSON.stringify of the whole object, without escaping ~7 KB per start.
    const manifests = manifestsAsJson(title, bases, paths);
    const json = `${answer.slice(0, -1)},"dash":{"url":${JSON.stringify(paths.mpd)},"mpd":"${manifests.mpd}"},`
      + `"hls":{"url":${JSON.stringify(paths.master)},"master":"${manifests.master}"}}`;
    return { sessionId: sid, json };
  }

  /** The caller's own session, or 404/403. */
  async owned(account: Account, sid: string): Promise<SessionRow> {
    const s = await this.#c.repo.getSession(sid);
    if (!s) throw new HttpError(404, 'session_not_found', 'no such session');
    if (s.accountId !== account.accountId) throw new HttpError(403, 'forbidden', 'that session belongs to another account');
    return s;
  }

  async heartbeat(account: Account, sid: string, hb: z.output<typeof Heartbeat>): Promise<void> {
    const s = await this.owned(account, sid);
    if (!this.isLive(s)) throw new HttpError(410, 'session_ended', 'the session has ended or timed out; start a new one');
    const now = this.#c.now();
    await this.#c.repo.heartbeat(sid, now, hb.positionMs, hb.bitrateKbps, hb.bufferMs);
    // popularity is per the viewer's account region, the region steering and titles use
    this.#c.fill.recordHeartbeat(s, account.region, hb);
    this.#recordThroughput(s, hb, now);
  }

  /** What the heartbeat says about the serving appliance's throughput to the viewer's prefix (steering). */
  #recordThroughput(s: SessionRow, hb: z.output<typeof Heartbeat>, now: number): void {
    const c = this.#c;
    const sample = c.heartbeatSamples.sample(s, hb, now, c.settings.sessionTtlMs, c.settings.throughputGoodKbps);
    if (!sample) return;
    const targets = (JSON.parse(s.delivery) as Delivery).targets;
    const served = hb.applianceId !== undefined ? targets.find((t) => t.applianceId === hb.applianceId) : targets[0];
    const a = served?.applianceId !== undefined ? c.fleet.get(served.applianceId) : undefined;
    if (!a) return; // the origin, or an appliance not in this session's answer
    const change = recordSample(c.throughput, s.clientIp, a.slot, sample, now);
    if (change) c.metrics.throughputClasses.inc({ change });
  }

  async end(account: Account, sid: string): Promise<void> {
    await this.owned(account, sid);
    await this.#c.repo.endSession(sid, this.#c.now());
    this.#c.heartbeatSamples.forget(sid);
  }

  /** A live session by its id (the id is the capability for manifests and licences). */
  async live(sid: string): Promise<{ session: SessionRow; delivery: Delivery }> {
    const s = await this.#c.repo.getSession(sid);
    if (!s) throw new HttpError(404, 'session_not_found', 'no such session');
    if (!this.isLive(s)) throw new HttpError(403, 'session_not_live', 'the session has ended or timed out');
    return { session: s, delivery: JSON.parse(s.delivery) as Delivery };
  }
}
