// `node bench/hygiene/main.ts [--sessions N] [--retention-min M]`: does control's database stay
// bounded over a long run? A real Control on a SQLite file plays N sessions (start, end) through
// the playback service on an injected clock, one a second, twice: with the housekeeping job
// pruning every 10 simulated minutes (sessions kept `--retention-min`, 60), and without. Reports
// the file's size (with its WAL), page count and free pages before and after each run, rows left,
// and the CPU seconds spent. Into bench/results/hygiene.json and hygiene.md.

import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pino from 'pino';
import { parseAddress } from '../../protocol/index.ts';
import { Control } from '../../control/src/control.ts';
import { secretHash } from '../../control/src/credentials.ts';
import { PlaybackService } from '../../control/src/playback/playback-service.ts';
import { loadSettings } from '../../control/src/settings.ts';
import { machine } from '../machine.ts';
import { registerTitles } from '../steering/world.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const SESSIONS = arg('sessions', 100_000);
const RETENTION_MS = arg('retention-min', 60) * 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;
const ACCOUNTS = 100;
const here = dirname(fileURLToPath(import.meta.url));

interface DbFigures { fileBytes: number; walBytes: number; pages: number; freePages: number; pageSize: number; sessionRows: number }

function figures(dbPath: string): DbFigures {
  const db = new Database(dbPath, { readonly: true });
  try {
    const size = (p: string) => { try { return statSync(p).size; } catch { return 0; } };
    return {
      fileBytes: size(dbPath), walBytes: size(`${dbPath}-wal`),
      pages: db.pragma('page_count', { simple: true }) as number, freePages: db.pragma('freelist_count', { simple: true }) as number,
      pageSize: db.pragma('page_size', { simple: true }) as number,
      sessionRows: (db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n,
    };
  } finally {
    db.close();
  }
}

async function run(prune: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'edgebox-hygiene-'));
  const dbPath = join(dir, 'control.db');
  const clock = { t: Date.UTC(2026, 0, 1) };
  const settings = loadSettings({
    port: 0, dbPath, logLevel: 'silent', kek: '00'.repeat(32), urlTokenSecret: 'hygiene-bench-url-token-secret',
    fillPlanSchedule: '', sessionRetentionMs: RETENTION_MS, housekeepingIntervalMs: 0,
  }, {});
  const c = await Control.open({ settings, log: pino({ level: 'silent' }), clock: () => clock.t });
  try {
    await registerTitles(c, ['t1']);
    for (let i = 0; i < ACCOUNTS; i++) {
      await c.repo.addAccount({ accountId: `a${i}`, name: 'v', plan: 'premium', region: 'eu', status: 'active' }, secretHash(`tok-${i}`));
      await c.repo.addProfile({ profileId: `p${i}`, accountId: `a${i}`, name: 'p' });
    }
    const pb = new PlaybackService(c);
    const client = parseAddress('192.0.2.10')!;
    const before = figures(dbPath);
    const cpu0 = process.cpuUsage();
    let pruned = 0, lastPrune = clock.t;
    const sizes: Array<{ sessions: number; fileBytes: number }> = [];
    for (let i = 0; i < SESSIONS; i++) {
      const k = i % ACCOUNTS;
      const a = (await c.repo.accountByToken(secretHash(`tok-${k}`)))!;
      const s = await pb.start(a, { titleId: 't1', profileId: `p${k}`, device: 'tv' }, client);
      await pb.end(a, s.sessionId);
      clock.t += 1_000;
      if (prune && clock.t - lastPrune >= PRUNE_EVERY_MS) {
        pruned += (await c.housekeeping.runOnce()).sessions;
        lastPrune = clock.t;
      }
      if ((i + 1) % (SESSIONS / 10) === 0) sizes.push({ sessions: i + 1, fileBytes: statSync(dbPath).size + statSync(`${dbPath}-wal`).size });
    }
    const cpu = process.cpuUsage(cpu0);
    await c.close();
    return { prune, sessions: SESSIONS, pruned, cpuSeconds: (cpu.user + cpu.system) / 1e6, before, after: figures(dbPath), sizes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load0 = loadavg()[0];
const on = await run(true);
const off = await run(false);
const result = {
  bench: 'hygiene', command: `npm run bench:hygiene -- --sessions ${SESSIONS} --retention-min ${RETENTION_MS / 60_000}`,
  retentionMs: RETENTION_MS, pruneEveryMs: PRUNE_EVERY_MS, sessionsPerSimulatedSecond: 1, runs: [on, off], machine: machine(load0),
};
const out = join(here, '../results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'hygiene.json'), JSON.stringify(result, null, 2) + '\n');
const MiB = (b: number) => (b / 2 ** 20).toFixed(2);
const row = (r: typeof on) =>
  `| ${r.prune ? 'on' : 'off'} | ${r.sessions.toLocaleString('en')} | ${r.after.sessionRows.toLocaleString('en')} | ${MiB(r.before.fileBytes + r.before.walBytes)} → ${MiB(r.after.fileBytes + r.after.walBytes)} | ${r.before.pages} → ${r.after.pages} | ${r.after.freePages} | ${r.sizes.map((s) => MiB(s.fileBytes)).join(' ')} | ${r.cpuSeconds.toFixed(1)} |`;
writeFileSync(join(out, 'hygiene.md'), [
  `# Control's database over a long run (\`${result.command}\`)`, '',
  `One session started and ended per simulated second; retention ${RETENTION_MS / 60_000} min, housekeeping every ${PRUNE_EVERY_MS / 60_000} simulated min.`, '',
  '| pruning | sessions played | rows left | file + WAL, MiB | pages | free pages after | file + WAL at each tenth, MiB | CPU s |',
  '|---|---|---|---|---|---|---|---|',
  row(on), row(off), '',
].join('\n'));
console.log(JSON.stringify({ on: { rows: on.after.sessionRows, pages: on.after.pages, cpu: on.cpuSeconds }, off: { rows: off.after.sessionRows, pages: off.after.pages, cpu: off.cpuSeconds } }));
