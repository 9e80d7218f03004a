// The bigger fuzz run, once, for the figures: node appliance/test/bgp/fuzz-run.ts [messages] [seconds] [seed]

import { runFuzz } from './helpers/fuzz.ts';

const [messages = '200000', seconds = '600', seed] = process.argv.slice(2);
const r = await runFuzz({ messages: Number(messages), seconds: Number(seconds), seed: seed ? Number(seed) : undefined });
console.log(JSON.stringify(r, null, 2));
process.exit(r.mismatches.length === 0 && r.childAlive ? 0 : 1);
