import fc from 'fast-check';
import JSON5 from 'json5';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigErrors } from '../../../src/config/errors.js';
import { type Pos, parseJson5, scanPositions } from '../../../src/config/parse.js';
import { childPath } from '../../../src/config/paths.js';
import { validateConfig } from '../../../src/config/validate/config.js';
import { posOf } from './helpers.js';

function syntaxError(text: string) {
  try {
    parseJson5(text, 'f.json5');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    const errs = (err as ConfigErrors).errors;
    expect(errs).toHaveLength(1);
    return errs[0];
  }
  throw new Error('expected a syntax error');
}

describe('parseJson5: positions', () => {
  const text = [
    '// comment',
    '{',
    '  jobs: [',
    '    {',
    '      name: "app", /* inline */ exec: ["a", "b"],',
    "      'quoted key': 'x',",
    '      health: { interval: 5 },',
    '    },',
    '    null,',
    '  ],',
    '}',
  ].join('\n');
  const parsed = parseJson5(text, 'f.json5');
  const value = parsed.value;
  const positions = parsed.positions();

  it('returns json5 value', () => {
    expect(value).toEqual(JSON5.parse(text));
  });

  it.each([
    ['', '{'],
    ['jobs', '['],
    ['jobs[0]', '{', 1],
    ['jobs[0].name', '"app"'],
    ['jobs[0].exec', '["a"'],
    ['jobs[0].exec[1]', '"b"'],
    ['jobs[0]["quoted key"]', "'x'"],
    ['jobs[0].health', '{ interval'],
    ['jobs[0].health.interval', '5 }'],
    ['jobs[1]', 'null'],
  ] as [string, string, number?][])('value of %s', (path, needle, nth = 0) => {
    const p = positions.get(path);
    expect(p && { line: p.line, column: p.column }).toEqual(posOf(text, needle, nth));
  });

  it.each([
    ['jobs', 'jobs'],
    ['jobs[0].name', 'name'],
    ['jobs[0].exec', 'exec'],
    ['jobs[0]["quoted key"]', "'quoted key'"],
    ['jobs[0].health.interval', 'interval'],
  ])('key of %s', (path, needle) => {
    expect(positions.get(path)?.key).toEqual(posOf(text, needle));
  });

  it('has no key position for array elements or the root', () => {
    expect(positions.get('jobs[0]')?.key).toBeUndefined();
    expect(positions.get('')?.key).toBeUndefined();
  });

  it('counts lines by \\n only and columns in UTF-16 units, like json5', () => {
    const t = '{\r\n\ta: 1,\r\n  "\u{1F600}": 2, b: 3 }';
    const p = scanPositions(t);
    expect(p.get('a')?.key).toEqual({ line: 2, column: 2 });
    // the emoji is two UTF-16 units: `b` is at column 12, its value at 15
    expect(p.get('b')).toEqual({ line: 3, column: 15, key: { line: 3, column: 12 } });
    // json5's own error columns agree with this counting
    expect(() => JSON5.parse('{\r\n\ta: 1,\r\n  "\u{1F600}": 2, b: x }')).toThrow(/at 3:15/);
  });

  it('decodes escaped identifier keys into their names', () => {
    const p = scanPositions('{ \\u0061b: 1, $x_1: 2 }');
    expect(p.get('ab')?.key).toEqual({ line: 1, column: 3 });
    expect(p.has('$x_1')).toBe(true);
  });

  it('records the last of duplicate keys (the one json5 keeps)', () => {
    const t = '{ a: 1,\n a: 2 }';
    expect(JSON5.parse(t)).toEqual({ a: 2 });
    expect(scanPositions(t).get('a')).toEqual({ line: 2, column: 5, key: { line: 2, column: 2 } });
  });
});

