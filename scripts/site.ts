// `npm start`: the one-machine Edgebox site: the packager's origin, control, and one appliance
// serving sample files, all with state under .data/. Components start in order (each sees what
// started before it: control learns the origin's URL) and stop in reverse. The component list is
// the seam a later step grows: more appliances, the appliance joining control, BGP peers.
//
//   node scripts/site.ts [--verbose]     Ctrl-C or SIGTERM stops everything and exits 0.

import { applianceComponent } from './site/appliance-component.ts';
import { startAll, stopAll, type SiteComponent } from './site/component.ts';
import { controlComponent, originComponent } from './site/control-components.ts';
import { openSiteState } from './site/state.ts';

async function main(): Promise<void> {
  const verbose = process.argv.includes('--verbose');
  const state = openSiteState(process.env.EDGEBOX_SITE_DIR || undefined);
  const components: SiteComponent[] = [
    originComponent(verbose),
    controlComponent(verbose),
    applianceComponent({ name: 'appliance-1', verbose }),
  ];
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
