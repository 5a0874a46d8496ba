/**
 * pidpilot's JSON5 parser (src/config/json5.ts) against the json5 package as the oracle: the
 * same value for every text json5 accepts (generated values written every way JSON5 allows),
 * and the same rejection — words, line and column — for what it rejects (generated mutations
 * of valid texts, and a table of known invalid inputs).
 */
import fc from 'fast-check';
import JSON5 from 'json5';
import { isIdContinueChar, isIdStartChar } from 'json5/lib/util.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_DEPTH, parseJson5Text } from '../../../src/config/json5.js';
import { isIdChar, Json5SyntaxError } from '../../../src/config/json5-chars.js';

/** A text form of a value that tells apart all that JSON5 can: key order, -0, NaN, ±Infinity, own `__proto__`, prototypes. */
function canon(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    if (Object.getPrototypeOf(v) !== Object.prototype) return '<not a plain object>';
    const desc = Object.getOwnPropertyDescriptors(v);
    return `{${Object.keys(desc)
      .map(
        (k) =>
          `${JSON.stringify(k)}:${desc[k]!.enumerable && desc[k]!.writable ? '' : '<odd>'}${canon(desc[k]!.value)}`,
      )
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

type Outcome = { value: string } | { error: string };

function ours(text: string): Outcome {
  try {
    return { value: canon(parseJson5Text(text)) };
  } catch (err) {
    if (!(err instanceof Json5SyntaxError)) throw err;
    return { error: err.message };
  }
}

/**
 * The one documented difference (json5.ts): json5 2.2 tells identifier characters by its own
 * Unicode 10 tables, this parser by the running Node's Unicode. A text holding a character the
 * two classify differently is not compared (a mutation can make any string an identifier).
 */
function sameUnicode(text: string): boolean {
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp < 0x80) continue;
    if (isIdChar(cp, true) !== isIdStartChar(c) || isIdChar(cp, false) !== isIdContinueChar(c)) return false;
  }
  return true;
}

function oracle(text: string): Outcome {
  try {
    return { value: canon(JSON5.parse(text)) };
  } catch (err) {
    return { error: String((err as Error).message).replace(/^JSON5: /, '') };
  }
}

// json5 warns on the console of every raw U+2028/U+2029 in a string; the generated texts hold many.
beforeAll(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterAll(() => {
  vi.restoreAllMocks();
});

// --- writing a value every way JSON5 allows ---------------------------------------------------

/** Formatting choices, drawn in turn from a generated list (so a case replays exactly). */
class Choices {
  private i = 0;
  constructor(private readonly list: readonly number[]) {}
  pick<T>(options: readonly T[]): T {
    const n = this.list[this.i++ % this.list.length]!;
    return options[n % options.length]!;
  }
  chance(oneIn: number): boolean {
    return this.list[this.i++ % this.list.length]! % oneIn === 0;
  }
}

const GAPS = [
  '',
  '',
  ' ',
  '\n',
  '\t',
  '\r\n',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '\u3000',
  '\v\f',
  '// c\n',
  '/* c */',
  '/**/',
  '/* * / */',
  '//\u2029',
  '// x\r',
];

function gap(c: Choices): string {
  return c.chance(2) ? '' : c.pick(GAPS) + (c.chance(3) ? c.pick(GAPS) : '');
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function writeNumber(n: number, c: Choices): string {
  if (Number.isNaN(n)) return c.pick(['NaN', '+NaN', '-NaN']);
  if (n === Infinity) return c.pick(['Infinity', '+Infinity']);
  if (n === -Infinity) return '-Infinity';
  if (Object.is(n, -0)) return c.pick(['-0', '-0x0', '-0.0', '-.0e1', '-0e-5', '-0.']);
  const sign = n < 0 ? '-' : c.pick(['', '', '+']);
  const a = Math.abs(n);
  if (Number.isSafeInteger(a) && c.chance(3))
    return `${sign}0${c.pick(['x', 'X'])}${c.pick([a.toString(16), a.toString(16).toUpperCase()])}`;
  let s = String(a);
  if (s.startsWith('0.') && c.chance(2)) s = s.slice(1);
  else if (/^\d+$/.test(s) && c.chance(3)) s = `${s}${c.pick(['.', '.0', 'e0', 'E+0'])}`;
  return sign + s;
}

function writeString(s: string, c: Choices): string {
  const q = c.pick(['"', "'"]);
  let out = q;
  const chars = Array.from(s);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const code = ch.codePointAt(0)!;
    if (c.chance(7)) out += c.pick(['\\\n', '\\\r\n', '\\\r', '\\\u2028', '\\\u2029']);
    const nextIsDigit = /[0-9]/.test(chars[i + 1] ?? '');
    const forms: string[] = [];
    if (ch === q || ch === '\\') forms.push(`\\${ch}`);
    else if (ch === '\n') forms.push('\\n', '\\x0a', '\\u000A');
    else if (ch === '\r') forms.push('\\r', '\\x0D', '\\u000d');
    else {
      forms.push(ch, ch);
      if (code < 0x100) forms.push(`\\x${hex(code, 2)}`);
      if (code <= 0xffff) forms.push(`\\u${hex(code, 4)}`);
      else forms.push(Array.from({ length: 2 }, (_, k) => `\\u${hex(ch.charCodeAt(k), 4)}`).join(''));
      if (!/[bfnrtvux0-9\n\r\u2028\u2029]/.test(ch)) forms.push(`\\${ch}`);
      const single: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\t': '\\t', '\v': '\\v' };
      if (single[ch]) forms.push(single[ch]);
      if (ch === '\0' && !nextIsDigit) forms.push('\\0');
    }
    out += c.pick(forms);
  }
  return out + q;
}

/** Identifiers both json5 (Unicode 10) and Node know: ASCII and a few old letters. */
const IDENTIFIER = /^[A-Za-z$_\u00e9\u03c0\u4e2d][A-Za-z0-9$_\u00e9\u03c0\u4e2d\u200c\u200d]*$/;

function writeKey(k: string, c: Choices): string {
  if (!IDENTIFIER.test(k) || c.chance(4)) return writeString(k, c);
  return Array.from(k)
    .map((ch) => (c.chance(5) ? `\\u${hex(ch.charCodeAt(0), 4)}` : ch))
    .join('');
}

function write(v: unknown, c: Choices): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return writeNumber(v, c);
  if (typeof v === 'string') return writeString(v, c);
  const items = Array.isArray(v)
    ? v.map((x) => gap(c) + write(x, c) + gap(c))
    : Object.entries(v as Record<string, unknown>).map(
        ([k, x]) => `${gap(c)}${writeKey(k, c)}${gap(c)}:${gap(c)}${write(x, c)}${gap(c)}`,
      );
  const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
  const trailing = items.length > 0 && c.chance(2) ? `,${gap(c)}` : '';
  return `${open}${items.join(',')}${trailing}${gap(c)}${close}`;
}

const tricky = fc.constantFrom(
  '\\',
  '"',
  "'",
  '\n',
  '\r',
  '\u2028',
  '\u2029',
  '\0',
  '\b',
  '\t',
  '\v',
  'a',
  '1',
  'é',
  '\u{1F600}',
  '\ud800',
  ' ',
  '/',
  '*',
  '__proto__',
);
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(tricky, { maxLength: 8 }).map((a) => a.join('')),
);
const key = fc.oneof(
  text,
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'a',
    '$b',
    '_',
    'é',
    'aπ中',
    'x\u200cy',
    '0',
    '1',
    'null',
    'true',
  ),
  fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$]{0,6}$/),
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 0.5, 1e21, 5e-324, 2 ** 53),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('object')),
  leaf: fc.oneof(fc.constant(null), fc.boolean(), number, text),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((pairs) => {
    // Built with defineProperty, so that `__proto__` is an own member, as in a parsed text.
    const o: Record<string, unknown> = {};
    for (const [k, x] of pairs)
      Object.defineProperty(o, k, { value: x, enumerable: true, writable: true, configurable: true });
    return o;
  }),
}));
const written = fc.tuple(value, fc.array(fc.nat(), { minLength: 1, maxLength: 64 })).map(([v, choices]) => {
  const c = new Choices(choices);
  return gap(c) + write(v, c) + gap(c);
});

describe('json5.ts: the same value as the json5 package', () => {
  it('for generated values written with comments, white space, both quotes, escapes, trailing commas and every number form', () => {
    fc.assert(
      fc.property(written, (t) => {
        const expected = oracle(t);
        // The generator writes only valid JSON5: a rejection is a bug in the generator.
        if ('error' in expected)
          throw new Error(`json5 rejected the generated ${JSON.stringify(t)}: ${expected.error}`);
        expect(ours(t)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['{a:1,}', { a: 1 }],
    ['[1,2,]', [1, 2]],
    ['{\'a\': \'b\', "c": "d"}', { a: 'b', c: 'd' }],
    ['{a: 1, a: 2, b: 3}', { a: 2, b: 3 }],
    [
      '[0x1F, 0XaB, -0x10, +.5, 5., 1e3, -Infinity, +Infinity, 1E-2]',
      [31, 171, -16, 0.5, 5, 1000, -Infinity, Infinity, 0.01],
    ],
    ['"a\\\nb\\\r\nc\\\u2028d"', 'abcd'],
    ["'\\x41\\u00e9\\uD83D\\uDE00\\0\\a\\'\\\"'", 'Aé\u{1F600}\0a\'"'],
    [
      '{\\u0061b\\u0063: 1, $: 2, _x: 3, é\u200c: 4, \u{1D465}: 5}',
      { abc: 1, $: 2, _x: 3, 'é\u200c': 4, '\u{1D465}': 5 },
    ],
    ['\ufeff// only a comment before\n5 /* after */', 5],
    ['"\u2028\u2029"', '\u2028\u2029'],
    ['{"":0}', { '': 0 }],
  ])('%j', (t, expected) => {
    expect(ours(t)).toEqual(oracle(t));
    expect(parseJson5Text(t)).toEqual(expected);
  });

  it('keeps the first place of a repeated name, with the last value, as json5 does', () => {
    expect(Object.keys(parseJson5Text('{b: 1, a: 2, b: 3}') as object)).toEqual(['b', 'a']);
    expect(ours('{b: 1, a: 2, b: 3}')).toEqual(oracle('{b: 1, a: 2, b: 3}'));
  });

  it('makes __proto__ an own member and never touches a prototype', () => {
    for (const t of [
      '{"__proto__": {"polluted": 1}}',
      '{__proto__: {polluted: 1}}',
      '{__proto__: [1]}',
      "{'__proto__': null}",
    ]) {
      const v = parseJson5Text(t) as Record<string, unknown>;
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect(Object.hasOwn(v, '__proto__')).toBe(true);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(ours(t)).toEqual(oracle(t));
    }
  });

  it('makes plain objects and arrays', () => {
    const v = parseJson5Text('{a: {}, b: [{c: 1}]}') as { a: object; b: object[] };
    for (const o of [v, v.a, v.b[0]!]) {
      expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
      expect(o.constructor).toBe(Object);
    }
    expect(Array.isArray(v.b)).toBe(true);
    expect(v).toStrictEqual({ a: {}, b: [{ c: 1 }] });
  });

  it('parses a long array and strings sliced from the text', () => {
    const t = `[${'1,'.repeat(5000)}"${'x'.repeat(100)}", [${'2,'.repeat(3000)}]]`;
    expect(ours(t)).toEqual(oracle(t));
    const long = `{s: "${'a\\n'.repeat(10_000)}"}`;
    expect(ours(long)).toEqual(oracle(long));
  });
});

describe('json5.ts: rejects what json5 rejects, at the same place with the same words', () => {
  const ALPHABET = [
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '"',
    "'",
    '\\',
    '/',
    '*',
    '\n',
    '\r',
    ' ',
    'a',
    '0',
    '9',
    'x',
    'u',
    'e',
    '.',
    '-',
    '+',
    'I',
    'N',
    'n',
    '\u2028',
    '\u{1F600}',
    '\ud800',
    '\0',
  ];
  const mutated = fc
    .tuple(
      written,
      fc.array(
        fc.tuple(fc.constantFrom('insert', 'delete', 'replace', 'cut'), fc.nat(), fc.constantFrom(...ALPHABET)),
        { minLength: 1, maxLength: 3 },
      ),
    )
    .map(([t, edits]) => {
      let s = t;
      for (const [op, at, ch] of edits) {
        const i = s.length === 0 ? 0 : at % (s.length + 1);
        if (op === 'insert') s = s.slice(0, i) + ch + s.slice(i);
        else if (op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
        else if (op === 'replace') s = s.slice(0, i) + ch + s.slice(i + 1);
        else s = s.slice(0, i);
      }
      return s;
    });

  it('on generated mutations of valid texts (both accept alike, or both reject alike)', () => {
    fc.assert(
      fc.property(mutated, (t) => {
        fc.pre(sameUnicode(t));
        expect(ours(t)).toEqual(oracle(t));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ['', 'invalid end of input at 1:1'],
    ['  \n ', 'invalid end of input at 2:2'],
    ['{', 'invalid end of input at 1:2'],
    ['{a', 'invalid end of input at 1:3'],
    ['{a:', 'invalid end of input at 1:4'],
    ['{a:1', 'invalid end of input at 1:5'],
    ['[1', 'invalid end of input at 1:3'],
    ['[1,,]', "invalid character ',' at 1:4"],
    ['[,]', "invalid character ',' at 1:2"],
    ['{,}', "invalid character ',' at 1:2"],
    ['{a b}', "invalid character 'b' at 1:4"],
    ['{1: 2}', "invalid character '1' at 1:2"],
    ['{a-b: 1}', "invalid character '-' at 1:3"],
    ['{\\u0030: 1}', 'invalid identifier character at 1:2'],
    ['{a\\u002d: 1}', 'invalid identifier character at 1:3'],
    ['{a\\x41: 1}', "invalid character 'x' at 1:4"],
    ['[1 2]', "invalid character '2' at 1:4"],
    ['{a:1} x', "invalid character 'x' at 1:7"],
    ['1 2', "invalid character '2' at 1:3"],
    ['nul', 'invalid end of input at 1:4'],
    ['nulL', "invalid character 'L' at 1:4"],
    ['True', "invalid character 'T' at 1:1"],
    ['undefined', "invalid character 'u' at 1:1"],
    ['-', 'invalid end of input at 1:2'],
    ['- 1', "invalid character ' ' at 1:2"],
    ['--1', "invalid character '-' at 1:2"],
    ['-Inf', 'invalid end of input at 1:5'],
    ['0x', 'invalid end of input at 1:3'],
    ['0xg', "invalid character 'g' at 1:3"],
    ['01', "invalid character '1' at 1:2"],
    ['1.2.3', "invalid character '.' at 1:4"],
    ['.', 'invalid end of input at 1:2'],
    ['.e1', "invalid character 'e' at 1:2"],
    ['1e', 'invalid end of input at 1:3'],
    ['1e+', 'invalid end of input at 1:4'],
    ['1ex', "invalid character 'x' at 1:3"],
    ['"abc', 'invalid end of input at 1:5'],
    ['"a\nb"', "invalid character '\\n' at 2:0"],
    ['"a\rb"', "invalid character '\\r' at 1:3"],
    ['"\\1"', "invalid character '1' at 1:3"],
    ['"\\01"', "invalid character '1' at 1:4"],
    ['"\\x4g"', "invalid character 'g' at 1:5"],
    ['"\\u12"', "invalid character '\\\"' at 1:6"],
    ['"\\', 'invalid end of input at 1:3'],
    ['/x', "invalid character 'x' at 1:2"],
    ['/', 'invalid end of input at 1:2'],
    ['/* never closed', 'invalid end of input at 1:16'],
    ['[1] /* never closed', 'invalid end of input at 1:20'],
    ['\u{1F600}', "invalid character '\u{1F600}' at 1:2"],
    ['[\u{1F600}]', "invalid character '\u{1F600}' at 1:3"],
    ['\u0001', "invalid character '\\x01' at 1:1"],
    ['{a:1}}', "invalid character '}' at 1:6"],
    ['[1}', "invalid character '}' at 1:3"],
    ['{a:1]', "invalid character ']' at 1:5"],
  ])('%j', (t, message) => {
    expect(oracle(t)).toEqual({ error: message });
    expect(ours(t)).toEqual({ error: message });
  });
});

describe('json5.ts: nesting', () => {
  const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

  it(`accepts ${MAX_DEPTH} levels of objects and arrays`, () => {
    expect(ours(nest(MAX_DEPTH))).toEqual(oracle(nest(MAX_DEPTH)));
    const objects = `${'{a:'.repeat(MAX_DEPTH - 1)}{}${'}'.repeat(MAX_DEPTH - 1)}`;
    expect(ours(objects)).toEqual(oracle(objects));
  });

  it('refuses one level more, naming the limit, at the bracket that goes past it', () => {
    expect(() => parseJson5Text(nest(MAX_DEPTH + 1))).toThrow(
      new Json5SyntaxError(`nesting deeper than ${MAX_DEPTH} levels of objects and arrays`, 1, MAX_DEPTH + 1),
    );
    const objects = `[\n${'{a:'.repeat(MAX_DEPTH)}1${'}'.repeat(MAX_DEPTH)}]`;
    expect(ours(objects)).toEqual({
      error: `nesting deeper than ${MAX_DEPTH} levels of objects and arrays at 2:${3 * (MAX_DEPTH - 1) + 1}`,
    });
  });

  it('refuses a nest as deep as a 1 MiB file allows without overflowing the stack', () => {
    expect(ours(nest(512 * 1024))).toEqual({
      error: `nesting deeper than ${MAX_DEPTH} levels of objects and arrays at 1:${MAX_DEPTH + 1}`,
    });
  });

  it('accepts nests at the limit side by side (the stack of open containers is reused)', () => {
    const t = `[${`${nest(MAX_DEPTH - 1)},`.repeat(20)}]`;
    expect(ours(t)).toEqual(oracle(t));
  });
});
