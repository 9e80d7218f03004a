// Turn Shaka Packager's HLS playlists into the content manifest's HLS templates: media playlist
// URIs become {{MEDIA:<fileId>}}, segment and map URIs {{BASE}}<fileId>, and the key line points
// at the session's ClearKey licence ({{LICENSE_URL}}) with the key id, never the key.

import { CLEARKEY_SYSTEM_ID } from './dash-template.ts';

export function hlsMasterTemplate(master: string, fileIds: string[]): string {
  let t = master;
  for (const id of fileIds) {
    t = t.split(`URI="${id}.m3u8"`).join(`URI="{{MEDIA:${id}}}"`);
    t = t.replace(new RegExp(`^${id.replace(/[.]/g, '\\.')}\\.m3u8$`, 'gm'), `{{MEDIA:${id}}}`);
  }
  return t;
}

export function hlsMediaTemplate(media: string, fileId: string, kid: string | undefined): string {
  const esc = fileId.replace(/[.]/g, '\\.');
  let t = media.replace(new RegExp(`URI="${esc}"`, 'g'), `URI="{{BASE}}${fileId}"`);
  t = t.replace(new RegExp(`^${esc}$`, 'gm'), `{{BASE}}${fileId}`);
  t = t.replace(/^#EXT-X-KEY:.*$/gm, () =>
    kid
      ? `#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="{{LICENSE_URL}}",KEYFORMAT="urn:uuid:${CLEARKEY_SYSTEM_ID}",KEYFORMATVERSIONS="1",KEYID=0x${kid}`
      : '',
  );
  return t;
}
