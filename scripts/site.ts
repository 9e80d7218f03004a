// `npm start`: the one-machine Edgebox site. Today: one appliance serving sample files from
// .data/site/. The component list is the seam a later step grows: control (`control/main.ts`)
// first so the appliances learn its URL, the packager's origin, then several appliances.
//
//   node scripts/site.ts [--verbose]     Ctrl-C or SIGTERM stops everything and exits 0.

import { applianceComponent } from './site/appliance-component.ts';
import { startAll, stopAll, type SiteComponent } from './site/component.ts';
import { openSiteState } from './site/state.ts';

async function main(): Promise<void> {
  const verbose = process.argv.includes('--verbose');
  const state = openSiteState(process.env.EDGEBOX_SITE_DIR || undefined);
  const components: SiteComponent[] = [applianceComponent({ name: 'appliance-1', verbose })];
  console.log(`site: starting ${components.map((c) => c.name).join(', ')} (state in ${state.dir})`);
  const running = await startAll(state, components);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nsite: ${signal}: stopping ${running.map((r) => r.name).reverse().join(', ')}`);
    await stopAll(running);
    console.log('site: stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  console.log('');
  for (const r of running) console.log(r.banner.join('\n'), '\n');
  console.log('site: ready (Ctrl-C stops)');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
