// The viewer's page: sign in with an account token, pick a profile, a title and a player, and
// play the encrypted title through the appliances control steered this session to. It shows
// which appliance every request went to, and the playback figures (first frame, stalls, licence
// requests); `window.edgebox.state()` returns the same figures as JSON (the end-to-end test
// reads it). Everything it calls is control's own API on this origin:
//   GET /v1/me, GET /v1/me/titles                     who is signed in, what they may watch
//   POST /v1/playback, PUT …/heartbeat, DELETE …      the session (stream limit, steering)
// and the players fetch the session's manifests, ClearKey licences and media ranges.
//
// Sign-in link: /ui/player/#account=<apiToken>[&device=<name>] (kept in sessionStorage, then
// removed from the address bar). Query: ?player=shaka|dashjs|hlsjs, ?buffer=<seconds>.

import { onRequest } from './net-log.js';
import { ENGINES } from './engines.js';
import { watchPlayback } from './monitor.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const BUFFER_S = Math.min(120, Math.max(1, Number(params.get('buffer')) || 12));
const COLOURS = ['#0b6bcb', '#1a7f37', '#b7791f', '#8e44ad', '#c62828', '#00838f'];

const st = {
  token: null, device: null, account: null, titles: [],
  phase: 'idle', engineName: null, engine: null, session: null, t0: 0, monitor: null,
  sessionEnded: false, error: null, errors: [], requests: [], heartbeatTimer: null, uiTimer: null, lastHeartbeat: null,
};

// ---- requests: which appliance, what kind -------------------------------------------------

/** the session target a URL goes to, by its base URL; -1 for anything else */
function targetIndex(url) {
  const targets = st.session?.targets ?? [];
  for (let i = 0; i < targets.length; i++) if (url.startsWith(targets[i].baseUrl)) return i;
  return -1;
}

function kindOf(url) {
  if (url.includes('/v1/license')) return 'licence';
  if (/\.mpd(\?|$)/.test(url)) return 'manifest';
  if (/\.m3u8(\?|$)/.test(url)) return 'playlist';
  if (url.includes('/heartbeat')) return 'heartbeat';
  if (targetIndex(url) >= 0) return 'media';
  return 'other';
}

/** base-URL hosts with a failure (in the last 30 s) newer than their last success */
const failedHosts = new Map();
function hostOf(url) { try { return new URL(url).host; } catch { return url; } }
/**
 * A segment's base URLs with each failed host's entry replaced by the next healthy one after it,
 * so a dead appliance is not tried first on every segment. Positions stay where they were:
 * shaka-player retries by position (and filters the request again before each attempt), so a
 * reordered list would make its second attempt skip the next appliance.
 */
function preferHealthy(uris) {
  const now = performance.now();
  const bad = (u) => (failedHosts.get(hostOf(u)) ?? -Infinity) > now - 30_000;
  return uris.map((u, i) => (bad(u) ? uris.slice(i + 1).find((v) => !bad(v)) ?? u : u));
}

onRequest((phase, rec) => {
  if (phase !== 'end' || !st.session) return;
  const kind = kindOf(rec.url);
  if (kind === 'other') return;
  const failed = rec.status === 0 || rec.status >= 400;
  if (kind === 'media') {
    if (failed && rec.error !== 'aborted') failedHosts.set(hostOf(rec.url), performance.now());
    else if (!failed) failedHosts.delete(hostOf(rec.url));
  }
  st.requests.push({
    at: rec.start, ms: Math.round(rec.end - rec.start), kind, target: targetIndex(rec.url), url: rec.url, range: rec.range,
    status: rec.status, bytes: rec.bytes, error: rec.error,
  });
  if (st.requests.length > 5000) st.requests.splice(0, 1000);
});

// ---- control's API ------------------------------------------------------------------------

class ApiFailure extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? 'http';
    this.body = body;
  }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${st.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  if (!res.ok) throw new ApiFailure(res.status, json);
  return json;
}

// ---- sign-in --------------------------------------------------------------------------------

function defaultDevice() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chromium' : /Firefox\//.test(ua) ? 'Firefox' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Linux/.test(ua) ? 'Linux' : /Mac OS/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : '';
  const tag = Math.random().toString(16).slice(2, 6);
  return `${browser}${os ? ` on ${os}` : ''} (${tag})`;
}

