// Which files to move between SSD and HDD in one rebalance round, as a pure function of scores,
// room and the IO budget (bytes copied per interval). The best-scored HDD files go to SSD: into
// free room first, else by demoting SSD files that score lower by more than `margin` (the
// hysteresis that stops two files of equal score swapping back and forth). Pinned files never move.

import type { DiskTier } from './types.ts';

export interface PlanFile {
  fileId: string;
  bytes: number;
  tier: DiskTier;
  score: number;
  pinned: boolean;
}

export interface Move {
  fileId: string;
  bytes: number;
  to: DiskTier;
}

export interface PlanInput {
  files: PlanFile[];
  room: Record<DiskTier, number>;
  budgetBytes: number;
  margin: number;
}

export function planRebalance(p: PlanInput): Move[] {
  const hdd = p.files.filter((f) => f.tier === 'hdd' && !f.pinned).sort((a, b) => b.score - a.score);
  const ssd = p.files.filter((f) => f.tier === 'ssd' && !f.pinned).sort((a, b) => a.score - b.score);
  let ssdRoom = p.room.ssd;
  let hddRoom = p.room.hdd;
  let spent = 0;
  let nextVictim = 0;
  const moves: Move[] = [];
  for (const h of hdd) {
    const victims: PlanFile[] = [];
    let freed = 0;
    let i = nextVictim;
    while (ssdRoom + freed < h.bytes) {
      const s = ssd[i++];
      if (!s || s.score + p.margin >= h.score) break;
      victims.push(s);
      freed += s.bytes;
    }
    if (ssdRoom + freed < h.bytes) continue;
    const demoted = victims.reduce((n, v) => n + v.bytes, 0);
    if (demoted > hddRoom) continue;
    if (spent + demoted + h.bytes > p.budgetBytes) continue;
    for (const v of victims) moves.push({ fileId: v.fileId, bytes: v.bytes, to: 'hdd' });
    moves.push({ fileId: h.fileId, bytes: h.bytes, to: 'ssd' });
    spent += demoted + h.bytes;
    nextVictim = i;
    ssdRoom += freed - h.bytes;
    hddRoom += h.bytes - demoted;
  }
  return moves;
}
