// Wall time and CPU per stage of a run: this process plus the children it has waited for
// (ffmpeg, Shaka Packager), user and system apart. Children's CPU comes from /proc/self/stat
// (cutime, cstime), so it is counted on Linux only; elsewhere the figures are this process's own.

import { readFileSync } from 'node:fs';

export interface StageTiming {
  wallS: number;
  userS: number;
  sysS: number;
}

const TICK_S = 0.01; // USER_HZ is 100 on every Linux build

function children(): { user: number; sys: number } {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[13]) * TICK_S, sys: Number(f[14]) * TICK_S };
  } catch {
    return { user: 0, sys: 0 };
  }
}

function cpuNow(): { user: number; sys: number } {
  const self = process.resourceUsage();
  const c = children();
  return { user: self.userCPUTime / 1e6 + c.user, sys: self.systemCPUTime / 1e6 + c.sys };
}

export class StageClock {
  readonly timings: Record<string, StageTiming> = {};
  #now: () => number;
  #current?: { name: string; wall: number; user: number; sys: number };

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Close the running stage (if any) and start `name`. */
  start(name: string): void {
    this.stop();
    const c = cpuNow();
    this.#current = { name, wall: this.#now(), user: c.user, sys: c.sys };
  }

  stop(): void {
    const s = this.#current;
    if (!s) return;
    const c = cpuNow();
    const round = (x: number) => Math.round(x * 100) / 100;
    this.timings[s.name] = { wallS: round((this.#now() - s.wall) / 1000), userS: round(c.user - s.user), sysS: round(c.sys - s.sys) };
    this.#current = undefined;
  }
}
