// `npm run bench`: every bench that exists, one after the other (they share the machine, so
// never at once): serve (appliance vs nginx), steering, bgp, fill, then the 10-minute soak.
// Each bench is its own process and writes its own JSON + markdown into bench/results/.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  { name: 'serve', main: 'serve/main.ts' },
  { name: 'steering', main: 'steering/main.ts' },
  { name: 'bgp', main: 'bgp/main.ts' },
  { name: 'fill', main: 'fill/main.ts' },
  { name: 'soak', main: 'soak/main.ts' },
];

function run(path: string): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path], { stdio: 'inherit' });
    p.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    p.once('error', () => resolve(1));
  });
}

const failed: string[] = [];
for (const b of BENCHES) {
  const path = fileURLToPath(new URL(b.main, import.meta.url));
  if (!existsSync(path)) {
    console.log(`[bench] ${b.name}: not present (${b.main}), skipped`);
    continue;
  }
  console.log(`[bench] ${b.name}: node ${b.main}`);
  const code = await run(path);
  if (code !== 0) failed.push(`${b.name} (exit ${code})`);
}
if (failed.length > 0) {
  console.error(`[bench] failed: ${failed.join(', ')}`);
  process.exit(1);
}
console.log('[bench] done; results in bench/results/');