describe('parseJson5: syntax errors', () => {
  it('names line and column', () => {
    const e = syntaxError('{\n  a: 1\n  b: 2\n}');
    expect(e.toString()).toBe("f.json5:3:3: syntax error: invalid character 'b'");
    expect(e.path).toBe('');
  });

  it('reports an unterminated object at the end', () => {
    const e = syntaxError('{ a: 1,');
    expect(e.message).toBe('syntax error: invalid end of input');
    expect([e.line, e.column]).toEqual([1, 8]);
  });

  it.each(['', '   \n\t', '// just a comment\n', '/* block */'])('an empty file (%j) is a clear error', (t) => {
    const e = syntaxError(t);
    expect(e.message).toMatch(/^the configuration is empty/);
  });

  it('an unterminated comment is a syntax error, not empty', () => {
    expect(syntaxError('/* never closed').message).toMatch(/^syntax error/);
  });
});

// ---------------------------------------------------------------------------
// The scanner agrees with json5 on every JSON5 text.

/** Offset of a 1-based line/column, counting lines by \n as json5 does. */
function offsetOf(text: string, p: Pos): number {
  let off = 0;
  for (let l = 1; l < p.line; l++) off = text.indexOf('\n', off) + 1;
  return off + p.column - 1;
}

const ws = fc
  .array(
    fc.constantFrom(
      ' ',
      '\t',
      '\n',
      '\r\n',
      '\r',
      '\v',
      '\f',
      '\u00A0',
      '\uFEFF',
      '\u2028',
      '\u2029',
      '\u3000',
      '\u2003',
      '// c\n',
      '/* c */',
      '/**/',
      '/* * / */',
    ),
    { maxLength: 3 },
  )
  .map((a) => a.join(''));

const identStart = fc.constantFrom('a', 'Z', '$', '_', 'é', 'ж', '\\u0061', '\\u005F');
const identPart = fc.constantFrom('a', '0', '$', '_', '\u200C', 'ß', '\\u0062');
const identifier = fc
  .tuple(identStart, fc.array(identPart, { maxLength: 4 }))
  .map(([s, rest]) => s + rest.join(''))
  .filter((id) => !['null', 'true', 'false', 'Infinity', 'NaN'].includes(id));

const strChar = fc.constantFrom(
  'a',
  ' ',
  'é',
  '\u{1F600}',
  '\\n',
  '\\t',
  '\\\\',
  "\\'",
  '\\"',
  '\\x41',
  '\\u00e9',
  '\\ud83d\\ude00',
  '\\0',
  '\\\n',
  '\\\r\n',
  '\\\u2028',
  '\\q',
  '\\/',
  '\u2028',
  '{',
  '}',
  ':',
  ',',
  '//',
  '/*',
);
// Quotes appear only escaped or inside the other kind of string.
const stringLit = fc.oneof(
  fc.array(fc.oneof(strChar, fc.constant("'")), { maxLength: 6 }).map((cs) => `"${cs.join('')}"`),
  fc.array(fc.oneof(strChar, fc.constant('"')), { maxLength: 6 }).map((cs) => `'${cs.join('')}'`),
);

const numberLit = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => String(d)),
  fc.constantFrom(
    '0x1F',
    '0XaB',
    '-0x10',
    '+1',
    '-0',
    '.5',
    '5.',
    '1e3',
    '1E-2',
    '+.5e+2',
    'Infinity',
    '-Infinity',
    '+Infinity',
    'NaN',
    '-NaN',
  ),
);

