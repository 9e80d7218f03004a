// Per-session DASH: the packager's MPD template with one <BaseURL> per ranked target (best first;
// players try them in order and fail over) and the session's licence URL.

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function sessionMpd(template: string, baseUrls: readonly string[], licenceUrl: string): string {
  const bases = baseUrls.map((u) => `<BaseURL>${xmlEscape(u)}</BaseURL>`).join('\n    ');
  return template.replaceAll('{{BASE_URLS}}', bases).replaceAll('{{LICENSE_URL}}', xmlEscape(licenceUrl));
}