async function signIn(token, device) {
  st.token = token;
  st.device = device;
  try {
    const [account, titles] = await Promise.all([api('GET', '/v1/me'), api('GET', '/v1/me/titles')]);
    st.account = account;
    st.titles = titles;
  } catch (e) {
    st.token = null;
    sessionStorage.removeItem('edgebox.account');
    showSignIn(e.status === 401 ? 'That account token is not known to control.' : `Sign-in failed: ${e.message}`);
    return false;
  }
  sessionStorage.setItem('edgebox.account', token);
  localStorage.setItem('edgebox.device', device);
  showApp();
  return true;
}

function signOut() {
  void stop();
  sessionStorage.removeItem('edgebox.account');
  st.token = st.account = null;
  showSignIn('');
}

function showSignIn(message) {
  $('signin').classList.remove('hidden');
  $('app').classList.add('hidden');
  $('log-section').classList.add('hidden');
  $('who').textContent = '';
  $('device-name').value = st.device ?? localStorage.getItem('edgebox.device') ?? defaultDevice();
  $('signin-error').textContent = message;
}

function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

function showApp() {
  const a = st.account;
  $('signin').classList.add('hidden');
  $('app').classList.remove('hidden');
  $('log-section').classList.remove('hidden');
  $('who').innerHTML = '';
  $('who').append(`${a.name} · ${a.plan} (${a.streamLimit} stream${a.streamLimit === 1 ? '' : 's'}) · ${a.region} · ${st.device} · `);
  const out = document.createElement('button');
  out.className = 'link';
  out.textContent = 'sign out';
  out.onclick = signOut;
  $('who').append(out);
  $('profile').replaceChildren(...a.profiles.map((p) => option(p.profileId, p.name)));
  $('title').replaceChildren(...st.titles.map((t) => option(t.titleId, `${t.name} (${Math.round(t.durationMs / 1000)} s)`)));
  $('engine').replaceChildren(...Object.entries(ENGINES).map(([k, e]) => option(k, e.label)));
  if (params.get('player') && ENGINES[params.get('player')]) $('engine').value = params.get('player');
  $('play').disabled = a.profiles.length === 0 || st.titles.length === 0;
  $('play-error').textContent = a.profiles.length === 0 ? 'This account has no profile yet.' : st.titles.length === 0 ? 'No title is available in your region yet.' : '';
}

// ---- playback -------------------------------------------------------------------------------

function bufferAheadMs(video) {
  const t = video.currentTime;
  for (let i = 0; i < video.buffered.length; i++) {
    if (video.buffered.start(i) <= t + 0.1 && t <= video.buffered.end(i)) return Math.round((video.buffered.end(i) - t) * 1000);
  }
  return 0;
}

function noteError(fatal, detail) {
  st.errors.push({ fatal, detail, at: performance.now() });
  if (!fatal) return;
  st.error = { kind: 'player', detail };
  st.phase = 'error';
  $('play-error').textContent = `Playback failed (${st.engineName}): ${JSON.stringify(detail).slice(0, 400)}`;
}

async function play({ titleId, profileId, engine, fromStart } = {}) {
  await stop();
  titleId ??= $('title').value;
  profileId ??= $('profile').value;
  engine ??= $('engine').value;
  fromStart ??= $('from-start').checked;
  const video = $('video');
  st.session = null;
  st.monitor = null;
  st.error = null;
  st.errors = [];
  st.requests = [];
  failedHosts.clear();
  st.engineName = engine;
  st.phase = 'starting';
  $('play-error').textContent = '';
  st.t0 = performance.now();
  let session;
  try {
    session = await api('POST', '/v1/playback', { titleId, profileId, device: st.device });
  } catch (e) {
    st.phase = 'refused';
    st.error = { kind: 'api', status: e.status, code: e.code, message: e.message, devices: e.body?.error?.devices ?? null };
    $('play-error').textContent = e.status === 429
      ? `Your plan's streams are all in use — ${e.message}. Stop one of them to watch here.`
      : `Control refused to play (${e.status} ${e.code}): ${e.message}`;
    render();
    return st.error;
  }
  st.session = session;
  st.sessionEnded = false;
  st.monitor = watchPlayback(video, st.t0);
  const startAtS = fromStart ? 0 : (session.resumePositionMs ?? 0) / 1000;
  try {
    st.engine = await ENGINES[engine].start({ video, session, bufferS: BUFFER_S, startAtS, onError: noteError, preferHealthy });
    video.muted = video.muted || !navigator.userActivation?.hasBeenActive;
    await video.play().catch(() => {});
  } catch (e) {
    noteError(true, e && e.code !== undefined ? JSON.parse(JSON.stringify(e)) : { message: String(e?.message ?? e) });
  }
  const every = Math.max(2_000, Math.min(10_000, (session.heartbeatTtlMs ?? 60_000) / 3));
  st.heartbeatTimer = setInterval(heartbeat, every);
  $('stop').disabled = false;
  render();
  return null;
}

