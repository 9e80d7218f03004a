// CPU used by a server during a run, as cores: (utime + stime) of the process and all its
// descendants, from /proc/<pid>/stat, differenced over the run and divided by wall time.
// /proc/<pid>/stat already sums every thread of a process (the appliance's worker threads);
// nginx's workers are child processes, so the tree is walked each time it is sampled.

import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; Linux fixes it at 100 for /proc on every mainstream arch

interface Stat {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited between listing and reading
  }
  // the command name (field 2) may hold spaces and parentheses: split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); ppid is field 4, utime 14, stime 15
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}

/** CPU seconds used so far by `root` and every live descendant. */
export function treeCpuSeconds(root: number): number {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  let ticks = 0;
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop()!;
    const s = stats.get(pid);
    if (s) ticks += s.ticks;
    todo.push(...(children.get(pid) ?? []));
  }
  return ticks / TICKS_PER_SECOND;
}

/** Start measuring; the returned function gives cores used since then. */
export function cpuMeter(root: number): () => number {
  const t0 = performance.now();
  const c0 = treeCpuSeconds(root);
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    return seconds > 0 ? (treeCpuSeconds(root) - c0) / seconds : 0;
  };
}

/** CPU seconds used so far by one thread `tid` of process `pid` (the main thread: tid = pid); 0 once gone. */
export function threadCpuSeconds(pid: number, tid = pid): number {
  try {
    const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
