// The three players the page offers, each started the usual way for its format, behind one
// small interface: start(o) → {stop(), bitrateKbps()}. Their scripts are loaded on first use
// from control (/ui/vendor/…, bundled by their npm packages).
//
// o: {video, session (POST /v1/playback's answer), bufferS (forward buffer goal), startAtS,
//     onError(fatal, detail), preferHealthy(uris) (the page's base-URL order: hosts that just
//     failed go last)}
//
// Failover: the session's manifests name every steered appliance in order. shaka-player tries a
// segment's base URLs in order on error (the page reorders them so a dead host is not tried
// first on every segment), dash.js blacklists a failed DASH service location, and hls.js moves
// to the next redundant variant (its "pathway"). Retries are kept short: with several base URLs
// the next appliance is a better bet than waiting for the same one.

const VENDOR = {
  shaka: '/ui/vendor/shaka-player.compiled.js',
  dashjs: '/ui/vendor/dash.all.min.js',
  hlsjs: '/ui/vendor/hls.min.js',
};

const loading = new Map();
function loadScript(src) {
  if (!loading.has(src)) {
    loading.set(src, new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => resolve();
      s.onerror = () => { loading.delete(src); reject(new Error(`could not load ${src}`)); };
      document.head.appendChild(s);
    }));
  }
  return loading.get(src);
}

/** a player error as plain JSON (byte buffers left out) */
function plain(e) {
  try {
    return JSON.parse(JSON.stringify(e, (_k, v) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? '<bytes>' : v)));
  } catch {
    return { message: String(e) };
  }
}

async function startShaka(o) {
  await loadScript(VENDOR.shaka);
  const shaka = window.shaka;
  shaka.polyfill.installAll();
  if (!shaka.Player.isBrowserSupported()) throw new Error('shaka-player: this browser lacks MSE or EME');
  const player = new shaka.Player();
  await player.attach(o.video);
  // a dead appliance refuses or resets at once, so the short delay is what failover costs; the
  // timeouts only give up on a live but slow one, and are generous (a busy box is still the
  // better source than the next tier)
  const retry = { maxAttempts: 4, baseDelay: 250, backoffFactor: 2, fuzzFactor: 0.2, timeout: 30_000, stallTimeout: 10_000, connectionTimeout: 10_000 };
  player.configure({
    streaming: { bufferingGoal: o.bufferS, rebufferingGoal: Math.min(2, o.bufferS), bufferBehind: 30, retryParameters: retry },
  });
  player.addEventListener('error', (ev) => o.onError(ev.detail?.severity === shaka.util.Error.Severity.CRITICAL, plain(ev.detail)));
  const SEGMENT = shaka.net.NetworkingEngine.RequestType.SEGMENT;
  player.getNetworkingEngine().registerRequestFilter((type, req) => {
    if (type === SEGMENT && req.uris.length > 1) req.uris = o.preferHealthy(req.uris);
  });
  await player.load(o.session.dash.url, o.startAtS);
  return {
    stop: () => player.destroy(),
    bitrateKbps: () => Math.round((player.getStats().streamBandwidth || 0) / 1000),
  };
}

async function startDashjs(o) {
  await loadScript(VENDOR.dashjs);
  const dashjs = window.dashjs;
  const player = dashjs.MediaPlayer().create();
  const b = o.bufferS;
  const fast = { MediaSegment: 250, InitializationSegment: 250, IndexSegment: 250 };
  player.updateSettings({
    debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
    streaming: {
      buffer: { bufferTimeDefault: b, bufferTimeAtTopQuality: b, bufferTimeAtTopQualityLongForm: b, bufferToKeep: 30 },
      retryIntervals: fast,
      retryAttempts: { MediaSegment: 1, InitializationSegment: 1, IndexSegment: 1 },
    },
  });
  const ev = dashjs.MediaPlayer.events;
  // a failed index/segment/init download (26, 27, 28) is reported when one base URL ran out of
  // retries; dash.js then blacklists that service location and goes on with the next
  const recoverable = new Set([26, 27, 28]);
  const detail = (e) => {
    const err = e.error ?? e;
    return { code: err.code ?? null, message: typeof err.message === 'string' ? err.message : String(err.message ?? err), url: err.data?.request?.url ?? null };
  };
  player.on(ev.ERROR, (e) => { const d = detail(e); o.onError(!recoverable.has(d.code), d); });
  player.on(ev.PLAYBACK_ERROR, (e) => o.onError(true, detail(e)));
  player.initialize(o.video, o.session.dash.url, true, o.startAtS);
  return {
    stop: async () => player.destroy(),
    bitrateKbps: () => {
      try { return Math.round((player.getCurrentRepresentationForType('video')?.bandwidth ?? 0) / 1000); } catch { return 0; }
    },
  };
}

async function startHlsjs(o) {
  await loadScript(VENDOR.hlsjs);
  const Hls = window.Hls;
  if (!Hls.isSupported()) throw new Error('hls.js: this browser lacks MSE');
  const hls = new Hls({
    // ClearKey the usual way: EME on, the licence URL from the session
    emeEnabled: true,
    drmSystems: { 'org.w3.clearkey': { licenseUrl: o.session.licenseUrl } },
    startPosition: o.startAtS,
    maxBufferLength: o.bufferS,
    maxMaxBufferLength: Math.max(o.bufferS * 2, 4),
    backBufferLength: 30,
    fragLoadPolicy: {
      default: {
        maxTimeToFirstByteMs: 8_000, maxLoadTimeMs: 20_000,
        timeoutRetry: { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 },
        errorRetry: { maxNumRetry: 1, retryDelayMs: 250, maxRetryDelayMs: 1_000 },
      },
    },
  });
  hls.on(Hls.Events.ERROR, (_e, d) => o.onError(!!d.fatal, {
    type: d.type, details: d.details, fatal: !!d.fatal, url: d.frag?.url ?? d.url ?? null,
    message: d.error?.message ?? d.reason ?? null, response: d.response ? { code: d.response.code, text: d.response.text } : null,
  }));
  hls.loadSource(o.session.hls.url);
  hls.attachMedia(o.video);
  return {
    stop: async () => hls.destroy(),
    bitrateKbps: () => Math.round((hls.levels[hls.currentLevel]?.bitrate ?? 0) / 1000),
  };
}

export const ENGINES = {
  shaka: { label: 'shaka-player · DASH', format: 'dash', start: startShaka },
  dashjs: { label: 'dash.js · DASH', format: 'dash', start: startDashjs },
  hlsjs: { label: 'hls.js · HLS', format: 'hls', start: startHlsjs },
};
