// The control side of the fill contract as a test stand-in (control's fill planner is built
// separately; the 3+1 cluster tests run the real one): enroll, report (recorded; every reply names
// the current manifest version) and the fill manifest with its version as the ETag.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applianceReportPath, fillManifestPath, type ApplianceReport, type FillManifest } from '../../../../protocol/index.ts';

export const ENROLLMENT_TOKEN = 'enrollment-token-for-fill-tests-0001';
export const CREDENTIAL = 'credential-for-fill-tests';
export const APPLIANCE_ID = 'a1';

export interface ControlStub {
  url: string;
  manifest: FillManifest | null;
  reports: ApplianceReport[];
  /** manifest requests: 200s and 304s, with the Authorization they carried */
  manifestRequests: Array<{ status: number; authorization: string | undefined }>;
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const b = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(b.length), ...headers });
  res.end(b);
}

async function bodyOf(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
}

export async function startControlStub(manifest: FillManifest | null = null): Promise<ControlStub> {
  const c: ControlStub = { url: '', manifest, reports: [], manifestRequests: [], stop: async () => {} };
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === '/v1/appliances/enroll') {
      await bodyOf(req);
      return send(res, 201, { applianceId: APPLIANCE_ID, siteId: 'site-1', credential: CREDENTIAL, reportIntervalMs: 200 });
    }
    if (req.headers.authorization !== `Bearer ${CREDENTIAL}`) return send(res, 401, { error: { code: 'unauthenticated', message: 'bad credential' } });
    if (req.method === 'POST' && url === applianceReportPath(APPLIANCE_ID)) {
      c.reports.push(await bodyOf(req));
      return send(res, 200, { ok: true, drain: false, ...(c.manifest ? { fillManifest: c.manifest.version } : {}) });
    }
    if (req.method === 'GET' && url === fillManifestPath(APPLIANCE_ID)) {
      if (!c.manifest) return send(res, 404, { error: { code: 'not_found', message: 'no plan yet' } });
      const etag = `"${c.manifest.version}"`;
      const notModified = req.headers['if-none-match'] === etag;
      c.manifestRequests.push({ status: notModified ? 304 : 200, authorization: req.headers.authorization });
      if (notModified) {
        res.writeHead(304, { etag });
        return res.end();
      }
      return send(res, 200, c.manifest, { etag });
    }
    send(res, 404, { error: { code: 'not_found', message: url } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  c.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  c.stop = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  };
  return c;
}

/** Daemon settings that report to the stub and fill quickly (short ticks and retries). */
export function fillDaemonSettings(control: ControlStub, fill: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    controlUrl: control.url,
    report: { enrollmentToken: ENROLLMENT_TOKEN, publicUrl: 'http://127.0.0.1:8080', reportIntervalMs: 200 },
    fill: { tickMs: 50, sourceRetryMs: 50, manifestRefreshMs: 600_000, ...fill },
  };
}
