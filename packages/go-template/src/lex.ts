/**
 * Lexer for the Go text/template dialect.
 *
 * The token stream mirrors Go's text/template/parse lexer item for item, so
 * that the parser can follow Go's grammar decisions exactly (including its
 * odd corners, such as how a lone space before `-}}` is handled). Lexing is
 * done eagerly; a lexical error becomes a final `error` token that the parser
 * raises only when it reaches it, so earlier parse errors win, as in Go.
 */

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'bool'
  | 'number'
  | 'charConstant'
  | 'complex'
  | 'string'
  | 'rawString'
  | 'pipe'
  | 'assign'
  | 'declare'
  | 'char'
  | 'leftParen'
  | 'rightParen'
  | 'dot'
  | 'nil'
  | 'eof'
  | 'error'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'range'
  | 'template'
  | 'with';

export interface Token {
  readonly type: TokenType;
  /** Source text of the token (or the message, for `error`). */
  readonly value: string;
  /** Offset in the template where the token starts. */
  readonly pos: number;
}

const KEYWORDS: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['range', 'range'],
  ['nil', 'nil'],
  ['template', 'template'],
  ['with', 'with'],
]);

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';

/** Go's template lexer only treats these four as space (not \v, \f or Unicode spaces). */
export function isSpaceChar(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

/** `_`, a Unicode letter or a Unicode decimal digit, as Go's isAlphaNumeric. */
export function isAlphaNumeric(ch: string): boolean {
  return ch !== '' && ALNUM.test(ch);
}

/** Formats a character like Go's %#U verb: U+0041 'A'. */
export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

function hasLeftTrimMarker(s: string, at: number): boolean {
  return s[at] === '-' && isSpaceChar(s[at + 1]);
}

function hasRightTrimMarker(s: string, at: number): boolean {
  return isSpaceChar(s[at]) && s[at + 1] === '-';
}

class LexError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

/** Tokenizes a whole template. The result always ends with `eof` or `error`. */
export function lex(input: string): Token[] {
  const lexer = new Lexer(input);
  try {
    lexer.run();
  } catch (e) {
    if (!(e instanceof LexError)) throw e;
    lexer.tokens.push({ type: 'error', value: e.message, pos: e.pos });
  }
  return lexer.tokens;
}

class Lexer {
  readonly tokens: Token[] = [];
  private parenDepth = 0;

  constructor(private readonly input: string) {}

  run(): void {
    const s = this.input;
    let pos = 0;
    for (;;) {
      const open = s.indexOf(LEFT_DELIM, pos);
      if (open < 0) {
        if (pos < s.length) this.emit('text', pos, s.length);
        this.tokens.push({ type: 'eof', value: '', pos: s.length });
        return;
      }
      const afterOpen = open + LEFT_DELIM.length;
      const trimLeft = hasLeftTrimMarker(s, afterOpen);
      let textEnd = open;
      // `{{- ` eats all whitespace (newlines included) before the action.
      if (trimLeft) while (textEnd > pos && isSpaceChar(s[textEnd - 1])) textEnd--;
      if (textEnd > pos) this.emit('text', pos, textEnd);

      const inner = afterOpen + (trimLeft ? 2 : 0);
      if (s.startsWith(LEFT_COMMENT, inner)) {
        pos = this.comment(open, inner);
        continue;
      }
      this.tokens.push({ type: 'leftDelim', value: LEFT_DELIM, pos: open });
      this.parenDepth = 0;
      pos = this.insideAction(open, inner);
    }
  }

  private emit(type: TokenType, start: number, end: number): void {
    this.tokens.push({ type, value: this.input.slice(start, end), pos: start });
  }

  /** Scans `/* ... *\/}}`; comments produce no token. Returns the position after it. */
  private comment(open: number, start: number): number {
    const s = this.input;
    const close = s.indexOf(RIGHT_COMMENT, start + LEFT_COMMENT.length);
    if (close < 0) throw new LexError('unclosed comment', open);
    let pos = close + RIGHT_COMMENT.length;
    const { delim, trim } = this.atRightDelim(pos);
    if (!delim) throw new LexError('comment ends before closing delimiter', pos);
    pos += (trim ? 2 : 0) + RIGHT_DELIM.length;
    if (trim) while (isSpaceChar(s[pos])) pos++;
    return pos;
  }

  /** Is there a right delimiter here, possibly preceded by a trim marker (` -}}`)? */
  private atRightDelim(pos: number): { delim: boolean; trim: boolean } {
    const s = this.input;
    if (hasRightTrimMarker(s, pos) && s.startsWith(RIGHT_DELIM, pos + 2)) return { delim: true, trim: true };
    if (s.startsWith(RIGHT_DELIM, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  }

  /** Go's atTerminator: can an identifier/field/variable end here? */
  private atTerminator(pos: number): boolean {
    const c = this.input[pos];
    if (c === undefined || isSpaceChar(c)) return true;
    if ('.,|:)('.includes(c)) return true;
    return this.input.startsWith(RIGHT_DELIM, pos);
  }

  private charAt(pos: number): string {
    const cp = this.input.codePointAt(pos);
    return cp === undefined ? '' : String.fromCodePoint(cp);
  }

  /** Lexes the inside of one action; returns the position after its `}}` (and any trimmed space). */
  private insideAction(open: number, start: number): number {
    const s = this.input;
    let pos = start;
    for (;;) {
      const { delim, trim } = this.atRightDelim(pos);
      if (delim) {
        if (this.parenDepth !== 0) throw new LexError('unclosed left paren', pos);
        if (trim) pos += 2;
        this.tokens.push({ type: 'rightDelim', value: RIGHT_DELIM, pos });
        pos += RIGHT_DELIM.length;
        if (trim) while (isSpaceChar(s[pos])) pos++;
        return pos;
      }
      if (pos >= s.length) throw new LexError('unclosed action', open);
      const ch = this.charAt(pos);
      pos = this.actionToken(ch, pos);
    }
  }

  /** Lexes one token starting with `ch` at `pos`; returns the position after it. */
  private actionToken(ch: string, pos: number): number {
    const s = this.input;
    if (isSpaceChar(ch)) return this.space(pos);
    switch (ch) {
      case '=':
        this.emit('assign', pos, pos + 1);
        return pos + 1;
      case ':':
        if (s[pos + 1] !== '=') throw new LexError('expected :=', pos);
        this.emit('declare', pos, pos + 2);
        return pos + 2;
      case '|':
        this.emit('pipe', pos, pos + 1);
        return pos + 1;
      case '"':
        return this.quoted(pos, '"', 'string', 'unterminated quoted string');
      case "'":
        return this.quoted(pos, "'", 'charConstant', 'unterminated character constant');
      case '`': {
        const close = s.indexOf('`', pos + 1);
        if (close < 0) throw new LexError('unterminated raw quoted string', pos);
        this.emit('rawString', pos, close + 1);
        return close + 1;
      }
      case '$':
        return this.fieldOrVariable(pos, 'variable');
      case '(':
        this.emit('leftParen', pos, pos + 1);
        this.parenDepth++;
        return pos + 1;
      case ')':
        this.emit('rightParen', pos, pos + 1);
        this.parenDepth--;
        if (this.parenDepth < 0) throw new LexError('unexpected right paren', pos);
        return pos + 1;
      case '.': {
        // ".5" is a number, ".Field" a field; a "." at the very end falls to the number scanner.
        const next = s[pos + 1];
        if (next !== undefined && (next < '0' || next > '9')) return this.fieldOrVariable(pos, 'field');
        return this.number(pos);
      }
    }
    if (ch === '+' || ch === '-' || (ch >= '0' && ch <= '9')) return this.number(pos);
    if (isAlphaNumeric(ch)) return this.identifier(pos);
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x20 && cp < 0x7f) {
      this.emit('char', pos, pos + 1);
      return pos + 1;
    }
    throw new LexError(`unrecognized character in action: ${describeChar(ch)}`, pos);
  }

  /**
   * A run of spaces. If it ends in ` -}}`, the last space belongs to the
   * trim marker, so it is left for the delimiter check.
   */
  private space(start: number): number {
    const s = this.input;
    let pos = start;
    while (isSpaceChar(s[pos])) pos++;
    if (hasRightTrimMarker(s, pos - 1) && s.startsWith(RIGHT_DELIM, pos + 1)) pos--;
    if (pos > start) this.emit('space', start, pos);
    return pos;
  }

  private quoted(start: number, quote: string, type: TokenType, message: string): number {
    const s = this.input;
    let pos = start + 1;
    for (;;) {
      const c = s[pos];
      if (c === '\\') {
        const n = s[pos + 1];
        if (n === undefined || n === '\n') throw new LexError(message, start);
        pos += 2;
        continue;
      }
      if (c === undefined || c === '\n') throw new LexError(message, start);
      pos++;
      if (c === quote) break;
    }
    this.emit(type, start, pos);
    return pos;
  }

  private alnumRun(pos: number): number {
    let p = pos;
    for (;;) {
      const ch = this.charAt(p);
      if (!isAlphaNumeric(ch)) return p;
      p += ch.length;
    }
  }

  private identifier(start: number): number {
    const end = this.alnumRun(start);
    if (!this.atTerminator(end)) throw new LexError(`bad character ${describeChar(this.charAt(end))}`, end);
    const word = this.input.slice(start, end);
    const keyword = KEYWORDS.get(word);
    if (keyword !== undefined) this.emit(keyword, start, end);
    else if (word === 'true' || word === 'false') this.emit('bool', start, end);
    else this.emit('identifier', start, end);
    return end;
  }

  /** `.Name` or `$name`; a bare `.` is the dot, a bare `$` the root variable. */
  private fieldOrVariable(start: number, type: 'field' | 'variable'): number {
    if (this.atTerminator(start + 1)) {
      this.emit(type === 'field' ? 'dot' : 'variable', start, start + 1);
      return start + 1;
    }
    const end = this.alnumRun(start + 1);
    if (!this.atTerminator(end)) throw new LexError(`bad character ${describeChar(this.charAt(end))}`, end);
    this.emit(type, start, end);
    return end;
  }

  /**
   * Scans something number-like the way Go does: permissively, leaving the
   * real validation to the parser (so "089" lexes and fails later).
   */
  private number(start: number): number {
    let pos = this.scanNumber(start);
    const sign = this.input[pos];
    if (sign === '+' || sign === '-') {
      // complex literal like 1+2i
      pos = this.scanNumber(pos);
      if (this.input[pos - 1] !== 'i') throw this.badNumber(start, pos);
      this.emit('complex', start, pos);
      return pos;
    }
    this.emit('number', start, pos);
    return pos;
  }

  private badNumber(start: number, end: number): LexError {
    return new LexError(`bad number syntax: ${JSON.stringify(this.input.slice(start, end))}`, start);
  }

  private scanNumber(start: number): number {
    const s = this.input;
    let pos = start;
    const accept = (set: string): boolean => {
      if (s[pos] !== undefined && set.includes(s[pos])) {
        pos++;
        return true;
      }
      return false;
    };
    const acceptRun = (set: string): void => {
      while (accept(set));
    };
    accept('+-');
    let digits = '0123456789_';
    if (accept('0')) {
      if (accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (accept('oO')) digits = '01234567_';
      else if (accept('bB')) digits = '01_';
    }
    acceptRun(digits);
    if (accept('.')) acceptRun(digits);
    if (digits.length === 11 && accept('eE')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    if (digits.length === 23 && accept('pP')) {
      accept('+-');
      acceptRun('0123456789_');
    }
    accept('i');
    const next = this.charAt(pos);
    if (isAlphaNumeric(next)) throw this.badNumber(start, pos + next.length);
    return pos;
  }
}
