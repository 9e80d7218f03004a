import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorBody, HttpError } from '../index.ts';

describe('HTTP error codes', () => {
  it('are snake_case, each listed once, and the list cannot be changed at run time', () => {
    for (const code of ERROR_CODES) expect(code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
  });

  it('HttpError carries status and code and sends its extra fields inside error', () => {
    const e = new HttpError(429, 'stream_limit', 'too many streams', { devices: ['tv'] });
    expect(e).toBeInstanceOf(Error);
    expect([e.status, e.code, e.message]).toEqual([429, 'stream_limit', 'too many streams']);
    expect(e.body).toEqual({ error: { code: 'stream_limit', message: 'too many streams', devices: ['tv'] } });
  });

  it('extra fields cannot overwrite code or message', () => {
    expect(errorBody('not_found', 'gone', { code: 'x', message: 'y', at: 1 })).toEqual({ error: { code: 'not_found', message: 'gone', at: 1 } });
    expect(new HttpError(404, 'not_found', 'gone').body).toEqual({ error: { code: 'not_found', message: 'gone' } });
  });
});
