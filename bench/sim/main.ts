// `npm run sim`: the fleet simulation (README.md). Full size by default; `--small` for a quick
// look; `--name value` overrides any option. Writes sim.json and sim.md into bench/results/ (or
// `--out DIR`).

import { loadavg } from 'node:os';
import { parseArgs } from './options.ts';
import { simulate } from './simulate.ts';
import { writeResults } from './report.ts';
import { runSweep } from './sweep.ts';

const { options, out, small } = parseArgs(process.argv.slice(2));
const log = (m: string) => console.log(`[sim] ${m}`);
const loadBefore = loadavg();
log(`${small ? 'small' : 'full'} size: ${options.appliances} appliances, ${options.sites} sites, ${options.titles} titles, ${options.days} days, ${options.sessionsPerDay} sessions/day, ${options.storageTB} TB per box`);
// the sweep runs in a worker thread on the other core while this thread runs the main world
const sweeping = runSweep(options, log);
const main = simulate(options, log);
const sweep = await sweeping;
const loadAfter = loadavg();
const files = writeResults(out, { main, sweep, loadBefore, loadAfter, small });
log(`embedded ${(main.total.shares().embeddedShare * 100).toFixed(2)} %, IX ${(main.total.shares().ixShare * 100).toFixed(2)} %, origin ${(main.total.shares().originShare * 100).toFixed(2)} %; wrote ${files.join(', ')}`);
