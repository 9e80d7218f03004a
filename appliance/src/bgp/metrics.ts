// BGP and reporter series for the daemon's prom-client registry. Values are read at scrape time
// from the speaker and reporter, so nothing here sits on the message path.

import { Gauge, type Registry } from 'prom-client';
import type { BgpSpeaker } from './speaker.ts';

const STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;

export function registerBgpMetrics(registry: Registry, speaker: BgpSpeaker): void {
  new Gauge({
    name: 'edgebox_bgp_session_state', help: '1 for the state each BGP session is in', labelNames: ['peer', 'state'], registers: [registry],
    collect() {
      this.reset();
      for (const s of speaker.status()) for (const st of STATES) this.set({ peer: s.peer, state: st }, s.state === st ? 1 : 0);
    },
  });
  new Gauge({
    name: 'edgebox_bgp_prefixes', help: 'prefixes accepted into the adj-RIB-in, by peer', labelNames: ['peer'], registers: [registry],
    collect() {
      this.reset();
      for (const s of speaker.status()) this.set({ peer: s.peer }, s.prefixes);
    },
  });
  // Cumulative counts kept by the speaker; exposed as gauges because they are read, not incremented, here.
  new Gauge({
    name: 'edgebox_bgp_updates', help: 'UPDATE messages received, by outcome', labelNames: ['outcome'], registers: [registry],
    collect() {
      const st = speaker.stats;
      this.set({ outcome: 'received' }, st.updates);
      this.set({ outcome: 'treated_as_withdraw' }, st.treatedAsWithdraw);
      this.set({ outcome: 'end_of_rib' }, st.endOfRib);
      this.set({ outcome: 'prefix_rejected_by_policy' }, st.rejected);
    },
  });
}
