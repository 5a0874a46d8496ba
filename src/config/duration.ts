/**
 * Durations as ContainerPilot read them: Go's `time.ParseDuration` grammar
 * (`"1.5s"`, `"300ms"`, `"1h2m"`, `"0"`), and bare integers — a number or a
 * numeric string — meaning seconds, which ContainerPilot accepted for every
 * duration field (`interval: 5`, `ttl: "10"`). Results are milliseconds and may be
 * fractional (ns/µs precision is kept).
 */

export type DurationResult = { ok: true; ms: number } | { ok: false; reason: string };

const NS_PER_MS = 1_000_000;

/** Nanoseconds per unit, exactly Go's unit table (both micro signs are accepted). */
const UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1_000,
  µs: 1_000, // U+00B5 MICRO SIGN
  μs: 1_000, // U+03BC GREEK SMALL LETTER MU
  ms: 1_000_000,
  s: 1_000_000_000,
  m: 60_000_000_000,
  h: 3_600_000_000_000,
};

/** Go's Duration is an int64 of nanoseconds. */
const MAX_NS = (1n << 63n) - 1n;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Parses a Go duration string. Mirrors Go's grammar `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`
 * with its special case `"0"`, its unit table and its int64 overflow limit, so a
 * string ContainerPilot rejected is rejected here and vice versa.
 */
export function parseGoDuration(input: string): DurationResult {
  const invalid = (why: string): DurationResult => ({ ok: false, reason: why });
  let s = input;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, ms: 0 };
  if (s === '') return invalid('not a duration');

  let total = 0n;
  let i = 0;
  while (i < s.length) {
    if (!(s[i] === '.' || isDigit(s[i]))) return invalid('not a duration');
    const intStart = i;
    while (isDigit(s[i])) i++;
    const intDigits = s.slice(intStart, i);
    let fracDigits = '';
    if (s[i] === '.') {
      i++;
      const fracStart = i;
      while (isDigit(s[i])) i++;
      fracDigits = s.slice(fracStart, i);
    }
    if (intDigits === '' && fracDigits === '') return invalid('not a duration');
    // Go takes every character up to the next digit or '.' as the unit.
    const unitStart = i;
    while (i < s.length && s[i] !== '.' && !isDigit(s[i])) i++;
    const unit = s.slice(unitStart, i);
    if (unit === '') return invalid('missing unit (use one of ns, us, ms, s, m, h)');
    // hasOwn: a unit spelled `constructor` must not find Object.prototype's.
    const perUnit = Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined;
    if (perUnit === undefined) return invalid(`unknown unit "${unit}" (use one of ns, us, ms, s, m, h)`);

    const whole = intDigits === '' ? 0n : BigInt(intDigits);
    let ns = whole * BigInt(perUnit);
    if (ns > MAX_NS + 1n) return invalid('too large');
    if (fracDigits !== '') {
      // Go accumulates at most ~18 fraction digits and scales in float64; so do we.
      const kept = fracDigits.slice(0, 18);
      const f = Number(kept);
      const scale = 10 ** kept.length;
      ns += BigInt(Math.trunc(f * (perUnit / scale)));
    }
    total += ns;
    if (total > MAX_NS + 1n) return invalid('too large');
  }
  if (!neg && total > MAX_NS) return invalid('too large');
  const ms = Number(total) / NS_PER_MS;
  return { ok: true, ms: neg ? -ms : ms };
}

/** Go's strconv.Atoi: optional sign, decimal digits only. */
const ATOI = /^[+-]?[0-9]+$/;

/** Largest number of seconds that still fits Go's int64 nanoseconds. */
const MAX_SECONDS = Number(MAX_NS / 1_000_000_000n);

function fromSeconds(n: number): DurationResult {
  if (Math.abs(n) > MAX_SECONDS) return { ok: false, reason: 'too large' };
  return { ok: true, ms: n * 1000 };
}

/**
 * A duration field's value: a Go duration string, or an integer (number or
 * numeric string) of seconds. Fractional bare numbers are refused, as in
 * ContainerPilot, because `1.5` is ambiguous where `"1.5s"` is not.
 */
export function parseDuration(value: unknown): DurationResult {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, reason: 'not a finite number' };
    if (!Number.isInteger(value)) return { ok: false, reason: 'a bare number must be a whole number of seconds' };
    return fromSeconds(value);
  }
  if (typeof value === 'string') {
    if (ATOI.test(value)) return fromSeconds(Number(value));
    return parseGoDuration(value);
  }
  return { ok: false, reason: 'not a duration' };
}

/** Human form of a millisecond value for messages (`1500` → `"1.5s"`). */
export function formatMs(ms: number): string {
  if (ms !== 0 && Math.abs(ms) < 1) return `${+(ms * 1000).toPrecision(6)}µs`;
  if (Math.abs(ms) < 1000) return `${+ms.toPrecision(6)}ms`;
  return `${+(ms / 1000).toPrecision(6)}s`;
}
