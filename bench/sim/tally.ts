// Where every session's bytes went: exactly one of embedded box, IX box or origin, by control's
// steering answer (its first target), and for bytes not served by an embedded box, exactly one
// miss cause.

export const CAUSES = ['no-route', 'unhealthy', 'not-placed', 'box-full', 'not-filled'] as const;
export type Cause = (typeof CAUSES)[number];
export const CAUSE_MEANING: Record<Cause, string> = {
  'no-route': 'the viewer is on a network no embedded box advertises',
  unhealthy: 'the site\'s boxes that hold the title are failing',
  'not-placed': 'the plan left the title off the viewer\'s site and had no views or promotion for it (an unannounced release)',
  'box-full': 'the plan left the title off the viewer\'s site: the site\'s store was full of more popular titles (or the churn budget held it back)',
  'not-filled': 'planned on the site, but no box there had every file yet (fill window and rate, rank order within the title)',
};

export interface Tier { sessions: number; bytes: number }
export interface MissTally { sessions: number; bytes: number; toIx: number; toOrigin: number }

export class Tally {
  sessions = 0;
  /** Σ of each session's bytes, added before attribution (the check that each is counted once) */
  bytes = 0;
  embedded: Tier = { sessions: 0, bytes: 0 };
  ix: Tier = { sessions: 0, bytes: 0 };
  origin: Tier = { sessions: 0, bytes: 0 };
  misses: Record<Cause, MissTally> = Object.fromEntries(CAUSES.map((c) => [c, { sessions: 0, bytes: 0, toIx: 0, toOrigin: 0 }])) as Record<Cause, MissTally>;

  add(bytes: number, where: 'embedded' | 'ix' | 'origin', cause: Cause | undefined): void {
    this.sessions++;
    this.bytes += bytes;
    const tier = this[where];
    tier.sessions++;
    tier.bytes += bytes;
    if (where === 'embedded') {
      if (cause !== undefined) throw new Error('a session served by an embedded box has no miss cause');
      return;
    }
    if (cause === undefined) throw new Error('a session not served by an embedded box needs a miss cause');
    const m = this.misses[cause];
    m.sessions++;
    m.bytes += bytes;
    if (where === 'ix') m.toIx += bytes; else m.toOrigin += bytes;
  }

  shares(): { embeddedShare: number; ixShare: number; originShare: number; edgeShare: number } {
    const all = this.embedded.bytes + this.ix.bytes + this.origin.bytes;
    const e = all > 0 ? this.embedded.bytes / all : 0, x = all > 0 ? this.ix.bytes / all : 0, o = all > 0 ? this.origin.bytes / all : 0;
    return { embeddedShare: e, ixShare: x, originShare: o, edgeShare: e + x };
  }
}
