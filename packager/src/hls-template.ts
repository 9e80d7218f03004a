// Turn Shaka Packager's HLS playlists into the content manifest's HLS templates: media playlist
// URIs become {{MEDIA:<fileId>}}, segment and map URIs {{BASE}}<fileId>, and the key line points
// at the session's ClearKey licence ({{LICENSE_URL}}) with the key id, never the key. The key
// line's KEYFORMAT is the EME key system name `org.w3.clearkey`, which hls.js matches against its
// `drmSystems` config; the DASH system id (urn:uuid:e2719d58-…) is not an HLS KEYFORMAT any
// player knows, and hls.js skips such a key and stalls at 0 s.

/** The HLS KEYFORMAT of a ClearKey key line (the EME key system name). */
export const CLEARKEY_KEYFORMAT = 'org.w3.clearkey';

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
      ? `#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="{{LICENSE_URL}}",KEYFORMAT="${CLEARKEY_KEYFORMAT}",KEYFORMATVERSIONS="1",KEYID=0x${kid}`
      : '',
  );
  return t;
}
