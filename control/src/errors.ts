// Request validation for control: a zod failure becomes protocol's HttpError (400 bad_request),
// which the app's error handler (http/app.ts) sends like every other refusal. It lives outside
// http/ so domain code need not import the HTTP layer.

import type { z } from 'zod';
import { HttpError } from '../../protocol/index.ts';

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.map(String).join('.');
  throw new HttpError(400, 'bad_request', `${what}${path ? `.${path}` : ''}: ${issue.message}`);
}
