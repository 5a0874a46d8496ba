/**
 * The characters of JSON5 (json5.ts): which are space, digits, identifier characters, line
 * ends and single escapes, and how json5 shows a character in a message, with the error it
 * throws.
 */

export class Json5SyntaxError extends SyntaxError {
  constructor(
    /** What is wrong, without the position: `invalid character 'x'`. */
    readonly reason: string,
    readonly lineNumber: number,
    readonly columnNumber: number,
  ) {
    super(`${reason} at ${lineNumber}:${columnNumber}`);
    this.name = 'SyntaxError';
  }
}

// Made on first use, not when the module loads: V8 parses a regular expression when it makes
// one, and expanding these Unicode properties costs more instructions than the rest of the
// parser's start-up (bench/README.md); a configuration in ASCII never needs them.
let idStart: RegExp | undefined;
let idContinue: RegExp | undefined;
let spaceSeparator: RegExp | undefined;

/** True for the UTF-16 unit `c` that JSON5 skips between tokens (line ends included). */
export function isJson5Space(c: number): boolean {
  switch (c) {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x20:
    case 0xa0:
    case 0x2028:
    case 0x2029:
    case 0xfeff:
      return true;
  }
  return c > 0x7f && (spaceSeparator ??= /^\p{Zs}$/u).test(String.fromCharCode(c));
}

/** A character of an identifier (the first one when `first`): ASCII by hand, the rest by Unicode property. */
export function isIdChar(cp: number, first: boolean): boolean {
  if (cp < 0x80) {
    return (
      (cp >= 0x61 && cp <= 0x7a) || (cp >= 0x41 && cp <= 0x5a) || cp === 0x24 || cp === 0x5f || (!first && isDigit(cp))
    );
  }
  return (first ? (idStart ??= /^[\p{ID_Start}$_]$/u) : (idContinue ??= /^[\p{ID_Continue}$_\u200C\u200D]$/u)).test(
    String.fromCodePoint(cp),
  );
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export function isLineEnd(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

/** json5's way of showing a character in a message. */
const SHOWN: Record<string, string> = {
  "'": "\\'",
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\0': '\\0',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

export function showChar(c: string): string {
  const shown = SHOWN[c];
  if (shown !== undefined) return shown;
  if (c < ' ') return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  return c;
}

/** Single escapes: the character after the backslash → what it stands for. */
export const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
