/**
 * JSON5 parsing with source positions.
 *
 * `json5` stays the parser of record: it decides what is a syntax error (and
 * where), and its value is the one validated. It does not tell where each field
 * came from, so `scanJson5` below walks the same text a second time and records
 * the line/column of every key and value by path (`jobs[2].health.interval`),
 * which lets validation errors point at the offending field. The scanner is a
 * complete JSON5 reader (it also rebuilds the value, which is how the tests prove
 * it agrees with `json5.parse`), but it only ever runs on text json5 accepted.
 */
import JSON5 from 'json5';
import { ConfigError, ConfigErrors } from './errors.js';
import { childPath } from './paths.js';

export interface Pos {
  /** 1-based. Lines are counted by '\n', as json5 counts them. */
  line: number;
  /** 1-based, in UTF-16 code units, as json5 counts them. */
  column: number;
}

export interface NodePos extends Pos {
  /** Where the property name starts, for values that are object members. */
  key?: Pos;
}

/** Source position of every value (and member key) by path; '' is the root value. */
export type Positions = ReadonlyMap<string, NodePos>;

export interface Parsed {
  value: unknown;
  positions: Positions;
}

/** Characters JSON5 treats as white space between tokens. */
function isSpace(c: string): boolean {
  switch (c) {
    case '\t':
    case '\v':
    case '\f':
    case ' ':
    case '\u00A0':
    case '\uFEFF':
    case '\n':
    case '\r':
    case '\u2028':
    case '\u2029':
      return true;
  }
  // Unicode category Zs (the ones not listed above); none is ASCII.
  return c.charCodeAt(0) > 0x7f && /^[\u1680\u2000-\u200A\u202F\u205F\u3000]$/.test(c);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /^[0-9A-Fa-f]$/.test(c);
}

class ScanError extends Error {}

/**
 * The position scanner. A recursive-descent JSON5 reader that keeps
 * line/column while it goes. It assumes well-formed input (json5 checked it) but
 * still fails cleanly, with a ScanError, rather than loop or misreport.
 */
class Scanner {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  readonly positions = new Map<string, NodePos>();

  constructor(private readonly text: string) {}

  here(): Pos {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  private peek(offset = 0): string | undefined {
    const i = this.pos + offset;
    return i < this.text.length ? this.text[i] : undefined;
  }

  /** Consume one UTF-16 unit, keeping the line count. */
  private next(): string {
    const c = this.text[this.pos];
    if (c === undefined) throw new ScanError('unexpected end of input');
    this.pos++;
    if (c === '\n') {
      this.line++;
      this.lineStart = this.pos;
    }
    return c;
  }

  private expect(s: string): void {
    for (const ch of s) {
      if (this.next() !== ch) throw new ScanError(`expected ${s}`);
    }
  }

  /** White space and comments. */
  skip(): void {
    for (;;) {
      const c = this.peek();
      if (c === undefined) return;
      if (isSpace(c)) {
        this.next();
      } else if (c === '/' && this.peek(1) === '/') {
        while (this.peek() !== undefined && !'\n\r\u2028\u2029'.includes(this.peek() as string)) this.next();
      } else if (c === '/' && this.peek(1) === '*') {
        this.next();
        this.next();
        while (!(this.peek() === '*' && this.peek(1) === '/')) this.next();
        this.next();
        this.next();
      } else {
        return;
      }
    }
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  value(path: string, key?: Pos): unknown {
    this.skip();
    const at: NodePos = key ? { ...this.here(), key } : this.here();
    this.positions.set(path, at);
    const c = this.peek();
    switch (c) {
      case '{':
        return this.object(path);
      case '[':
        return this.array(path);
      case '"':
      case "'":
        return this.string();
      case 'n':
        this.expect('null');
        return null;
      case 't':
        this.expect('true');
        return true;
      case 'f':
        this.expect('false');
        return false;
      default:
        return this.number();
    }
  }

  private object(path: string): Record<string, unknown> {
    this.next(); // {
    const out: Record<string, unknown> = {};
    for (;;) {
      this.skip();
      if (this.peek() === '}') {
        this.next();
        return out;
      }
      const keyPos = this.here();
      const c = this.peek();
      const key = c === '"' || c === "'" ? this.string() : this.identifier();
      this.skip();
      if (this.next() !== ':') throw new ScanError('expected :');
      const v = this.value(childPath(path, key), keyPos);
      // defineProperty, like json5, so a `__proto__` key is an ordinary member.
      Object.defineProperty(out, key, { value: v, writable: true, enumerable: true, configurable: true });
      this.skip();
      const sep = this.next();
      if (sep === '}') return out;
      if (sep !== ',') throw new ScanError('expected , or }');
    }
  }

  private array(path: string): unknown[] {
    this.next(); // [
    const out: unknown[] = [];
    for (;;) {
      this.skip();
      if (this.peek() === ']') {
        this.next();
        return out;
      }
      out.push(this.value(childPath(path, out.length)));
      this.skip();
      const sep = this.next();
      if (sep === ']') return out;
      if (sep !== ',') throw new ScanError('expected , or ]');
    }
  }

  /** An unquoted property name: runs until white space, a comment, or ':'. */
  private identifier(): string {
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === ':' || c === '/' || isSpace(c)) break;
      if (c === '\\') {
        this.next();
        if (this.next() !== 'u') throw new ScanError('bad identifier escape');
        out += this.hexChars(4);
      } else {
        out += this.next();
      }
    }
    if (out === '') throw new ScanError('expected a property name');
    return out;
  }

