/**
 * Pure formatting helpers shared by the pino renderer (logger.ts) and the job-output fast
 * path (line-format.ts): the RFC 3339 timestamp and logfmt quoting.
 */

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

let minuteStart = 0;
let minuteEnd = -1;
let minutePrefix = '';
let zone = '';
let cachedMs = -1;
let cachedStamp = '';

function enterMinute(ms: number): void {
  const d = new Date(ms);
  minuteStart = ms - d.getSeconds() * 1000 - d.getMilliseconds();
  minuteEnd = minuteStart + 60_000;
  let y = String(d.getFullYear());
  while (y.length < 4) y = '0' + y;
  minutePrefix = `${y}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:`;
  const east = -d.getTimezoneOffset();
  if (east === 0) {
    zone = 'Z';
  } else {
    const abs = Math.abs(east);
    zone = (east > 0 ? '+' : '-') + pad2(Math.floor(abs / 60)) + ':' + pad2(abs % 60);
  }
}

/**
 * RFC 3339 local time with milliseconds and the zone offset (`Z` in UTC), e.g.
 * `2024-05-01T12:34:56.789Z` or `2024-05-01T14:34:56.789+02:00`.
 * Cached per millisecond and per minute: the hot path calls it once per chunk.
 */
export function rfc3339(ms: number): string {
  if (ms === cachedMs) return cachedStamp;
  ms = Math.floor(ms);
  // The offset can change only at a minute boundary (DST), so it is part of the minute cache.
  if (ms < minuteStart || ms >= minuteEnd) enterMinute(ms);
  const inMinute = ms - minuteStart;
  const s = Math.floor(inMinute / 1000);
  const milli = inMinute - s * 1000;
  cachedStamp = minutePrefix + pad2(s) + '.' + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + zone;
  cachedMs = ms;
  return cachedStamp;
}

// logfmt: a value is quoted when it is empty or holds whitespace, a quote, '=' or a backslash
// or any control character.
const NEEDS_QUOTE = /[\s"=\\\x00-\x1f\x7f]/;
const TO_ESCAPE = /[\\"\x00-\x1f\x7f]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case '"':
      return '\\"';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
  }
}

/** `"…"` with `\\`, `\"` and control characters escaped (as JSON escapes them). */
export function quote(s: string): string {
  return '"' + s.replace(TO_ESCAPE, escapeChar) + '"';
}

/** A logfmt value: bare when safe, else quoted. */
export function logfmtValue(s: string): string {
  return s === '' || NEEDS_QUOTE.test(s) ? quote(s) : s;
}
