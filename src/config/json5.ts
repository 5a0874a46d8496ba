/**
 * A JSON5 parser (https://spec.json5.org) whose memory is proportional to the text.
 *
 * Why not the `json5` package: it builds every string, number and name a character at a time
 * and grows arrays by `push`, so a 1 MiB file of adversarial shape cost 30–120× its size in
 * heap (bench/workloads/config-parse.js). This one scans with indices, takes strings as
 * `slice`s of the text (escapes joined from pieces), makes each array once at its exact
 * size from a shared stack, keeps its own stack of open containers (no recursion: no
 * nesting can overflow the call stack) and refuses nesting deeper than MAX_DEPTH.
 *
 * For every text it accepts the value is the one json5 2.x gives, and it rejects what json5
 * rejects, at the same line:column with the same words ("invalid character 'x'", "invalid end
 * of input", "invalid identifier character"); test/unit/config/json5.test.ts checks both against
 * the package. Like json5: duplicate names keep the last value (at the first one's place),
 * `__proto__` is an own property (never the prototype), identifiers are Unicode ID_Start /
 * ID_Continue, U+2028/U+2029 are allowed raw in strings, lines are counted by '\n' and columns
 * in UTF-16 units. One difference: identifiers follow the Unicode of the running Node (15 on
 * Node 20), json5 2.2 its own tables of Unicode 10, so a name in a script added since is
 * accepted unquoted here and refused there.
 */

import {
  ESCAPES,
  isDigit,
  isHexDigit,
  isIdChar,
  isJson5Space,
  isLineEnd,
  Json5SyntaxError,
  showChar,
} from './json5-chars.js';
import { newObject, setMember } from './json5-objects.js';

/** The deepest nesting of objects and arrays accepted; a configuration needs about 6. */
export const MAX_DEPTH = 1000;

/** Pieces of a string with escapes are joined in batches, so the list of pieces stays short. */
const JOIN_EVERY = 4096;

/**
 * An array closing with more values than this, and nothing under it on the stack, takes the
 * stack as it is (its spare capacity is at most half its size) instead of a copy: a long array
 * then costs its values once, not twice, at the peak.
 */
const STEAL_FROM = 1024;

class Parser {
  private pos = 0;
  /** Values of the open arrays, innermost last; an array is sliced off when it closes. */
  private values: unknown[] = [];

  constructor(private readonly text: string) {}

  parse(): unknown {
    const text = this.text;
    // The open containers, innermost last, as parallel stacks (nothing allocated per level): an
    // object (its members assigned as they come, `keys` holding the pending name) or, where
    // `objects` holds undefined, an array (its values on `this.values` from `starts` on).
    const objects: (Record<string, unknown> | undefined)[] = [];
    const starts: number[] = [];
    const keys: string[] = [];
    this.skip();
    for (;;) {
      // A value starts here.
      let value: unknown;
      const c = text.charCodeAt(this.pos);
      if (c === 0x7b || c === 0x5b) {
        if (objects.length >= MAX_DEPTH) {
          throw this.error(this.pos, `nesting deeper than ${MAX_DEPTH} levels of objects and arrays`);
        }
        this.pos++;
        this.skip();
        if (c === 0x7b) {
          const object = newObject();
          if (text.charCodeAt(this.pos) === 0x7d) {
            this.pos++;
            value = object;
          } else {
            objects.push(object);
            starts.push(0);
            keys.push(this.memberName());
            continue;
          }
        } else if (text.charCodeAt(this.pos) === 0x5d) {
          this.pos++;
          value = [];
        } else {
          objects.push(undefined);
          starts.push(this.values.length);
          keys.push('');
          continue;
        }
      } else value = this.primitive(c);
      // The value is complete: add it to its container, then close what ends here.
      for (;;) {
        const top = objects.length - 1;
        if (top < 0) {
          this.skip();
          if (this.pos < text.length) throw this.invalidChar(this.pos);
          return value;
        }
        const object = objects[top];
        if (object) setMember(object, keys[top]!, value);
        else this.values.push(value);
        this.skip();
        const close = object ? 0x7d : 0x5d;
        let d = text.charCodeAt(this.pos);
        if (d === 0x2c) {
          this.pos++;
          this.skip();
          d = text.charCodeAt(this.pos);
          if (d !== close) {
            if (object) keys[top] = this.memberName();
            break;
          }
        } else if (d !== close) throw this.invalidChar(this.pos);
        this.pos++;
        const start = starts[top]!;
        objects.pop();
        starts.pop();
        keys.pop();
        if (object) value = object;
        else if (start === 0 && this.values.length > STEAL_FROM) {
          // A long outermost array: hand over the stack itself rather than copy it.
          value = this.values;
          this.values = [];
        } else {
          value = this.values.slice(start);
          this.values.length = start;
        }
      }
    }
  }