  private hexChars(n: number): string {
    let digits = '';
    for (let i = 0; i < n; i++) {
      const c = this.next();
      if (!isHex(c)) throw new ScanError('bad hex escape');
      digits += c;
    }
    return String.fromCodePoint(parseInt(digits, 16));
  }

  private string(): string {
    const quote = this.next();
    let out = '';
    for (;;) {
      const c = this.next();
      if (c === quote) return out;
      if (c === '\n' || c === '\r') throw new ScanError('newline in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.next();
      switch (e) {
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case '0':
          out += '\0';
          break;
        case 'x':
          out += this.hexChars(2);
          break;
        case 'u':
          out += this.hexChars(4);
          break;
        case '\r':
          // Line continuation; \r\n counts as one terminator.
          if (this.peek() === '\n') this.next();
          break;
        case '\n':
        case '\u2028':
        case '\u2029':
          break;
        default:
          // Any other escaped character stands for itself.
          out += e;
      }
    }
  }

  private number(): number {
    let sign = 1;
    const c = this.peek();
    if (c === '+' || c === '-') {
      if (this.next() === '-') sign = -1;
    }
    if (this.peek() === 'I') {
      this.expect('Infinity');
      return sign * Infinity;
    }
    if (this.peek() === 'N') {
      this.expect('NaN');
      return NaN;
    }
    if (this.peek() === '0' && (this.peek(1) === 'x' || this.peek(1) === 'X')) {
      this.next();
      this.next();
      let hex = '';
      while (isHex(this.peek())) hex += this.next();
      if (hex === '') throw new ScanError('bad hex number');
      return sign * Number(`0x${hex}`);
    }
    let lit = '';
    while (isDigit(this.peek())) lit += this.next();
    if (this.peek() === '.') {
      lit += this.next();
      while (isDigit(this.peek())) lit += this.next();
    }
    if (lit === '' || lit === '.') throw new ScanError('expected a value');
    if (this.peek() === 'e' || this.peek() === 'E') {
      lit += this.next();
      if (this.peek() === '+' || this.peek() === '-') lit += this.next();
      while (isDigit(this.peek())) lit += this.next();
    }
    return sign * Number(lit);
  }
}

/**
 * Reads `text` with the position scanner only. Throws on malformed input; meant
 * for text json5 already accepted (and for tests that compare the two).
 */
export function scanJson5(text: string): Parsed {
  const s = new Scanner(text);
  const value = s.value('');
  s.skip();
  if (!s.atEnd()) throw new ScanError('unexpected text after the value');
  return { value, positions: s.positions };
}

/** True when the text holds nothing but white space and comments. */
function isBlank(text: string): boolean {
  const s = new Scanner(text);
  try {
    s.skip();
    return s.atEnd();
  } catch {
    return false; // an unterminated comment is a syntax error, not an empty file
  }
}

interface Json5SyntaxError extends SyntaxError {
  lineNumber?: number;
  columnNumber?: number;
}

/**
 * Parses configuration text. Syntax errors (and an empty file) become
 * `ConfigErrors` with the file, line and column; on success the value comes from
 * json5 and the positions from the scanner.
 */
export function parseJson5(text: string, file: string): Parsed {
  if (isBlank(text)) {
    throw new ConfigErrors([
      new ConfigError({
        file,
        path: '',
        message: 'the configuration is empty; expected an object like { jobs: [ … ] }',
        expected: 'an object',
      }),
    ]);
  }
  let value: unknown;
  try {
    value = JSON5.parse(text);
  } catch (err) {
    const e = err as Json5SyntaxError;
    // json5 phrases it "JSON5: invalid character 'x' at 3:7"; the position goes in
    // the prefix instead, so drop it and the library name from the sentence.
    const what = String(e.message ?? err)
      .replace(/^JSON5:\s*/, '')
      .replace(/\s+at \d+:\d+$/, '');
    const init: ConstructorParameters<typeof ConfigError>[0] = {
      file,
      path: '',
      message: `syntax error: ${what}`,
    };
    if (typeof e.lineNumber === 'number') init.line = e.lineNumber;
    if (typeof e.columnNumber === 'number') init.column = e.columnNumber;
    throw new ConfigErrors([new ConfigError(init)]);
  }
  let positions: Positions;
  try {
    positions = scanJson5(text).positions;
  } catch {
    // Only reachable through a scanner bug; errors then lack a line, nothing else.
    positions = new Map();
  }
  return { value, positions };
}
