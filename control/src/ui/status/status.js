// The operator's status page: refreshes itself every few seconds from two read-only operator
// calls on this origin — GET /v1/overview (sites, appliances and their state, prefixes, live
// sessions, steering misses by cause, titles and where they are placed) and GET /v1/fill/status
// (fill windows, plan and per-appliance progress, bad sources). Needs the operator token: from
// the sign-in form or a link /ui/status/#token=<operatorToken> (kept in sessionStorage).
// Everything reported by appliances is put on the page as text, never as markup.

const $ = (id) => document.getElementById(id);
const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh')) || 2_000;
let token = null;
let timer = null;
let last = null;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k === 'title') e.title = v;
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}
const td = (...c) => el('td', {}, ...c);
const num = (...c) => el('td', { class: 'num' }, ...c);
const badge = (text, cls = text) => el('span', { class: `badge ${cls}` }, text);

function ago(ms, now) {
  if (ms === null || ms === undefined) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : `${Math.floor(s / 3600)} h ago`;
}
const mbps = (bps) => `${(bps / 1e6).toFixed(1)} Mb/s`;
const mb = (bytes) => (bytes / 1e6).toFixed(1);
const pct = (x) => `${Math.round(x * 100)}%`;
const secs = (ms) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);

async function get(path) {
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(body?.error?.message ?? `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

async function refresh() {
  try {
    const [ov, fill] = await Promise.all([get('/v1/overview'), get('/v1/fill/status')]);
    last = { ov, fill, at: Date.now() };
    $('board-error').textContent = '';
    draw(ov, fill);
  } catch (e) {
    if (e.status === 401) {
      stopRefresh();
      sessionStorage.removeItem('edgebox.operator');
      return showSignIn(`Control refused the token: ${e.message}`);
    }
    $('board-error').textContent = `Refresh failed (${e.message}); showing what was read ${last ? ago(last.at, Date.now()) : 'never'}. Retrying.`;
  }
}

function draw(ov, fill) {
  const now = ov.now;
  const byId = new Map(ov.appliances.map((a) => [a.applianceId, a]));
  const fillById = new Map(fill.sites.flatMap((s) => s.appliances.map((a) => [a.applianceId, a])));
  $('who').textContent = `control ${ov.publicUrl} · refreshed ${new Date(now).toLocaleTimeString()} (every ${REFRESH_MS / 1000} s)`;

  // overview tiles
  const states = {};
  for (const a of ov.appliances) states[a.state] = (states[a.state] ?? 0) + 1;
  const misses = ov.counters.missesByCause;
  const tile = (n, label, bad = false) => el('div', { class: `tile${bad ? ' bad' : ''}` }, el('b', {}, n), el('span', {}, label));
  $('tiles').replaceChildren(
    tile(ov.sites.length, 'sites'),
    tile(ov.appliances.length, `appliances (${Object.entries(states).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'})`),
    tile(ov.sessions.live, 'live sessions'),
    tile(ov.titles.length, 'titles'),
    tile(ov.counters.steeringDecisions, 'steering decisions'),
    tile(misses.content ?? 0, 'misses: content', (misses.content ?? 0) > 0),
    tile(misses.health ?? 0, 'misses: health', (misses.health ?? 0) > 0),
    tile(misses['no-route'] ?? 0, 'misses: no route', (misses['no-route'] ?? 0) > 0),
    tile(ov.counters.licences.issued ?? 0, `licences issued (${ov.counters.licences.denied ?? 0} denied)`),
    tile(ov.counters.playbackStarts['stream_limit'] ?? 0, 'starts refused: stream limit'),
  );

  // sites
  $('sites').tBodies[0].replaceChildren(...fill.sites.map((s) => {
    const members = ov.appliances.filter((a) => a.siteId === s.siteId);
    const w = s.windowState;
    const win = `${s.window.start}–${s.window.end} ${s.window.timeZone}`;
    return el('tr', {},
      td(el('b', {}, s.siteId)), td(s.kind), td(s.region),
      td(win, ' ', w.open ? badge(w.forced ? 'open (forced)' : 'open', 'open') : badge('closed', 'idle'),
        w.open ? '' : el('span', { class: 'muted' }, ` opens ${new Date(w.opensAt).toLocaleTimeString()}`)),
      td(s.fillNowUntil ? `until ${new Date(s.fillNowUntil).toLocaleTimeString()}` : '–'),
      num(s.rateLimitBps ? mbps(s.rateLimitBps) : 'no limit'),
      num(members.length),
      td(...members.map((a) => badge(a.state))),
    );
  }));

  // appliances
  $('appliances').tBodies[0].replaceChildren(...ov.appliances.map((a) => {
    const f = fillById.get(a.applianceId);
    const bgp = a.bgp.length
      ? a.bgp.map((b) => el('div', { class: 'mono' }, `${b.peer} `, badge(b.state, b.state === 'Established' ? 'ok' : 'bad'), b.prefixes !== undefined ? ` ${b.prefixes}` : ''))
      : el('span', { class: 'muted' }, 'no session');
    // a few prefixes are listed; a full table folds away behind its count
    const prefixes = a.prefixCount === 0
      ? el('span', { class: 'muted' }, 'none')
      : a.prefixCount <= 4
        ? el('div', { class: 'mono' }, a.prefixes.join(' '))
        : el('details', {}, el('summary', {}, `${a.prefixCount} prefixes`),
          el('div', { class: 'mono' }, a.prefixes.join(' '), a.prefixCount > a.prefixes.length ? ` … ${a.prefixCount - a.prefixes.length} more` : ''));
    let fillCell = el('span', { class: 'muted' }, 'not planned');
    if (f && f.planned) {
      const share = f.plannedFiles ? f.heldFiles / f.plannedFiles : 1;
      const bar = el('div', { class: 'bar', title: `${mb(f.heldBytes)} of ${mb(f.plannedBytes)} MB` }, el('i'));
      bar.firstChild.style.width = pct(share);
      const rep = f.report;
      fillCell = el('div', {}, bar,
        el('span', { class: 'muted' }, `${f.heldFiles}/${f.plannedFiles} files, ${mb(f.heldBytes)}/${mb(f.plannedBytes)} MB`,
          f.window.open ? (rep?.active ? ' · filling' : ' · window open') : ' · window closed'),
        rep?.blocked ? [' ', badge(`blocked: ${rep.blocked}`, 'bad')] : '');
    }
    const health = a.health?.reasons?.length ? el('div', { class: 'muted' }, a.health.reasons.join('; ')) : '';
    return el('tr', {},
      td(el('b', {}, a.name), el('div', { class: 'mono muted' }, a.applianceId), el('div', { class: 'mono muted' }, a.publicUrl)),
      td(a.siteId, el('div', { class: 'muted' }, a.siteKind)),
      td(badge(a.state), a.operatorDrain ? [' ', badge('operator drain', 'draining')] : '', health),
      td(bgp), el('td', { class: 'wrap' }, prefixes),
      num(mbps(a.load.egressBps), el('div', { class: 'muted' }, `of ${mbps(a.load.capacityBps)}`)),
      num(pct(a.load.cpu)), num(a.files), td(fillCell), num(ago(a.lastReportAt, now)),
    );
  }));

  // sessions
  const name = (id) => (id ? byId.get(id)?.name ?? id : 'origin');
  $('sessions').tBodies[0].replaceChildren(...(ov.sessions.list.length ? ov.sessions.list.map((s) => el('tr', {},
    td(el('span', { class: 'mono' }, s.sessionId)), td(s.device), td(el('span', { class: 'mono' }, s.accountId)), td(s.titleId), td(s.clientIp),
    td(s.targets.map((t, i) => el('span', {}, i ? ' → ' : '', i === 0 ? el('b', {}, name(t.applianceId)) : name(t.applianceId)))),
    num(secs(s.positionMs)), num(s.bitrateKbps ? `${s.bitrateKbps} kb/s` : '–'), num(secs(s.bufferMs)), num(ago(s.startedAt, now)), num(ago(s.lastHeartbeatAt, now)),
  )) : [el('tr', {}, el('td', { colspan: 11, class: 'muted' }, 'nobody is watching'))]));

  // titles
  $('titles').tBodies[0].replaceChildren(...ov.titles.map((t) => el('tr', {},
    td(el('span', { class: 'mono' }, t.titleId)), td(t.name), num(t.files), num(mb(t.bytes)), td(t.regions.length ? t.regions.join(', ') : 'all'),
    el('td', { class: 'wrap' }, t.placed.length
      ? t.placed.map((p) => {
        // a copy on a box steering cannot use now (stale, failing, draining) is shown as such
        const st = byId.get(p.applianceId)?.state ?? 'unknown';
        const usable = st === 'healthy' || st === 'overloaded';
        return el('span', { class: `placed${p.complete && usable ? '' : ' partial'}`, title: `${p.siteId}, ${st}` },
          `${name(p.applianceId)} ${p.complete ? '✓' : `${p.filesHeld}/${t.files}`}${usable ? '' : ` (${st})`}`);
      })
      : el('span', { class: 'muted' }, 'nowhere yet (origin only)')),
  )));

  // fill plan and bad sources
  const p = fill.plan;
  $('fill-plan').textContent = p
    ? `last plan #${p.id} (${p.trigger}) ${ago(p.at, now)}: ${p.titles} title${p.titles === 1 ? '' : 's'}; placed in ${p.stats.sites} site${p.stats.sites === 1 ? '' : 's'} ${p.stats.titlesPlaced} times (${p.stats.titlesUnplaced} left out), ${p.stats.copies} file copies, ${mb(p.stats.plannedBytes)} MB planned, ${mb(p.stats.addBytes)} MB to add; took ${p.durationMs} ms`
    : 'the planner has not run yet';
  $('bad-sources').tBodies[0].replaceChildren(...(fill.badSources.length ? fill.badSources.map((b) => el('tr', {},
    td(el('span', { class: 'mono' }, b.sourceId)), td(el('span', { class: 'mono' }, b.fileId)), td(b.reason), td(name(b.reportedBy)),
  )) : [el('tr', {}, el('td', { colspan: 4, class: 'muted' }, 'no bad sources'))]));
}

function stopRefresh() {
  clearInterval(timer);
  timer = null;
}

function open(t) {
  token = t;
  sessionStorage.setItem('edgebox.operator', t);
  $('signin').classList.add('hidden');
  $('board').classList.remove('hidden');
  stopRefresh();
  timer = setInterval(refresh, REFRESH_MS);
  return refresh();
}

function showSignIn(message) {
  $('board').classList.add('hidden');
  $('signin').classList.remove('hidden');
  $('signin-error').textContent = message;
}

$('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  void open($('operator-token').value.trim());
});

window.edgeboxStatus = { refresh, last: () => last };

const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get('token')) {
  history.replaceState(null, '', location.pathname + location.search);
  void open(hash.get('token'));
} else if (sessionStorage.getItem('edgebox.operator')) {
  void open(sessionStorage.getItem('edgebox.operator'));
} else {
  showSignIn('');
}
