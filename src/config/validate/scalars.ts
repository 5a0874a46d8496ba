/**
 * Readers for the leaf values of the configuration. Where ContainerPilot's
 * weakly-typed decoder accepted a string for a number or a boolean (`port: "80"`,
 * `ttl: "10"`, `raw: "true"`), so do these: templated configs often quote values.
 */
import { formatMs, parseDuration, parseGoDuration } from '../duration.js';
import { nearest } from '../errors.js';
import { DEFAULT_INTERFACES, parseInterfaceSpec } from '../interfaces.js';
import { describe, type Reader } from './core.js';

export function str(opts: { nonEmpty?: boolean } = {}): Reader<string> {
  return (v, at) => {
    if (typeof v !== 'string') {
      at.expected('a string', v);
      return undefined;
    }
    if (opts.nonEmpty && v.trim() === '') {
      at.expected('a non-empty string', v);
      return undefined;
    }
    return v;
  };
}

/** Go's strconv.ParseBool spellings, which ContainerPilot accepted in strings. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export const bool: Reader<boolean> = (v, at) => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
  }
  at.expected('true or false', v);
  return undefined;
};

const INT_STRING = /^[+-]?[0-9]+$/;

/** An integer, as a number or a numeric string, within [min, max]. */
export function int(opts: { min?: number; max?: number; what?: string } = {}): Reader<number> {
  const { min = -Infinity, max = Infinity } = opts;
  const what =
    opts.what ??
    (min === -Infinity ? 'an integer' : max === Infinity ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`);
  return (v, at) => {
    let n: number | undefined;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && INT_STRING.test(v.trim())) n = Number(v.trim());
    if (n === undefined || !Number.isSafeInteger(n) || n < min || n > max) {
      at.expected(what, v);
      return undefined;
    }
    return n;
  };
}

export const DURATION_EXPECTED = 'a duration like "5s" or "300ms", or a whole number of seconds';

/**
 * The longest duration any field takes: 10 years. Every wait works up to there (long ones are
 * chained timers, see events/long-timer.ts); anything longer than a host stays up is a slip
 * (a wrong unit, or Go's max int64 as a "forever" sentinel), so it is refused with the field
 * named rather than read as a wait nobody will see end.
 */
export const MAX_DURATION_MS = 10 * 365 * 24 * 3_600_000;
const MAX_DURATION_TEXT = '87600h (10 years)';

/** A duration in ms, at least `minMs` and at most MAX_DURATION_MS. Durations are never negative in this config. */
export function duration(opts: { minMs?: number } = {}): Reader<number> {
  const minMs = opts.minMs ?? 0;
  return (v, at) => {
    const r = parseDuration(v);
    if (!r.ok) {
      const why =
        (typeof v === 'string' || typeof v === 'number') && r.reason !== 'not a duration' ? ` (${r.reason})` : '';
      at.error(`expected ${DURATION_EXPECTED}, got ${describe(v)}${why}`, { expected: DURATION_EXPECTED });
      return undefined;
    }
    if (r.ms > MAX_DURATION_MS) {
      at.error(`must be at most ${MAX_DURATION_TEXT}, got ${describe(v)}`, {
        expected: `a duration ≤ ${MAX_DURATION_TEXT}`,
      });
      return undefined;
    }
    if (r.ms < minMs) {
      const bound = minMs === 0 ? 'must not be negative' : `must be at least ${formatMs(minMs)}`;
      at.error(`${bound}, got ${describe(v)}`, {
        expected: minMs === 0 ? 'a duration ≥ 0' : `a duration ≥ ${formatMs(minMs)}`,
      });
      return undefined;
    }
    return r.ms;
  };
}

/** A Go duration string kept as written (it is handed to Consul, which parses it the same way). */
export const goDurationString: Reader<string> = (v, at) => {
  const what = 'a duration string like "10m" or "90s"';
  if (typeof v !== 'string') {
    at.expected(what, v);
    return undefined;
  }
  const r = parseGoDuration(v);
  if (!r.ok) {
    at.error(`expected ${what}, got ${describe(v)} (${r.reason})`, { expected: what });
    return undefined;
  }
  if (r.ms < 0) {
    at.error(`must not be negative, got ${describe(v)}`, { expected: what });
    return undefined;
  }
  if (r.ms > MAX_DURATION_MS) {
    at.error(`must be at most ${MAX_DURATION_TEXT}, got ${describe(v)}`, { expected: what });
    return undefined;
  }
  return v;
};

/**
 * One of a fixed set of words. With `foldCase` any case is accepted and the
 * canonical spelling returned; `aliases` map extra spellings to canonical ones.
 */
export function oneOf<T extends string>(
  values: readonly T[],
  opts: { foldCase?: boolean; aliases?: Readonly<Record<string, T>> } = {},
): Reader<T> {
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return (v, at) => {
    if (typeof v === 'string') {
      const key = opts.foldCase ? v.toLowerCase() : v;
      for (const x of values) if ((opts.foldCase ? x.toLowerCase() : x) === key) return x;
      const alias = opts.aliases && Object.hasOwn(opts.aliases, key) ? opts.aliases[key] : undefined;
      if (alias !== undefined) return alias;
      const suggestion = nearest(v, values);
      at.error(
        `expected ${expected}, got ${describe(v)}${suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ''}`,
        { expected, ...(suggestion ? { suggestion } : {}) },
      );
      return undefined;
    }
    at.expected(expected, v);
    return undefined;
  };
}

/** A list of strings; with `single`, one bare string means a list of one (ContainerPilot's decoder did that). */
export function strings(opts: { single?: boolean; nonEmptyItems?: boolean } = {}): Reader<string[]> {
  const what = opts.single ? 'a string or an array of strings' : 'an array of strings';
  return (v, at) => {
    if (typeof v === 'string' && opts.single) {
      if (opts.nonEmptyItems && v.trim() === '') {
        at.expected('a non-empty string', v);
        return undefined;
      }
      return [v];
    }
    if (!Array.isArray(v)) {
      at.expected(what, v);
      return undefined;
    }
    const out: string[] = [];
    let ok = true;
    v.forEach((item, i) => {
      if (typeof item !== 'string' || (opts.nonEmptyItems && item.trim() === '')) {
        at.child(i).expected(opts.nonEmptyItems ? 'a non-empty string' : 'a string', item);
        ok = false;
      } else {
        out.push(item);
      }
    });
    return ok ? out : undefined;
  };
}

/**
 * A command: a string split on white space, or an array of arguments. No shell
 * is involved, as in ContainerPilot. Array items may be numbers or booleans,
 * which ContainerPilot turned into their text (`["sleep", 5]`).
 */
export const exec: Reader<string[]> = (v, at) => {
  const what = 'a command string or a non-empty array of arguments';
  if (typeof v === 'string') {
    const argv = v.trim() === '' ? [] : v.trim().split(/\s+/);
    if (argv.length === 0) {
      at.error(`expected ${what}, got an empty string`, { expected: what });
      return undefined;
    }
    return argv;
  }
  if (!Array.isArray(v)) {
    at.expected(what, v);
    return undefined;
  }
  if (v.length === 0) {
    at.error(`expected ${what}, got an empty array`, { expected: what });
    return undefined;
  }
  const argv: string[] = [];
  let ok = true;
  v.forEach((item, i) => {
    if (typeof item === 'string') argv.push(item);
    else if ((typeof item === 'number' && Number.isFinite(item)) || typeof item === 'boolean') argv.push(String(item));
    else {
      at.child(i).expected('a string', item);
      ok = false;
    }
  });
  if (ok && argv[0].trim() === '') {
    at.child(0).error('the executable (first argument) must not be empty', { expected: 'a program name or path' });
    return undefined;
  }
  return ok ? argv : undefined;
};

/** Interface specs, one string or a list, each checked for syntax (§6.1). */
export const interfaces: Reader<string[]> = (v, at) => {
  const list = strings({ single: true })(v, at);
  if (list === undefined) return undefined;
  // An empty list meant "the default" to ContainerPilot.
  if (list.length === 0) return [...DEFAULT_INTERFACES];
  let ok = true;
  list.forEach((spec, i) => {
    const r = parseInterfaceSpec(spec);
    if (!r.ok) {
      (typeof v === 'string' ? at : at.child(i)).error(`${JSON.stringify(spec)}: ${r.reason}`, {
        expected: 'an interface spec',
      });
      ok = false;
    }
  });
  return ok ? list : undefined;
};

/** A job's or watch's `override` in a later layer (src/config/layers.ts); in one file it has no effect. */
export const LAYER_OVERRIDES = ['merge', 'replace', 'remove'] as const;
export const layerOverride: Reader<(typeof LAYER_OVERRIDES)[number]> = oneOf(LAYER_OVERRIDES);
