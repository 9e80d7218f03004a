// The two calls the appliance makes to control (protocol/src/enroll.ts): enroll, then report.
// Answers are validated against protocol's schemas; failures come back as a ControlCallError
// saying whether retrying can help.

import {
  applianceReportPath, EnrollReply, ReportReply, type ApplianceReport, type EnrollRequest,
} from '../../../protocol/index.ts';

export class ControlCallError extends Error {
  /** HTTP status, or 0 when control could not be reached / timed out */
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ControlCallError';
    this.status = status;
    this.code = code;
  }
  /** 401/403/404: our credential or token is no good; anything else may pass on a retry */
  get credentialRejected(): boolean {
    return this.status === 401 || this.status === 403 || this.status === 404;
  }
}

async function call(url: string, body: unknown, timeoutMs: number, credential?: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new ControlCallError(0, 'unreachable', `${url}: ${(e as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  let json: unknown = undefined;
  try { json = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ControlCallError(res.status, err?.code ?? 'http_error', `${url}: ${res.status} ${err?.message ?? text.slice(0, 200)}`);
  }
  return json;
}

export async function enroll(controlUrl: string, req: EnrollRequest, timeoutMs: number): Promise<EnrollReply> {
  const json = await call(new URL('/v1/appliances/enroll', controlUrl).href, req, timeoutMs);
  const r = EnrollReply.safeParse(json);
  if (!r.success) throw new ControlCallError(502, 'bad_reply', `enroll reply does not match the protocol: ${r.error.issues[0].message}`);
  return r.data;
}

export async function sendReport(
  controlUrl: string, applianceId: string, credential: string, report: ApplianceReport, timeoutMs: number,
): Promise<ReportReply> {
  const json = await call(new URL(applianceReportPath(applianceId), controlUrl).href, report, timeoutMs, credential);
  const r = ReportReply.safeParse(json);
  if (!r.success) throw new ControlCallError(502, 'bad_reply', `report reply does not match the protocol: ${r.error.issues[0].message}`);
  return r.data;
}
