/**
 * Go literal syntax used inside actions: number constants (as Go's
 * strconv.ParseInt/ParseFloat with base prefixes and underscores accept
 * them), double-quoted strings with Go escapes, raw strings, and character
 * constants. Errors are thrown as plain `Error`s; the parser attaches the
 * position.
 */

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/** Go's rule for where `_` may appear in a number literal. */
function underscoreOK(text: string): boolean {
  let s = text;
  let saw = '^';
  let i = 0;
  if (s.startsWith('+') || s.startsWith('-')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1])) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i];
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseUint(s, 0, 64) without sign; returns undefined on syntax error. */
function parseUnsigned(s: string): bigint | undefined {
  if (s === '') return undefined;
  let base = 10;
  let digits = s;
  if (s[0] === '0') {
    const p = s[1]?.toLowerCase();
    if (s.length >= 3 && p === 'b') [base, digits] = [2, s.slice(2)];
    else if (s.length >= 3 && p === 'o') [base, digits] = [8, s.slice(2)];
    else if (s.length >= 3 && p === 'x') [base, digits] = [16, s.slice(2)];
    else [base, digits] = [8, s.slice(1)];
  }
  let n = 0n;
  let underscores = false;
  for (const c of digits) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    n = n * BigInt(base) + BigInt(d);
  }
  if (underscores && !underscoreOK(s)) return undefined;
  return n;
}

/** strconv.ParseFloat(s, 64); undefined on syntax or range error. */
function parseFloat64(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s[0] === '+' || s[0] === '-') {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s.includes('_')) {
    if (!underscoreOK(s)) return undefined;
    s = s.replace(/_/g, '');
  }
  let value: number;
  const hex = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
  if (hex) {
    const [, whole, frac = '', exp] = hex;
    if (whole === '' && frac === '') return undefined;
    const mantissa = BigInt(`0x${whole}${frac}`);
    value = Number(mantissa) * 2 ** (Number(exp) - 4 * frac.length);
  } else {
    if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s)) return undefined;
    value = Number(s);
  }
  if (!Number.isFinite(value)) return undefined;
  return sign * value;
}

/**
 * The value of a number literal as Go's template engine types it when there
 * is no other context: `int` for integers, `float64` when the text has a
 * decimal point or exponent.
 */
export function parseNumber(text: string): bigint | number {
  if (text.endsWith('i') && parseFloat64(text.slice(0, -1)) !== undefined) {
    throw new Error(`complex number ${text} is not supported`);
  }
  const negative = text.startsWith('-');
  const magnitude = parseUnsigned(text.startsWith('+') || negative ? text.slice(1) : text);
  if (magnitude !== undefined) {
    const value = negative ? -magnitude : magnitude;
    if (value > INT64_MAX || value < INT64_MIN) {
      if (magnitude <= UINT64_MAX) throw new Error(`${text} overflows int`);
      // Too big even for uint64: Go then tries float parsing, which rejects it below.
    } else {
      // Go turns "-0x1e" into a float64 because of the 'e' (a quirk of its
      // "looks like a float" test, which only exempts unsigned hex).
      const isHexInt = /^0[xX]/.test(text) && !/[pP]/.test(text);
      if (/[.eEpP]/.test(text) && !isHexInt) return Number(value);
      return value;
    }
  }
  const f = parseFloat64(text);
  if (f !== undefined) {
    if (!/[.eEpP]/.test(text)) throw new Error(`integer overflow: ${JSON.stringify(text)}`);
    return f;
  }
  throw new Error(`illegal number syntax: ${JSON.stringify(text)}`);
}

interface UnquotedChar {
  /** A code point, or a raw byte value when `isByte`. */
  readonly value: number;
  readonly isByte: boolean;
  readonly tail: string;
}

/** strconv.UnquoteChar: decodes one (possibly escaped) character from the front of `s`. */
function unquoteChar(s: string, quote: string): UnquotedChar {
  if (s === '') throw new Error('invalid syntax');
  const c = s[0];
  if (c === quote) throw new Error('invalid syntax');
  if (c !== '\\') {
    const cp = s.codePointAt(0) ?? 0;
    const len = cp > 0xffff ? 2 : 1;
    return { value: cp, isByte: false, tail: s.slice(len) };
  }
  if (s.length <= 1) throw new Error('invalid syntax');
  const e = s[1];
  const rest = s.slice(2);
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
  if (e in simple) return { value: simple[e], isByte: false, tail: rest };
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    const hex = rest.slice(0, n);
    if (hex.length < n || !/^[0-9a-fA-F]+$/.test(hex)) throw new Error('invalid syntax');
    const v = parseInt(hex, 16);
    if (e === 'x') return { value: v, isByte: true, tail: rest.slice(n) };
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new Error('invalid syntax');
    return { value: v, isByte: false, tail: rest.slice(n) };
  }
  if (e >= '0' && e <= '7') {
    const oct = s.slice(1, 4);
    if (!/^[0-7]{3}$/.test(oct)) throw new Error('invalid syntax');
    const v = parseInt(oct, 8);
    if (v > 255) throw new Error('invalid syntax');
    return { value: v, isByte: true, tail: s.slice(4) };
  }
  if (e === "'" || e === '"') {
    if (e !== quote) throw new Error('invalid syntax');
    return { value: e.charCodeAt(0), isByte: false, tail: rest };
  }
  throw new Error('invalid syntax');
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * strconv.Unquote for "..." and `...` literals. `\x` and octal escapes
 * produce raw bytes in Go; runs of them are accepted only when they form
 * valid UTF-8, since a JS string cannot carry arbitrary bytes.
 */
export function unquoteString(text: string): string {
  if (text.startsWith('`')) {
    // Go drops carriage returns from raw strings.
    return text.slice(1, -1).replace(/\r/g, '');
  }
  let s = text.slice(1, -1);
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length === 0) return;
    try {
      out += utf8Strict.decode(Uint8Array.from(bytes));
    } catch {
      throw new Error('string literal with bytes that are not valid UTF-8 is not supported');
    }
    bytes = [];
  };
  while (s.length > 0) {
    const ch = unquoteChar(s, '"');
    s = ch.tail;
    if (ch.isByte && ch.value >= 0x80) {
      bytes.push(ch.value);
      continue;
    }
    flush();
    out += String.fromCodePoint(ch.value);
  }
  flush();
  return out;
}

/** The code point of a character constant such as 'a' or '\n'. */
export function unquoteCharConstant(text: string): number {
  const ch = unquoteChar(text.slice(1), "'");
  if (ch.tail !== "'") throw new Error(`malformed character constant: ${text}`);
  return ch.value;
}
