// A string as it stands between the quotes of JSON.stringify's output. JSON.stringify escapes each
// character on its own (and keeps surrogate pairs whole), so escaping the parts of a text one by
// one and joining them gives the same bytes as escaping the joined text: a title's templates are
// escaped once and a playback start writes its answer without escaping its manifests again.

// what JSON.stringify may escape: '"', '\\', control characters, (lone) surrogates
const MAY_ESCAPE_RE = /["\\\u0000-\u001f\ud800-\udfff]/;

export function jsonStringContent(s: string): string {
  return MAY_ESCAPE_RE.test(s) ? JSON.stringify(s).slice(1, -1) : s;
}