/** the appliance that answered the latest media request: control credits the heartbeat's throughput to it */
function servingAppliance() {
  for (let i = st.requests.length - 1; i >= 0; i--) {
    const r = st.requests[i];
    if (r.kind === 'media' && r.status > 0 && r.status < 400) return st.session?.targets[r.target]?.applianceId ?? undefined;
  }
  return undefined;
}

async function heartbeat() {
  const s = st.session;
  if (!s || st.sessionEnded) return;
  const video = $('video');
  const applianceId = servingAppliance();
  try {
    await api('PUT', new URL(s.heartbeatUrl).pathname, {
      positionMs: Math.floor(video.currentTime * 1000), bitrateKbps: st.engine?.bitrateKbps() ?? 0, bufferMs: bufferAheadMs(video),
      ...(applianceId ? { applianceId } : {}),
    });
    st.lastHeartbeat = { at: performance.now(), ok: true };
  } catch (e) {
    st.lastHeartbeat = { at: performance.now(), ok: false, status: e.status, code: e.code };
  }
}

async function stop() {
  clearInterval(st.heartbeatTimer);
  st.heartbeatTimer = null;
  st.monitor?.stop();
  const engine = st.engine, session = st.session;
  st.engine = null;
  if (engine) await engine.stop().catch(() => {});
  if (session && !st.sessionEnded) {
    await heartbeat(); // the resume position
    st.sessionEnded = true;
    await api('DELETE', `/v1/playback/${session.sessionId}`).catch(() => {});
  }
  if (st.phase !== 'idle' && st.phase !== 'refused') st.phase = 'stopped';
  $('stop').disabled = true;
  render();
}

addEventListener('pagehide', () => {
  if (st.session && st.token && !st.sessionEnded) {
    fetch(`/v1/playback/${st.session.sessionId}`, { method: 'DELETE', keepalive: true, headers: { authorization: `Bearer ${st.token}` } });
  }
});

// ---- what the page shows (and state() returns) -----------------------------------------------

function perTarget() {
  const targets = st.session?.targets ?? [];
  return targets.map((t, i) => {
    const mine = st.requests.filter((r) => r.kind === 'media' && r.target === i);
    const failed = mine.filter((r) => r.status === 0 || r.status >= 400);
    return { rank: i, tier: t.tier, applianceId: t.applianceId ?? null, host: hostOf(t.baseUrl), requests: mine.length, failed: failed.length, bytes: mine.reduce((n, r) => n + r.bytes, 0) };
  });
}

function state() {
  const video = $('video');
  const m = st.monitor?.report() ?? { firstFrameMs: null, stalls: [], stalledMs: 0 };
  if (st.phase === 'starting' && m.firstFrameMs !== null) {
    st.phase = 'playing';
    void heartbeat(); // control hears of the start at once, not a heartbeat interval later
  }
  const phase = st.phase === 'playing' && m.stalls.some((s) => s.ongoing) ? 'buffering' : st.phase;
  return {
    signedIn: !!st.account, account: st.account && { name: st.account.name, plan: st.account.plan, streamLimit: st.account.streamLimit },
    device: st.device, engine: st.engineName, phase, error: st.error, errors: st.errors,
    session: st.session && { sessionId: st.session.sessionId, licenseUrl: st.session.licenseUrl, targets: st.session.targets.map((t) => ({ tier: t.tier, applianceId: t.applianceId ?? null, baseUrl: t.baseUrl })) },
    t: video.currentTime, w: video.videoWidth, h: video.videoHeight, bufferMs: bufferAheadMs(video), bitrateKbps: st.engine?.bitrateKbps() ?? 0,
    firstFrameMs: m.firstFrameMs, stalls: m.stalls, stalledMs: m.stalledMs,
    licenceRequests: st.requests.filter((r) => r.kind === 'licence').length,
    targets: perTarget(), heartbeat: st.lastHeartbeat, now: performance.now(),
  };
}