const { value: json5Text } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom('null', 'true', 'false'),
    numberLit,
    stringLit,
    fc
      .tuple(fc.array(fc.tuple(ws, tie('value'), ws), { maxLength: 4 }), fc.boolean(), ws)
      .map(([items, trailing, w]) =>
        items.length === 0 ? `[${w}]` : `[${items.map(([a, v, b]) => a + v + b).join(',')}${trailing ? ',' : ''}${w}]`,
      ),
    fc
      .tuple(
        fc.array(fc.tuple(ws, fc.oneof(identifier, stringLit), ws, ws, tie('value'), ws), { maxLength: 4 }),
        fc.boolean(),
        ws,
      )
      .map(([members, trailing, w]) =>
        members.length === 0
          ? `{${w}}`
          : `{${members.map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`).join(',')}${trailing ? ',' : ''}${w}}`,
      ),
  ),
}));

const document = fc.tuple(ws, json5Text, ws).map(([a, v, b]) => a + v + b);

/** Every path of a parsed value, as the validator names them. */
function pathsOf(v: unknown, path = '', out = new Set<string>()): Set<string> {
  out.add(path);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) pathsOf(x, childPath(path, i), out);
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) pathsOf(x, childPath(path, k), out);
  return out;
}

describe('scanPositions agrees with json5.parse (property)', () => {
  // json5 warns on the console about a raw U+2028 in a string; the generators make plenty.
  beforeAll(() => void vi.spyOn(console, 'warn').mockImplementation(() => {}));
  afterAll(() => vi.restoreAllMocks());

  // Every path of the value is placed. (There may be more: with a duplicate key, the members of
  // the definition json5 dropped; no lookup ever asks for those.)
  const placesAll = (text: string, value: unknown): void => {
    const positions = scanPositions(text);
    for (const path of pathsOf(value)) expect(positions.has(path), path).toBe(true);
  };

  it('generated JSON5 texts: a position for every path of the value', () => {
    fc.assert(
      fc.property(document, (text) => {
        placesAll(text, JSON5.parse(text));
      }),
      { numRuns: 1500 },
    );
  });

  it('every recorded position points at the start of its value and key', () => {
    fc.assert(
      fc.property(document, (text) => {
        const positions = scanPositions(text);
        for (const [path, p] of positions) {
          const c = text[offsetOf(text, p)];
          expect(c, `value of ${path}`).toMatch(/^[[{"'ntf0-9.+\-IN]$/);
          if (p.key) expect(text[offsetOf(text, p.key)], `key of ${path}`).toMatch(/^["'$_\\\p{L}]$/u);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('JSON from JSON.stringify and json5.stringify: the same paths', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, five) => {
        const text = five ? JSON5.stringify(v, null, 2) : JSON.stringify(v, null, 1);
        placesAll(text, JSON5.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('random texts: whatever json5 accepts, the scanner places every path', () => {
    const alphabet = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ':',
      ',',
      '"',
      "'",
      '\\',
      'a',
      '1',
      '.',
      'e',
      '-',
      ' ',
      '\n',
      '/',
      '*',
      'x',
      'n',
      'u',
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 20 }), (chars) => {
        const text = chars.join('');
        let expected: unknown;
        try {
          expected = JSON5.parse(text);
        } catch {
          return;
        }
        placesAll(text, expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('nesting deeper than the call stack: placed down to 64 levels, the rest skipped in linear time', () => {
    const depth = 200_000;
    const text = `{ a: ${'['.repeat(depth)}1${']'.repeat(depth)}, b: 2 }`;
    const positions = scanPositions(text);
    expect(positions.size).toBe(1 + 1 + 63 + 1);
    expect(positions.get(`a${'[0]'.repeat(63)}`)).toEqual({ line: 1, column: 6 + 63 });
    expect(positions.has(`a${'[0]'.repeat(64)}`)).toBe(false);
    expect(positions.get('b')).toEqual({ line: 1, column: 2 * depth + 12, key: { line: 1, column: 2 * depth + 9 } });
  });

  it('a valid file is read once: positions are worked out only for an error', () => {
    let asked = 0;
    const lazy = (text: string) => {
      const parsed = parseJson5(text, 'f.json5');
      return () => (asked++, parsed.positions());
    };
    validateConfig(JSON5.parse('{ jobs: [{ name: "a", exec: "true" }] }'), {
      file: 'f.json5',
      positions: lazy('{ jobs: [{ name: "a", exec: "true" }] }'),
    });
    expect(asked).toBe(0);
    const bad = '{ jobs: [{ name: "a", exec: "true", restarts: "sometimes" }] }';
    expect(() => validateConfig(JSON5.parse(bad), { file: 'f.json5', positions: lazy(bad) })).toThrow(
      /1:47: jobs\[0\]\.restarts/,
    );
    expect(asked).toBe(1);
  });
});
