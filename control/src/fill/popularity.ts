// Popularity, the planner's input: per region and file, views = bytes streamed ÷ file size,
// smoothed by exponential decay (a view counts half after `halfLifeMs`). Pure functions; the
// book (popularity-book.ts) keeps the running totals.
//
// A heartbeat says the player's bitrate and position. The bytes since the previous heartbeat are
// bitrate × elapsed wall time (nothing while the position stands still: paused or stalled),
// attributed to the video file whose bandwidth is closest to that bitrate; every audio and text
// file of the title is counted at its own bandwidth for the same time (the language played is not
// reported, and audio is small next to video, so over-counting it is the cheap side to err on).

import type { ContentFile } from '../../../protocol/index.ts';

export function decayed(views: number, fromMs: number, toMs: number, halfLifeMs: number): number {
  return toMs <= fromMs ? views : views * Math.pow(2, -(toMs - fromMs) / halfLifeMs);
}

export interface PlaySample { at: number; positionMs: number }

/** Milliseconds of playback between two heartbeats: wall time, capped, and 0 when the position did not move. */
export function playedMs(prev: PlaySample, next: PlaySample, capMs: number): number {
  const elapsed = next.at - prev.at;
  if (elapsed <= 0 || next.positionMs === prev.positionMs) return 0;
  return Math.min(elapsed, capMs);
}

export interface FileViews { fileId: string; views: number }

/** The views one heartbeat adds to each file of the title. */
export function heartbeatViews(files: readonly ContentFile[], durationMs: number, bitrateKbps: number, ms: number): FileViews[] {
  if (ms <= 0) return [];
  const out: FileViews[] = [];
  const bps = bitrateKbps * 1000;
  let video: ContentFile | undefined;
  for (const f of files) {
    if (f.kind === 'video') {
      if (bps > 0 && (!video || Math.abs(f.bandwidth - bps) < Math.abs(video.bandwidth - bps))) video = f;
    } else {
      const bytes = f.bandwidth > 0 ? (f.bandwidth / 8) * (ms / 1000) : f.bytes * (ms / durationMs);
      out.push({ fileId: f.fileId, views: bytes / f.bytes });
    }
  }
  if (video) out.push({ fileId: video.fileId, views: ((bps / 8) * (ms / 1000)) / video.bytes });
  return out;
}

export interface PromotionDemand { expectedViews: number; releaseAt: number }

/**
 * Predicted views for every file of a promoted title: the full expectation until release, then
 * decaying like real views, so history takes over as it builds up.
 */
export function promotedViews(p: PromotionDemand, now: number, halfLifeMs: number): number {
  return now < p.releaseAt ? p.expectedViews : decayed(p.expectedViews, p.releaseAt, now, halfLifeMs);
}

export interface PromotionInput extends PromotionDemand { titleId: string; regions: readonly string[] }

/**
 * Raise the views of a promoted title's files to its prediction, in each of its regions (all of
 * `regions` when it names none), leaving unavailable files (negative) alone. `views` per region is
 * aligned with the catalogue's files. Pure, so the fleet simulation applies promotions exactly as
 * the popularity book does.
 */
export function raiseToPromotions(
  catalog: { titleIds: readonly string[]; titleStart: Uint32Array }, views: ReadonlyMap<string, Float64Array>,
  regions: readonly string[], promotions: readonly PromotionInput[], now: number, halfLifeMs: number,
): void {
  const titleIndex = new Map(catalog.titleIds.map((id, t) => [id, t]));
  for (const p of promotions) {
    const t = titleIndex.get(p.titleId);
    if (t === undefined) continue;
    const predicted = promotedViews(p, now, halfLifeMs);
    for (const region of p.regions.length > 0 ? p.regions : regions) {
      const v = views.get(region);
      if (!v) continue;
      for (let f = catalog.titleStart[t]; f < catalog.titleStart[t + 1]; f++) if (v[f] >= 0 && v[f] < predicted) v[f] = predicted;
    }
  }
}
