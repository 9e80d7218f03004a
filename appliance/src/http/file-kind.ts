// Content-Type for each kind of stream file. Every file is one CMAF (fragmented MP4) track;
// text tracks (WebVTT/TTML in MP4) have no more specific registered type than application/mp4.

import type { FileKind } from '../../../protocol/index.ts';

const CONTENT_TYPES: Readonly<Record<FileKind, string>> = {
  video: 'video/mp4',
  audio: 'audio/mp4',
  text: 'application/mp4',
};

export function contentTypeOf(kind: FileKind): string {
  return CONTENT_TYPES[kind] ?? 'application/octet-stream';
}