  /** White space and comments. */
  private skip(): void {
    const text = this.text;
    for (;;) {
      // The usual white space (indentation, line ends) is stepped over here, and isJson5Space
      // asked only about the rest: a configuration is read once, so this runs as V8's baseline
      // code, where a call costs; and a function called at every token (isJson5Space was) gets
      // hot enough for V8 to compile it again, optimised, on another thread (millions of
      // instructions).
      let i = this.pos;
      let c = text.charCodeAt(i);
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
      this.pos = i;
      if (c === 0x2f) {
        const d = text.charCodeAt(this.pos + 1);
        if (d === 0x2f) {
          let i = this.pos + 2;
          while (i < text.length && !isLineEnd(text.charCodeAt(i))) i++;
          this.pos = i;
        } else if (d === 0x2a) {
          const end = text.indexOf('*/', this.pos + 2);
          if (end < 0) throw this.invalidChar(text.length);
          this.pos = end + 2;
        } else throw this.invalidChar(this.pos + 1);
      } else if ((c < 0x20 || c > 0x7f) && isJson5Space(c)) this.pos++;
      else return;
    }
  }

  /** A member name and its colon, up to the value (white space skipped). */
  private memberName(): string {
    const c = this.text.charCodeAt(this.pos);
    const key = c === 0x22 || c === 0x27 ? this.string(c) : this.identifier();
    this.skip();
    if (this.text.charCodeAt(this.pos) !== 0x3a) throw this.invalidChar(this.pos);
    this.pos++;
    this.skip();
    return key;
  }

  /** A string, number, true, false or null starting with the unit `c` at pos. */
  private primitive(c: number): unknown {
    switch (c) {
      case 0x22:
      case 0x27:
        return this.string(c);
      case 0x6e:
        return this.literal('null', null);
      case 0x74:
        return this.literal('true', true);
      case 0x66:
        return this.literal('false', false);
      case 0x2b:
      case 0x2d: {
        this.pos++;
        const sign = c === 0x2d ? -1 : 1;
        const d = this.text.charCodeAt(this.pos);
        if (d === 0x49) return sign * (this.literal('Infinity', Infinity) as number);
        if (d === 0x4e) return this.literal('NaN', Number.NaN);
        if (d === 0x2e || isDigit(d)) return sign * this.number();
        throw this.invalidChar(this.pos);
      }
      case 0x49:
        return this.literal('Infinity', Infinity);
      case 0x4e:
        return this.literal('NaN', Number.NaN);
    }
    if (c === 0x2e || isDigit(c)) return this.number();
    throw this.invalidChar(this.pos);
  }

  private literal(word: string, value: unknown): unknown {
    for (let i = 0; i < word.length; i++) {
      if (this.text.charCodeAt(this.pos + i) !== word.charCodeAt(i)) throw this.invalidChar(this.pos + i);
    }
    this.pos += word.length;
    return value;
  }

