/**
 * JSON5 parsing, with source positions worked out only when an error needs one.
 *
 * `json5.ts` is the parser (json5's grammar and messages, memory proportional to the text): it
 * decides what is a syntax error (and where), and its value is the one validated. A valid
 * configuration is read once. The parser does not say where each field came from, so when
 * validation has an error to place, `scanPositions` walks the text (which it accepted) and
 * records the line/column of every key and value by path
 * (`jobs[2].health.interval`). It only finds where things start — it builds no value — and it
 * keeps its own stack, so no nesting depth can overflow the call stack.
 */
import { ConfigError, ConfigErrors } from './errors.js';
import { parseJson5Text } from './json5.js';
import { isJson5Space, Json5SyntaxError } from './json5-chars.js';
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
  /** Computed on first call (there is an error to place), then kept. */
  positions: () => Positions;
}

/** Characters JSON5 treats as white space between tokens. */
function isSpace(c: string): boolean {
  return isJson5Space(c.charCodeAt(0));
}

const LINE_END = '\n\r\u2028\u2029';

/** A position in the text that keeps its line count. */
class Cursor {
  pos = 0;
  /** A block comment ran to the end of the text. */
  unterminated = false;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly text: string) {}

  here(): Pos {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  peek(offset = 0): string | undefined {
    return this.text[this.pos + offset];
  }

  /** Consumes one UTF-16 unit. Past the end it stays put: the caller's loop sees undefined. */
  next(): string | undefined {
    const c = this.text[this.pos];
    if (c === undefined) return undefined;
    this.pos++;
    if (c === '\n') {
      this.line++;
      this.lineStart = this.pos;
    }
    return c;
  }

  /** White space and comments. */
  skip(): void {
    for (let c = this.peek(); c !== undefined; c = this.peek()) {
      if (isSpace(c)) this.next();
      else if (c === '/' && this.peek(1) === '/') {
        while (this.peek() !== undefined && !LINE_END.includes(this.peek()!)) this.next();
      } else if (c === '/' && this.peek(1) === '*') {
        this.next();
        this.next();
        while (this.peek() !== undefined && !(this.peek() === '*' && this.peek(1) === '/')) this.next();
        if (this.atEnd()) this.unterminated = true;
        this.next();
        this.next();
      } else return;
    }
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** A quoted string, escapes included; returns its source text. */
  skipString(): string {
    const start = this.pos;
    const quote = this.next();
    for (let c = this.next(); c !== undefined && c !== quote; c = this.next()) {
      if (c === '\\') this.next();
    }
    return this.text.slice(start, this.pos);
  }

  /** A number, `true`, `null`, `Infinity`… or an unquoted key: up to the next delimiter. */
  skipBare(): string {
    const start = this.pos;
    for (let c = this.peek(); c !== undefined && !',:]}/'.includes(c) && !isSpace(c); c = this.peek()) this.next();
    return this.text.slice(start, this.pos);
  }
}

/** A member name as the parser reads it (escapes are rare; the parser itself decodes them). */
function keyName(raw: string): string {
  const quoted = raw[0] === '"' || raw[0] === "'";
  if (!raw.includes('\\')) return quoted ? raw.slice(1, -1) : raw;
  return quoted ? String(parseJson5Text(raw)) : Object.keys(parseJson5Text(`{${raw}:0}`) as object)[0]!;
}

/**
 * Deeper values are not placed (an error there points at their nearest placed ancestor):
 * paths as long as the nesting is deep would make placing quadratic. No configuration field
 * is nested anywhere near this deep.
 */
const MAX_PLACED_DEPTH = 64;

/**
 * Values after this many are not placed either (an error there points at its nearest placed
 * ancestor, as above): a 1 MiB file of half a million values took 80 MB to place them all (about
 * 450 bytes a value: its path, its position and the map entry). A
 * real configuration has a few hundred.
 */
export const MAX_PLACED = 20_000;

interface Frame {
  readonly object: boolean;
  readonly path: string;
  index: number;
}

/**
 * Where every value (and member key) of `text` starts, by path. For text json5 accepted;
 * on anything else it ends early without throwing, and what it found is kept.
 */
export function scanPositions(text: string): Positions {
  const out = new Map<string, NodePos>();
  const s = new Cursor(text);
  const stack: Frame[] = [];
  let path = '';
  let key: Pos | undefined;
  for (;;) {
    s.skip();
    if (s.atEnd() || out.size >= MAX_PLACED) return out;
    if (stack.length <= MAX_PLACED_DEPTH) out.set(path, key ? { ...s.here(), key } : s.here());
    const c = s.peek();
    if (c === '{' || c === '[') {
      s.next();
      stack.push({ object: c === '{', path, index: 0 });
    } else if (c === '"' || c === "'") s.skipString();
    else if (s.skipBare() === '') return out;
    // To the start of the next value, closing what ends on the way.
    for (;;) {
      const top = stack.at(-1);
      if (top === undefined) return out;
      s.skip();
      if (s.peek() === ',') {
        s.next();
        s.skip();
      }
      const d = s.peek();
      if (d === undefined) return out;
      if (d === '}' || d === ']') {
        s.next();
        stack.pop();
        continue;
      }
      if (top.object) {
        key = s.here();
        const raw = d === '"' || d === "'" ? s.skipString() : s.skipBare();
        s.skip();
        if (s.next() !== ':') return out;
        path = stack.length <= MAX_PLACED_DEPTH ? childPath(top.path, keyName(raw)) : '';
      } else {
        key = undefined;
        path = stack.length <= MAX_PLACED_DEPTH ? childPath(top.path, top.index++) : '';
      }
      break;
    }
  }
}

/** True when the text holds nothing but white space and comments. */
function isBlank(text: string): boolean {
  const s = new Cursor(text);
  s.skip();
  // An unterminated block comment is a syntax error for json5 to report, not an empty file.
  return s.atEnd() && !s.unterminated;
}

/**
 * Parses configuration text (json5.ts). Syntax errors (and an empty file) become
 * `ConfigErrors` with the file, line and column.
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
    value = parseJson5Text(text);
  } catch (err) {
    if (!(err instanceof Json5SyntaxError)) throw err;
    throw new ConfigErrors([
      new ConfigError({
        file,
        path: '',
        line: err.lineNumber,
        column: err.columnNumber,
        message: `syntax error: ${err.reason}`,
      }),
    ]);
  }
  let positions: Positions | undefined;
  return { value, positions: () => (positions ??= scanPositions(text)) };
}
