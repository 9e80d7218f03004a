// The viewer's web page for the browser test: a muted <video> with shaka-player or dash.js.
// `play(which, mpd, licence)` starts loading a manifest (optionally sending licence requests to
// another URL) and returns at once; the test polls the page. Every player error and every
// licence URL requested is recorded on window; `state()` returns them with the video's
// currentTime (t) and videoWidth (w).

export const PLAYER_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>edgebox player</title>
<script src="/shaka-player.js"></script><script src="/dash.all.min.js"></script></head>
<body><video muted playsinline width="320" height="180"></video>
<script>
window.errors = [];
window.licenceRequests = [];
const video = document.querySelector('video');
// errors go back to the test as plain JSON: byte buffers (licence bodies) left out
const note = (e) => window.errors.push(JSON.parse(JSON.stringify(e, (k, v) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? '<bytes>' : v))));

async function playShaka(mpd, licence) {
  shaka.polyfill.installAll();
  const player = new shaka.Player();
  await player.attach(video);
  player.addEventListener('error', (ev) => note(ev.detail));
  player.getNetworkingEngine().registerRequestFilter((type, req) => {
    if (type !== shaka.net.NetworkingEngine.RequestType.LICENSE) return;
    // shaka ignores drm.servers for ClearKey once the MPD names a Laurl, so a substitute
    // licence URL has to be swapped in on the request itself.
    if (licence) req.uris = [licence];
    // shaka posts the EME message with no Content-Type; control must take it as it comes.
    window.licenceRequests.push(req.uris[0]);
  });
  await player.load(mpd);
  await video.play();
}

function playDash(mpd, licence) {
  const player = dashjs.MediaPlayer().create();
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => note(e.error ?? e));
  player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, (e) => note(e.error ?? e));
  player.registerLicenseRequestFilter((req) => {
    if (licence) req.url = licence;
    window.licenceRequests.push(req.url);
    return Promise.resolve();
  });
  player.initialize(video, mpd, true);
}

window.state = () => ({ errors: window.errors, t: video.currentTime, w: video.videoWidth, licences: window.licenceRequests });
window.play = (which, mpd, licence) => {
  const run = async () => (which === 'dashjs' ? playDash(mpd, licence) : playShaka(mpd, licence));
  run().catch((e) => note(e && e.code !== undefined ? e : { message: String(e) }));
};
</script></body></html>
`;