  /** An unsigned number (decimal, leading or trailing dot, exponent, or hex) at pos. */
  private number(): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    const digits = (): void => {
      while (isDigit(text.charCodeAt(i))) i++;
    };
    const need = (ok: boolean): void => {
      if (!ok) throw this.invalidChar(i);
    };
    if (text.charCodeAt(i) === 0x30 && (text.charCodeAt(i + 1) | 0x20) === 0x78) {
      i += 2;
      need(isHexDigit(text.charCodeAt(i)));
      while (isHexDigit(text.charCodeAt(i))) i++;
    } else {
      const leadingDot = text.charCodeAt(i) === 0x2e;
      if (leadingDot) {
        i++;
        need(isDigit(text.charCodeAt(i)));
        digits();
      } else if (text.charCodeAt(i) === 0x30) i++;
      else digits();
      if (!leadingDot && text.charCodeAt(i) === 0x2e) {
        i++;
        digits();
      }
      if ((text.charCodeAt(i) | 0x20) === 0x65) {
        i++;
        const s = text.charCodeAt(i);
        if (s === 0x2b || s === 0x2d) i++;
        need(isDigit(text.charCodeAt(i)));
        digits();
      }
    }
    this.pos = i;
    if (i - start <= 9 && isDigit(text.charCodeAt(start)) && isDigit(text.charCodeAt(i - 1))) {
      // A short plain integer (most numbers in a configuration): no string to make and drop.
      let n = 0;
      for (let k = start; k < i; k++) {
        const d = text.charCodeAt(k);
        if (!isDigit(d)) return Number(text.slice(start, i));
        n = n * 10 + (d - 0x30);
      }
      return n;
    }
    return Number(text.slice(start, i));
  }

  /** A quoted string at pos: a slice of the text when it has no escape. */
  private string(quote: number): string {
    const text = this.text;
    // Most strings hold no escape and no line end: found with the builtins' scans up to the
    // next quote instead of a step of this loop per character. Anything else (an escape, a
    // line end, no closing quote) is read by the loop below, which tells what is wrong and where.
    const end = text.indexOf(quote === 0x22 ? '"' : "'", this.pos + 1);
    if (end >= 0) {
      const s = text.slice(this.pos + 1, end);
      if (!s.includes('\\') && !s.includes('\n') && !s.includes('\r')) {
        this.pos = end + 1;
        return s;
      }
    }
    let i = this.pos + 1;
    let from = i;
    let pieces: string[] | undefined;
    let joined = '';
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === quote) break;
      if (c === 0x5c) {
        pieces ??= [];
        if (i > from) pieces.push(text.slice(from, i));
        const [piece, next] = this.escape(i + 1);
        if (piece !== '') pieces.push(piece);
        i = from = next;
        if (pieces.length >= JOIN_EVERY) {
          joined += pieces.join('');
          pieces.length = 0;
        }
      } else if (c === 0x0a || c === 0x0d || Number.isNaN(c)) throw this.invalidChar(i);
      else i++;
    }
    this.pos = i + 1;
    if (pieces === undefined) return text.slice(from, i);
    if (i > from) pieces.push(text.slice(from, i));
    return joined + pieces.join('');
  }

  /** The escape whose letter is at `i`: what it stands for, and where the string goes on. */
  private escape(i: number): [string, number] {
    const text = this.text;
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x30:
        if (isDigit(text.charCodeAt(i + 1))) throw this.invalidChar(i + 1);
        return ['\0', i + 1];
      case 0x78:
        return [String.fromCodePoint(this.hex(i + 1, 2)), i + 3];
      case 0x75:
        return [String.fromCodePoint(this.hex(i + 1, 4)), i + 5];
      case 0x0a:
      case 0x2028:
      case 0x2029:
        return ['', i + 1];
      case 0x0d:
        return ['', text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1];
    }
    if ((c >= 0x31 && c <= 0x39) || Number.isNaN(c)) throw this.invalidChar(i);
    const single = ESCAPES[text[i]!];
    if (single !== undefined) return [single, i + 1];
    // Any other character stands for itself (a whole code point).
    const cp = text.codePointAt(i)!;
    return [String.fromCodePoint(cp), i + (cp > 0xffff ? 2 : 1)];
  }

  /** `n` hex digits at `i`. */
  private hex(i: number, n: number): number {
    for (let k = i; k < i + n; k++) if (!isHexDigit(this.text.charCodeAt(k))) throw this.invalidChar(k);
    return Number.parseInt(this.text.slice(i, i + n), 16);
  }

  /** An unquoted member name at pos, `\uXXXX` escapes included. */
  private identifier(): string {
    const text = this.text;
    const start = this.pos;
    let i = start;
    let from = i;
    let pieces: string[] | undefined;
    for (;;) {
      const first = i === start;
      const cp = text.codePointAt(i);
      if (cp === 0x5c) {
        if (text.charCodeAt(i + 1) !== 0x75) throw this.invalidChar(i + 1);
        const u = this.hex(i + 2, 4);
        if (!isIdChar(u, first)) {
          throw this.error(i, 'invalid identifier character', { column: 1 });
        }
        pieces ??= [];
        pieces.push(text.slice(from, i), String.fromCharCode(u));
        i = from = i + 6;
      } else if (cp !== undefined && isIdChar(cp, first)) {
        i += cp > 0xffff ? 2 : 1;
      } else if (first) throw this.invalidChar(i);
      else break;
    }
    this.pos = i;
    if (pieces === undefined) return text.slice(start, i);
    pieces.push(text.slice(from, i));
    return pieces.join('');
  }

  /** json5's "invalid character" (or "invalid end of input") for the character at `i`. */
  private invalidChar(i: number): Json5SyntaxError {
    if (i >= this.text.length) return this.error(i, 'invalid end of input');
    return this.error(i, `invalid character '${showChar(String.fromCodePoint(this.text.codePointAt(i)!))}'`);
  }

  /**
   * An error at the character at `i`, placed where json5 places it: json5 reports its
   * position after reading the character, so a column is 1-based, one past an astral
   * character's first unit, and a '\n' is blamed at column 0 of the next line. With
   * `column: 1`, the character's own 1-based column (json5's "invalid identifier character").
   */
  private error(i: number, reason: string, at?: { column: 1 }): Json5SyntaxError {
    const text = this.text;
    let line = 1;
    for (let k = text.indexOf('\n'); k >= 0 && k < i; k = text.indexOf('\n', k + 1)) line++;
    const lineStart = i === 0 ? 0 : text.lastIndexOf('\n', i - 1) + 1;
    const cp = text.codePointAt(i);
    if (at) return new Json5SyntaxError(reason, line, i - lineStart + 1);
    if (cp === 0x0a) return new Json5SyntaxError(reason, line + 1, 0);
    return new Json5SyntaxError(reason, line, i - lineStart + (cp !== undefined && cp > 0xffff ? 2 : 1));
  }
}

/** Parses JSON5 text; throws a Json5SyntaxError with json5's message and position. */
export function parseJson5Text(text: string): unknown {
  return new Parser(text).parse();
}
