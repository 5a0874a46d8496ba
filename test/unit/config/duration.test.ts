import { describe, expect, it } from 'vitest';
import { formatMs, parseDuration, parseGoDuration } from '../../../src/config/duration.js';

describe('parseGoDuration (Go time.ParseDuration grammar)', () => {
  const valid: [string, number][] = [
    ['0', 0],
    ['+0', 0],
    ['-0', -0],
    ['1.5s', 1500],
    ['300ms', 300],
    ['1h2m', 3_720_000],
    ['1h2m3.5s', 3_723_500],
    ['2h45m', 9_900_000],
    ['.5s', 500],
    ['5.s', 5000],
    ['1ns', 1e-6],
    ['1us', 0.001],
    ['1µs', 0.001], // U+00B5
    ['1μs', 0.001], // U+03BC
    ['1.5ms', 1.5],
    ['10m', 600_000],
    ['0s', 0],
    ['0.0001s', 0.1],
    ['-1s', -1000],
    ['+2m', 120_000],
    ['1s500ms', 1500],
    ['9223372036854775807ns', 9223372036854.775],
    ['-9223372036854775808ns', -9223372036854.775],
  ];
  it.each(valid)('%s → %s ms', (s, ms) => {
    const r = parseGoDuration(s);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.ms).toBeCloseTo(ms, 6);
  });

  const invalid: [string, RegExp][] = [
    ['', /not a duration/],
    ['s', /not a duration/],
    ['.s', /not a duration/],
    ['-', /not a duration/],
    ['1', /missing unit/],
    ['1.5', /missing unit/],
    ['1x', /unknown unit "x"/],
    ['5S', /unknown unit "S"/],
    ['1 s', /unknown unit " s"/],
    [' 1s', /not a duration/],
    ['1h-2m', /unknown unit "h-"/],
    ['five', /not a duration/],
    ['1d', /unknown unit "d"/],
    ['9223372036854775808ns', /too large/],
    ['2562048h', /too large/],
    ['99999999999999999999s', /too large/],
  ];
  it.each(invalid)('%j is refused (%s)', (s, why) => {
    const r = parseGoDuration(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });
});

describe('parseDuration (durations and bare seconds)', () => {
  const valid: [unknown, number][] = [
    [5, 5000],
    [0, 0],
    ['5', 5000],
    ['+5', 5000],
    ['007', 7000],
    ['-5', -5000],
    [1e3, 1_000_000],
    ['1.5s', 1500],
    [9223372036, 9223372036000],
  ];
  it.each(valid)('%j → %s ms', (v, ms) => {
    expect(parseDuration(v)).toEqual({ ok: true, ms });
  });

  const invalid: [unknown, RegExp][] = [
    [1.5, /whole number of seconds/],
    ['1.5', /missing unit/],
    [NaN, /finite/],
    [Infinity, /finite/],
    [9223372037, /too large/],
    [true, /not a duration/],
    [null, /not a duration/],
    [[5], /not a duration/],
    [{}, /not a duration/],
  ];
  it.each(invalid)('%j is refused', (v, why) => {
    const r = parseDuration(v);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(why);
  });
});

describe('formatMs', () => {
  it.each([
    [1, '1ms'],
    [1500, '1.5s'],
    [0.001, '1µs'],
    [0, '0ms'],
    [60000, '60s'],
  ])('%s → %s', (ms, s) => expect(formatMs(ms)).toBe(s));
});

describe('units are looked up safely', () => {
  it.each(['1constructor', '1__proto__', '1toString', '1hasOwnProperty'])('%s is an unknown unit', (s) => {
    const r = parseGoDuration(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^unknown unit/);
  });
});
