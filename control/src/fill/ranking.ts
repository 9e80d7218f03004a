// Ranking one region's catalogue by popularity: titles by their most viewed file (placement is by
// title), files by their own views (the rank in fill manifests, and which files go to SSD).
// Ties fall back to catalogue order, so the ranking is deterministic.

/** The catalogue, flattened: the files of title t are fileIds[titleStart[t] … titleStart[t+1]). */
export interface PlanCatalog {
  titleIds: string[];
  titleStart: Uint32Array;
  fileIds: string[];
  fileBytes: Float64Array;
}

export interface RegionRanking {
  /** file index → rank in the region (0 = most popular); -1 when the file is not available there */
  rank: Int32Array;
  /** rank → file index, available files only */
  order: Uint32Array;
  /** available titles, most popular first */
  titles: Uint32Array;
  /** views per title (its most viewed file); -1 when not available in the region */
  titleViews: Float64Array;
}

/** `views` is aligned with catalog.fileIds; a negative (or NaN) value marks the title unavailable. */
export function rankRegion(catalog: PlanCatalog, views: Float64Array): RegionRanking {
  const T = catalog.titleIds.length;
  const F = catalog.fileIds.length;
  const titleViews = new Float64Array(T);
  const titleOf = new Uint32Array(F);
  let titlesAvailable = 0, filesAvailable = 0;
  for (let t = 0; t < T; t++) {
    const from = catalog.titleStart[t], to = catalog.titleStart[t + 1];
    titleOf.fill(t, from, to);
    let best = 0;
    for (let f = from; f < to; f++) {
      const v = views[f];
      if (!(v >= 0)) { best = -1; break; }
      if (v > best) best = v;
    }
    titleViews[t] = best;
    if (best >= 0) {
      titlesAvailable++;
      filesAvailable += to - from;
    }
  }
  const titles = new Uint32Array(titlesAvailable);
  for (let t = 0, i = 0; t < T; t++) if (titleViews[t] >= 0) titles[i++] = t;
  titles.sort((a, b) => titleViews[b] - titleViews[a] || a - b);

  const order = new Uint32Array(filesAvailable);
  for (let f = 0, i = 0; f < F; f++) if (titleViews[titleOf[f]] >= 0) order[i++] = f;
  order.sort((a, b) => views[b] - views[a] || titleViews[titleOf[b]] - titleViews[titleOf[a]] || a - b);
  const rank = new Int32Array(F).fill(-1);
  for (let i = 0; i < order.length; i++) rank[order[i]] = i;
  return { rank, order, titles, titleViews };
}
