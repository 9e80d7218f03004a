// How URLs to appliance files are spelled. Control builds them into manifests; the appliance
// routes them. Two equivalent forms:
//   /v1/f/<fileId>?t=<token>          direct form (curl, tests, fill)
//   /v1/t/<token>/f/<fileId>          path form: a manifest's BaseURL ends in `/v1/t/<token>/f/`
//                                     and each stream's relative URL is its fileId, which
//                                     survives RFC 3986 resolution (a query string would not).

export function fileUrl(origin: string, fileId: string, token?: string): string {
  const base = `${origin.replace(/\/+$/, '')}/v1/f/${fileId}`;
  return token ? `${base}?t=${token}` : base;
}

export function tokenBaseUrl(origin: string, token: string): string {
  return `${origin.replace(/\/+$/, '')}/v1/t/${token}/f/`;
}
