// The site's ports, settled before anything starts. Each is last run's when still free, so what
// control keeps from each appliance's enrollment — its public URL, and the control URL its stored
// credential is for — stays true. When an appliance's serving port was taken meanwhile, the
// appliance must enroll again (control knows it only at the old URL): its credential is removed
// and the old entry stays in control as a stale appliance. When control's port moved, every
// appliance enrolls again by itself (a credential is kept per control URL).

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SiteState } from './state.ts';
import { applianceNames } from './topology.ts';

export async function settlePorts(state: SiteState, log: (line: string) => void): Promise<void> {
  for (const name of ['origin', 'control']) {
    const p = await state.portInfo(name);
    if (p.moved) log(`site: ${name}'s port ${p.moved} is taken; it listens on ${p.port} now${name === 'control' ? ' and every appliance enrolls again' : ''}`);
  }
  for (const name of applianceNames()) {
    const p = await state.portInfo(name);
    await state.portInfo(`${name}-admin`);
    const credential = join(state.clusterDir, name, 'state', 'control-credential.json');
    if (p.moved && existsSync(credential)) {
      rmSync(credential);
      log(`site: ${name}'s port ${p.moved} is taken; it serves on ${p.port} now and enrolls again (its old entry stays in control, stale)`);
    }
  }
}
