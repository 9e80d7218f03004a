// Is a site's fill window open? Control and the appliance both ask, so the answer is computed
// one way, here, from the site's IANA time zone and its local "HH:MM" start and end (Open
// Connect's default is 02:00–14:00 local). Pure: the caller passes the clock.
//
// A window whose end is at or before its start wraps past midnight (22:00–06:00); start equal
// to end is open all day. opensAt/closesAt are computed from the local time now plus the minutes
// to the boundary, so across a DST change they can be off by the shift for that one night.

import type { FillWindow } from './fill-manifest.ts';

const MINUTES_PER_DAY = 1440;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the runtime knows this IANA time zone. */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

function hhmm(s: string): number {
  return Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
}

/** Minutes since local midnight (with the seconds as a fraction) in `timeZone` at `nowMs`. */
export function localMinutes(timeZone: string, nowMs: number): number {
  let h = 0, m = 0, s = 0;
  for (const p of formatter(timeZone).formatToParts(nowMs)) {
    if (p.type === 'hour') h = Number(p.value);
    else if (p.type === 'minute') m = Number(p.value);
    else if (p.type === 'second') s = Number(p.value);
  }
  return h * 60 + m + s / 60 + (nowMs % 1000) / 60_000;
}

export interface FillWindowState {
  /** filling may run now (inside the window, or forced by the operator) */
  open: boolean;
  /** open only because the operator forced it */
  forced: boolean;
  /** epoch ms of the next window start while closed; null while open */
  opensAt: number | null;
  /** epoch ms of the window's end while open; null when it never closes (all-day window) */
  closesAt: number | null;
}

export function fillWindowState(w: FillWindow, nowMs: number, fillNowUntil: number | null = null): FillWindowState {
  const start = hhmm(w.start);
  const end = hhmm(w.end);
  const now = localMinutes(w.timeZone, nowMs);
  const allDay = start === end;
  const inside = allDay || (start < end ? now >= start && now < end : now >= start || now < end);
  const until = (target: number) => nowMs + Math.round((((target - now) % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY * 60_000);
  if (inside) return { open: true, forced: false, opensAt: null, closesAt: allDay ? null : until(end) };
  if (fillNowUntil !== null && fillNowUntil > nowMs) return { open: true, forced: true, opensAt: null, closesAt: fillNowUntil };
  return { open: false, forced: false, opensAt: until(start), closesAt: null };
}
