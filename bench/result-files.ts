// A bench's results: <name>.json (the figures, for tools and later comparison) and <name>.md (for
// people), side by side in the results directory.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeResultFiles(dir: string, name: string, results: unknown, markdown: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${name}.json`);
  const md = join(dir, `${name}.md`);
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(md, markdown);
  return { json, md };
}
