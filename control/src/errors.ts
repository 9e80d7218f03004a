// One error type for every refusal, thrown by domain code (playback, control) and by the HTTP
// routes alike; the app's error handler (http/app.ts) turns it into `{error:{code,message}}`
// (protocol's errorBody) with its status. It lives outside http/ so domain code need not import
// the HTTP layer.

import type { z } from 'zod';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, extra?: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'body'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.map(String).join('.');
  throw new ApiError(400, 'bad-request', `${what}${path ? `.${path}` : ''}: ${issue.message}`);
}
