// The seam the site grows through: each part of the site (today one appliance; later control,
// the packager's origin and more appliances) is a component that starts from the shared state
// and the components started before it, and says what to print and how to stop.

import type { SiteState } from './state.ts';

export interface RunningComponent {
  name: string;
  /** lines for the banner (URLs to try, curl examples) */
  banner: string[];
  /** values later components may need (e.g. control's URL for the appliances) */
  exports: Record<string, string>;
  stop(): Promise<void>;
}

export interface SiteComponent {
  name: string;
  start(state: SiteState, before: RunningComponent[]): Promise<RunningComponent>;
}

/** Start components in order; if one fails, stop the ones already running and rethrow. */
export async function startAll(state: SiteState, components: SiteComponent[]): Promise<RunningComponent[]> {
  const running: RunningComponent[] = [];
  for (const c of components) {
    try {
      running.push(await c.start(state, running));
    } catch (e) {
      await stopAll(running);
      throw new Error(`site: ${c.name} did not start: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return running;
}

/** Stop in reverse order of start, so consumers go before what they depend on. */
export async function stopAll(running: RunningComponent[]): Promise<void> {
  for (const r of [...running].reverse()) {
    await r.stop().catch((e) => console.error(`site: stopping ${r.name}: ${e instanceof Error ? e.message : e}`));
  }
}
