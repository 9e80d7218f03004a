// The playback calls' account and profile cache: a hit within the TTL skips the store, an expired
// or missing entry goes back to it, misses are not kept, and the entry count is bounded.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ViewerCache } from '../src/playback/viewer-cache.ts';
import type { Account } from '../src/store/repository.ts';

const account = (accountId: string, status: Account['status'] = 'active'): Account => ({ accountId, name: accountId, plan: 'basic', region: 'eu', status });

describe('viewer cache', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('keeps an account for a minute, then reads the store again (a suspension from outside shows)', async () => {
    let t = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => t);
    const cache = new ViewerCache();
    const load = vi.fn(async () => account('a1'));
    expect(await cache.accounts.get('h1', load)).toEqual(account('a1'));
    t += 59_999;
    expect(await cache.accounts.get('h1', load)).toEqual(account('a1'));
    expect(load).toHaveBeenCalledTimes(1);
    t += 2;
    load.mockResolvedValueOnce(account('a1', 'suspended'));
    expect((await cache.accounts.get('h1', load))!.status).toBe('suspended');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('does not keep a miss: a row added later is found at once', async () => {
    const cache = new ViewerCache();
    const load = vi.fn().mockResolvedValueOnce(undefined).mockResolvedValueOnce({ profileId: 'p1', accountId: 'a1', name: 'p' });
    expect(await cache.profiles.get('p1', load)).toBeUndefined();
    expect(await cache.profiles.get('p1', load)).toEqual({ profileId: 'p1', accountId: 'a1', name: 'p' });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('holds at most 100,000 entries, dropping the oldest loaded first', async () => {
    const cache = new ViewerCache();
    for (let i = 0; i <= 100_000; i++) await cache.accounts.get(`h${i}`, async (h) => account(h));
    const load = vi.fn(async (h: string) => account(h));
    await cache.accounts.get('h100000', load);
    await cache.accounts.get('h1', load);
    expect(load).toHaveBeenCalledTimes(0);
    await cache.accounts.get('h0', load);
    expect(load).toHaveBeenCalledTimes(1);
  });
});
