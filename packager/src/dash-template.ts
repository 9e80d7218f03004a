// Turn Shaka Packager's MPD into the DASH template of the content manifest: base URLs and the
// licence URL become placeholders (see protocol/src/content-manifest.ts), and ClearKey is
// signalled in the form both shaka-player and dash.js accept: a ContentProtection with the
// W3C ClearKey system id next to the mp4protection element carrying cenc:default_KID, with the
// licence URL as dashif:Laurl (current dash.js, shaka) and clearkey:Laurl (older dash.js).

export const CLEARKEY_SYSTEM_ID = 'e2719d58-a985-b3c9-781a-b030af78d30e';

const CLEARKEY_CP = [
  `<ContentProtection schemeIdUri="urn:uuid:${CLEARKEY_SYSTEM_ID}" value="ClearKey1.0">`,
  '  <dashif:Laurl>{{LICENSE_URL}}</dashif:Laurl>',
  '  <clearkey:Laurl Lic_type="EME-1.0">{{LICENSE_URL}}</clearkey:Laurl>',
  '</ContentProtection>',
];

export interface MpdRepresentation {
  /** the Representation's BaseURL, which is its fileId */
  fileId: string;
  contentType: string;
  mimeType: string;
  codecs: string;
  bandwidth: number;
  width?: number;
  height?: number;
  frameRate?: string;
  language?: string;
  initRange: { start: number; end: number };
  indexRange: { start: number; end: number };
  kid?: string;
}

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

function range(s: string | undefined, what: string): { start: number; end: number } {
  const m = /^(\d+)-(\d+)$/.exec(s ?? '');
  if (!m) throw new Error(`MPD: ${what} missing or malformed: ${s}`);
  return { start: Number(m[1]), end: Number(m[2]) };
}

function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}

function simplifyRate(r: string | undefined): string | undefined {
  if (!r) return undefined;
  const [n, d] = r.split('/').map(Number);
  if (!d) return r;
  const g = gcd(n, d);
  return d / g === 1 ? String(n / g) : `${n / g}/${d / g}`;
}

/** Facts about each Representation, read from Shaka's MPD. */
export function readMpd(mpd: string): MpdRepresentation[] {
  const out: MpdRepresentation[] = [];
  for (const set of mpd.matchAll(/<AdaptationSet\b([^>]*)>([\s\S]*?)<\/AdaptationSet>/g)) {
    const setTag = set[1];
    const kid = /cenc:default_KID="([0-9a-fA-F-]+)"/.exec(set[2])?.[1]?.replace(/-/g, '').toLowerCase();
    for (const rep of set[2].matchAll(/<Representation\b([^>]*)>([\s\S]*?)<\/Representation>/g)) {
      const tag = rep[1];
      const body = rep[2];
      const fileId = /<BaseURL>([^<]+)<\/BaseURL>/.exec(body)?.[1];
      if (!fileId) throw new Error('MPD: Representation without BaseURL');
      const width = attr(tag, 'width') ?? attr(setTag, 'width');
      const height = attr(tag, 'height') ?? attr(setTag, 'height');
      out.push({
        fileId,
        contentType: attr(setTag, 'contentType') ?? '',
        mimeType: attr(tag, 'mimeType') ?? attr(setTag, 'mimeType') ?? '',
        codecs: attr(tag, 'codecs') ?? attr(setTag, 'codecs') ?? '',
        bandwidth: Number(attr(tag, 'bandwidth')),
        width: width ? Number(width) : undefined,
        height: height ? Number(height) : undefined,
        frameRate: simplifyRate(attr(tag, 'frameRate') ?? attr(setTag, 'frameRate')),
        language: attr(setTag, 'lang'),
        indexRange: range(/<SegmentBase\b[^>]*indexRange="([^"]+)"/.exec(body)?.[1], `${fileId} indexRange`),
        initRange: range(/<Initialization\b[^>]*range="([^"]+)"/.exec(body)?.[1], `${fileId} Initialization range`),
        kid,
      });
    }
  }
  return out;
}

/** The per-session DASH template. */
export function dashTemplate(mpd: string): string {
  let t = mpd.replace(/<MPD\b([^>]*)>/, (_m, attrs: string) =>
    `<MPD${attrs} xmlns:dashif="https://dashif.org/CPS" xmlns:clearkey="http://dashif.org/guidelines/clearKey">\n  {{BASE_URLS}}`,
  );
  t = t.replace(/^(\s*)(<ContentProtection\b[^>]*urn:mpeg:dash:mp4protection:2011[^>]*\/>)/gm, (_m, indent: string, cp: string) =>
    [indent + cp, ...CLEARKEY_CP.map((l) => indent + l)].join('\n'),
  );
  if (!t.includes('{{BASE_URLS}}') || !t.includes('{{LICENSE_URL}}')) throw new Error('MPD template: placeholders could not be placed');
  return t;
}
