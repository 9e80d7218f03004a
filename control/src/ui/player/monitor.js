// What the viewer experienced, measured in the page: the time from pressing play to the first
// decoded frame on screen (requestVideoFrameCallback), and stalls — every stretch in which
// currentTime did not advance although the video was neither paused nor ended, from its last
// advance to its next one (sampled every 20 ms; gaps under 200 ms are frame jitter, not stalls).

const SAMPLE_MS = 20;
const STALL_MIN_MS = 200;

export function watchPlayback(video, t0) {
  const m = { t0, firstFrameAt: null, lastT: null, lastAdvanceAt: null, stallFrom: null, stalls: [] };
  const onFrame = (now) => { m.firstFrameAt ??= now; };
  if (typeof video.requestVideoFrameCallback === 'function') video.requestVideoFrameCallback(onFrame);
  else video.addEventListener('playing', () => onFrame(performance.now()), { once: true });

  const timer = setInterval(() => {
    const now = performance.now();
    const t = video.currentTime;
    if (m.lastT === null || t > m.lastT + 0.0005 || t < m.lastT - 0.5) {
      if (m.stallFrom !== null && now - m.stallFrom >= STALL_MIN_MS) {
        m.stalls.push({ at: m.stallFrom, ms: Math.round(now - m.stallFrom), position: m.lastT });
      }
      m.stallFrom = null;
      // stalls count from the first frame on: the start (and a resume seek) is first-frame time
      if (m.firstFrameAt !== null) m.lastAdvanceAt = now;
      m.lastT = t;
    } else if (m.lastAdvanceAt !== null && !video.paused && !video.ended && m.stallFrom === null) {
      m.stallFrom = m.lastAdvanceAt;
    }
  }, SAMPLE_MS);

  return {
    stop: () => clearInterval(timer),
    /** {firstFrameMs, stalls: [{at (performance.now() ms), ms, position, ongoing?}], stalledMs} */
    report() {
      const now = performance.now();
      const stalls = [...m.stalls];
      if (m.stallFrom !== null && now - m.stallFrom >= STALL_MIN_MS) stalls.push({ at: m.stallFrom, ms: Math.round(now - m.stallFrom), position: m.lastT, ongoing: true });
      return {
        firstFrameMs: m.firstFrameAt === null ? null : Math.round(m.firstFrameAt - m.t0),
        stalls,
        stalledMs: stalls.reduce((n, s) => n + s.ms, 0),
      };
    },
  };
}
