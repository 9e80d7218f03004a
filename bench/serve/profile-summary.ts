// Summarise V8 .cpuprofile files (from `node --cpu-prof`, one per thread): self time per function,
// heaviest first, so the bench can say where the appliance's serving threads spend their CPU.
//
//   node bench/serve/profile-summary.ts <dir-or-file>... [--top N]

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTime {
  name: string;
  ms: number;
  share: number;
}

export function summarise(profile: CpuProfile, top = 25): { totalMs: number; idleMs: number; functions: SelfTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + (deltas[i] ?? 0));
  }
  const byName = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    const file = f.url ? f.url.replace(/^.*\/(node_modules|appliance|protocol)\//, '$1/').replace(/^node:/, 'node:') : '';
    const name = `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
    total += us;
    if (f.functionName === '(idle)') idle += us;
    byName.set(name, (byName.get(name) ?? 0) + us);
  }
  const busy = total - idle;
  const functions = [...byName.entries()]
    .filter(([name]) => !name.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, ms: Math.round(us / 1000), share: busy > 0 ? Math.round((us / busy) * 1000) / 10 : 0 }));
  return { totalMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), functions };
}

function files(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f))
      : [p],
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const paths = args.filter((_, i) => i !== topAt && i !== topAt + 1);
  for (const f of files(paths)) {
    const s = summarise(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, top);
    console.log(`\n${f}: ${s.totalMs} ms sampled, ${s.idleMs} ms idle (shares below are of busy time)`);
    for (const fn of s.functions) console.log(`  ${String(fn.share).padStart(5)}%  ${String(fn.ms).padStart(6)} ms  ${fn.name}`);
  }
}
