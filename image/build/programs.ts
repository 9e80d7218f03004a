// The on-box programs as one JavaScript file each (esbuild), instead of the TypeScript sources and
// their npm packages. Under emulation, and on a real box at each boot, Node loading a graph of a
// few hundred .ts files (type stripping in wasm, then one module load per file) was most of the
// CPU of starting each of the five programs; one plain .js file per program skips both.
//
// Each program keeps its source's path with .js for .ts (appliance/main.ts →
// appliance/main.js), so the worker threads' `new URL('./x.ts', import.meta.url)` still finds its
// file: the reference is rewritten to the worker's own bundle, relative to the app's root.
// better-sqlite3 stays outside (a native addon): it ships as an npm package beside the bundles.

import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { REPO } from './app-layer.ts';

/** Entry points: the programs the units start, and the worker threads they spawn. */
export const PROGRAMS = [
  'appliance/main.ts',
  'appliance/src/http/worker.ts',
  'appliance/src/store/hash-worker.ts',
  'image/first-boot/setup-main.ts',
  'image/first-boot/turnup-main.ts',
  'image/first-boot/console-main.ts',
  'image/update/main.ts',
];
/** npm packages left as imports (native addons), shipped as packages. */
export const EXTERNAL = ['better-sqlite3'];

const WORKER_URL_RE = /new URL\(\s*(['"])(\.{1,2}\/[^'"]+)\.ts\1\s*,\s*import\.meta\.url\s*\)/g;

/** Rewrites `new URL('./x.ts', import.meta.url)` to x's bundle under the app's root. */
function workerUrls(): Plugin {
  return {
    name: 'edgebox-worker-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const contents = text.replace(WORKER_URL_RE, (_m, _q, spec: string) => {
          const target = relative(REPO, resolve(dirname(args.path), `${spec}.ts`)).replace(/\.ts$/, '.js');
          if (!PROGRAMS.includes(target.replace(/\.js$/, '.ts'))) throw new Error(`${args.path}: worker ${spec}.ts is not in PROGRAMS (image/build/programs.ts)`);
          return `new URL(${JSON.stringify(target)}, __edgeboxRoot)`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

/** Bundle every program into `appDir` (the box's /opt/edgebox). Returns the bytes written per program. */
export async function bundlePrograms(appDir: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const entry of PROGRAMS) {
    const out = join(appDir, entry.replace(/\.ts$/, '.js'));
    const up = relative(dirname(entry), '.') || '.';
    const r = await build({
      entryPoints: [join(REPO, entry)],
      outfile: out,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      external: EXTERNAL,
      plugins: [workerUrls()],
      // CommonJS packages inside an ES module bundle still call require() for Node's built-ins
      banner: {
        js: [
          "import { createRequire as __edgeboxRequire } from 'node:module';",
          'const require = __edgeboxRequire(import.meta.url);',
          `const __edgeboxRoot = new URL(${JSON.stringify(`${up}/`)}, import.meta.url);`,
        ].join('\n'),
      },
      legalComments: 'none',
      logLevel: 'silent',
      metafile: true,
    });
    if (r.errors.length > 0) throw new Error(`esbuild ${entry}: ${r.errors.map((e) => e.text).join('; ')}`);
    sizes[entry] = Object.values(r.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
  }
  return sizes;
}
