// Every HTTP request the page makes, seen from inside the page: fetch and XMLHttpRequest are
// wrapped before any player script loads, so shaka-player (fetch), dash.js and hls.js (XHR) all
// report the same way. A record: {id, url, method, range, status (0 = network error), bytes,
// start, end (performance.now()), error}. Listeners get ('start' | 'end', record).

const listeners = new Set();
let nextId = 1;

export function onRequest(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(phase, rec) {
  for (const fn of listeners) {
    try { fn(phase, rec); } catch (e) { console.error('net-log listener', e); }
  }
}

function absolute(url) {
  try { return new URL(url, location.href).href; } catch { return String(url); }
}

function rangeOf(headers) {
  if (!headers) return null;
  if (headers instanceof Headers) return headers.get('range');
  if (Array.isArray(headers)) return headers.find(([k]) => k.toLowerCase() === 'range')?.[1] ?? null;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === 'range') return v;
  return null;
}

const pageFetch = window.fetch.bind(window);
window.fetch = async function loggedFetch(input, init) {
  const isRequest = typeof Request !== 'undefined' && input instanceof Request;
  const rec = {
    id: nextId++, url: absolute(isRequest ? input.url : input), method: (init?.method ?? (isRequest ? input.method : 'GET')).toUpperCase(),
    range: rangeOf(init?.headers) ?? (isRequest ? input.headers.get('range') : null), status: 0, bytes: 0, start: performance.now(), end: null, error: null,
  };
  emit('start', rec);
  try {
    const res = await pageFetch(input, init);
    rec.status = res.status;
    rec.bytes = Number(res.headers.get('content-length')) || 0;
    rec.end = performance.now();
    emit('end', rec);
    return res;
  } catch (e) {
    if (e?.name === 'AbortError') rec.error = 'aborted';
    else rec.error = String(e?.message ?? e);
    rec.end = performance.now();
    emit('end', rec);
    throw e;
  }
};

const X = XMLHttpRequest.prototype;
const xOpen = X.open, xSend = X.send, xHeader = X.setRequestHeader;
X.open = function open(method, url, ...rest) {
  this.__edgebox = { id: 0, url: absolute(url), method: String(method).toUpperCase(), range: null, status: 0, bytes: 0, start: 0, end: null, error: null };
  return xOpen.call(this, method, url, ...rest);
};
X.setRequestHeader = function setRequestHeader(name, value) {
  if (this.__edgebox && String(name).toLowerCase() === 'range') this.__edgebox.range = value;
  return xHeader.call(this, name, value);
};
X.send = function send(body) {
  const rec = this.__edgebox;
  if (rec) {
    rec.id = nextId++;
    rec.start = performance.now();
    emit('start', rec);
    this.addEventListener('loadend', () => {
      rec.status = this.status;
      if (this.status === 0) rec.error = rec.error ?? 'network error';
      const r = this.responseType === 'arraybuffer' || this.responseType === 'blob' ? this.response : null;
      rec.bytes = r?.byteLength ?? r?.size ?? (Number(this.getResponseHeader('content-length')) || 0);
      rec.end = performance.now();
      emit('end', rec);
    });
    this.addEventListener('abort', () => { rec.error = 'aborted'; });
    this.addEventListener('timeout', () => { rec.error = 'timeout'; });
  }
  return xSend.call(this, body);
};
