// A process that used the store exits by itself once it is done with it: the hash thread
// (stage-writer.ts) must not hold the event loop open while it has nothing to do. It did, and
// `npm run bench:fill` (which publishes its catalogue through the store) never exited.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { useTempStore } from './helpers.ts';

const t = useTempStore();

it('a process that opened a store, put a file and closed it exits on its own', async () => {
  const script = fileURLToPath(new URL('./fixtures/put-and-leave.ts', import.meta.url));
  const child = spawn(process.execPath, [script, t.d.state, t.d.ssd], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  // a liveness bound, not a timing: the child needs well under a second; a live handle keeps it forever
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(kill);
  expect(out).toContain('published');
  expect({ code, signal }).toEqual({ code: 0, signal: null });
}, 90_000);
