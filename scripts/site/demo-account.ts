// The viewer account the player page signs in with: made through control's operator API on the
// first run (an account in the site's region with one profile) and kept in demo-account.json; a
// later run reuses it while control still knows its token.

import type { ControlApi } from '../lib/control-api.ts';
import { ok } from '../lib/control-api.ts';
import type { SiteState } from './state.ts';
import { REGION } from './topology.ts';

export interface DemoAccount {
  accountId: string;
  /** the account's API token (Bearer, for POST /v1/playback) */
  apiToken: string;
  profileId: string;
  name: string;
  plan: string;
  region: string;
}

const FILE = 'demo-account.json';

/** Does control know this account token? (A playback start with an empty body: 401 if not, 400 if so.) */
async function known(api: ControlApi, token: string): Promise<boolean> {
  const r = await api.call('POST', '/v1/playback', { token, body: {} });
  return r.status !== 401;
}

export async function ensureDemoAccount(state: SiteState, api: ControlApi): Promise<{ account: DemoAccount; made: boolean }> {
  const saved = state.readJson<DemoAccount>(FILE);
  if (saved && state.controlKnown && (await known(api, saved.apiToken))) return { account: saved, made: false };
  const name = 'Demo viewer';
  const plan = 'standard';
  const acc = ok(await api.op<{ accountId: string; apiToken: string }>('POST', '/v1/accounts', { name, plan, region: REGION }), 'POST /v1/accounts', 201);
  const prf = ok(await api.op<{ profileId: string }>('POST', `/v1/accounts/${acc.accountId}/profiles`, { name: 'Demo' }), 'POST /v1/accounts/:id/profiles', 201);
  const account: DemoAccount = { accountId: acc.accountId, apiToken: acc.apiToken, profileId: prf.profileId, name, plan, region: REGION };
  state.writeJson(FILE, account);
  return { account, made: true };
}
