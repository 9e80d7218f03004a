// The manifest parsers ship no type declarations; the tests use a small part of each.
declare module 'mpd-parser' {
  export function parse(mpd: string, options?: { manifestUri?: string }): any;
}
declare module 'm3u8-parser' {
  export class Parser {
    push(chunk: string): void;
    end(): void;
    manifest: any;
  }
}