function render() {
  if (!st.account) return;
  const s = state();
  const phase = $('phase');
  phase.textContent = s.phase;
  phase.className = `badge ${s.phase}`;
  const secs = (x) => `${x.toFixed(1)} s`;
  $('pos').textContent = st.session ? secs(s.t) : '–';
  $('res').textContent = s.w ? `${s.w}×${s.h}` : '–';
  $('bitrate').textContent = s.bitrateKbps ? `${s.bitrateKbps} kb/s` : '–';
  $('buffer').textContent = st.session ? secs(s.bufferMs / 1000) : '–';
  $('first-frame').textContent = s.firstFrameMs === null ? '–' : `${s.firstFrameMs} ms after play`;
  $('stalls').textContent = st.session ? (s.stalls.length ? `${s.stalls.length}, ${s.stalledMs} ms in all (longest ${Math.max(...s.stalls.map((x) => x.ms))} ms)` : 'none') : '–';
  $('licences').textContent = st.session ? String(s.licenceRequests) : '–';
  $('session').textContent = s.session ? s.session.sessionId.slice(0, 12) + '…' : '–';
  const now = performance.now();
  $('targets').tBodies[0].replaceChildren(...s.targets.map((t) => {
    const tr = document.createElement('tr');
    if ((failedHosts.get(t.host) ?? -Infinity) > now - 30_000) tr.className = 'dead';
    const who = t.applianceId ?? 'origin';
    tr.innerHTML = `<td>${t.rank + 1}</td><td>${t.tier}</td><td class="wrap"><span class="swatch"></span><span class="mono"></span><div class="muted mono"></div></td>` +
      `<td class="num">${t.requests}</td><td class="num">${(t.bytes / 1e6).toFixed(2)}</td><td class="num">${t.failed}</td>`;
    tr.querySelector('.swatch').style.background = COLOURS[t.rank % COLOURS.length];
    tr.querySelector('.mono').textContent = who;
    tr.querySelector('div.muted').textContent = t.host;
    return tr;
  }));
  const rows = st.requests.slice(-40).reverse().map((r) => {
    const tr = document.createElement('tr');
    if (r.status === 0 || r.status >= 400) tr.className = 'failed';
    const target = r.target >= 0 ? st.session.targets[r.target] : null;
    tr.innerHTML = `<td class="num">${((r.at - st.t0) / 1000).toFixed(2)}</td><td>${r.kind}</td><td><span class="swatch"></span><span class="mono"></span></td>` +
      `<td class="mono"></td><td class="num">${r.status || (r.error ?? 'failed')}</td><td class="num">${r.ms}</td><td class="num">${(r.bytes / 1024).toFixed(0)}</td>`;
    const sw = tr.querySelector('.swatch');
    if (target) sw.style.background = COLOURS[r.target % COLOURS.length];
    else sw.remove();
    tr.querySelector('.mono').textContent = target ? (target.applianceId ?? 'origin') : 'control';
    tr.cells[3].textContent = r.range ?? '';
    return tr;
  });
  $('log').tBodies[0].replaceChildren(...rows);
}

// ---- start ----------------------------------------------------------------------------------

$('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void signIn($('account-token').value.trim(), $('device-name').value.trim());
});
$('play').addEventListener('click', () => void play());
$('stop').addEventListener('click', () => void stop());
st.uiTimer = setInterval(render, 500);

/** the page's request log: {at, ms (performance.now()), kind, target (index in the session's targets, -1 none), url, range, status, bytes, error} */
const requestLog = () => st.requests.map((r) => ({ ...r }));
window.edgebox = { state, requests: requestLog, play, stop, signIn, signOut };

const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get('account')) {
  history.replaceState(null, '', location.pathname + location.search);
  void signIn(hash.get('account'), hash.get('device') || localStorage.getItem('edgebox.device') || defaultDevice());
} else if (sessionStorage.getItem('edgebox.account')) {
  void signIn(sessionStorage.getItem('edgebox.account'), localStorage.getItem('edgebox.device') || defaultDevice());
} else {
  showSignIn('');
}
