/**
 * Go regular expressions (RE2 syntax, Go's `regexp` package) on top of JS
 * RegExp, for `regexReplaceAll`.
 *
 * The pattern is parsed with Go's grammar and re-emitted as an explicit JS
 * pattern (in `v` mode) so that every construct means what it means in Go:
 * `\s`, `\w`, `\d`, `\b` are ASCII-only, `.` excludes only `\n`, `^`/`$`
 * anchor to the text unless `(?m)`, POSIX classes, `\Q…\E`, `(?P<name>…)`.
 * Go features JS cannot express faithfully (case-insensitivity switched on
 * for only part of a pattern) are rejected, as are constructs Go itself
 * rejects (backreferences, lookaround, nested repetition).
 * Replacement follows Go's ReplaceAllString: `$1`, `${1}`, `$name`, `$$`,
 * and Go's rules for empty matches.
 */

export class RegexpError extends Error {}

export interface GoRegexp {
  readonly re: RegExp;
  /** Capture group index for each group name (first one wins). */
  readonly names: ReadonlyMap<string, number>;
}

type Range = readonly [number, number];

const PERL_CLASSES: Record<string, readonly Range[]> = {
  d: [[0x30, 0x39]],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
};

const POSIX_CLASSES: Record<string, readonly Range[]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: PERL_CLASSES.w,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
};

/** Go's Unicode general categories (its `C` excludes unassigned code points, unlike JS's). */
const CATEGORIES = new Set(
  'L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs Cc Cf Co Cs'.split(' '),
);

/** A code point written so it is literal in any position of a `v`-mode pattern. */
function esc(cp: number): string {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) {
    return String.fromCharCode(cp);
  }
  return `\\u{${cp.toString(16)}}`;
}

function rangeClass(ranges: readonly Range[], negate: boolean): string {
  const body = ranges.map(([lo, hi]) => (lo === hi ? esc(lo) : `${esc(lo)}-${esc(hi)}`)).join('');
  return `[${negate ? '^' : ''}${body}]`;
}

const WORD = rangeClass(PERL_CLASSES.w, false);
const WORD_BOUNDARY = `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`;
const NOT_WORD_BOUNDARY = `(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))`;

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
}

class Translator {
  private pos = 0;
  private out = '';
  private flags: Flags = { i: false, m: false, s: false, U: false };
  private readonly stack: Flags[] = [];
  /** What the previous item was, for Go's repetition rules. */
  private last: 'none' | 'atom' | 'repeat' = 'none';
  private groups = 0;
  readonly names = new Map<string, number>();
  /** Case-insensitivity of every case-sensitive atom; JS can only apply `i` globally. */
  private readonly caseModes = new Set<boolean>();

  constructor(private readonly src: string) {}

  translate(): RegExp {
    while (this.pos < this.src.length) this.item();
    if (this.stack.length > 0) this.fail('missing closing )');
    if (this.caseModes.size > 1) {
      throw new RegexpError('case-insensitive matching for only part of a pattern is not supported');
    }
    const flags = this.caseModes.has(true) ? 'gvi' : 'gv';
    try {
      return new RegExp(this.out, flags);
    } catch (e) {
      throw new RegexpError(`unsupported regular expression: ${(e as Error).message}`);
    }
  }

  private fail(message: string): never {
    throw new RegexpError(`error parsing regexp: ${message}: \`${this.src}\``);
  }

  private cp(at = this.pos): number {
    return this.src.codePointAt(at) ?? -1;
  }

  /** Consumes and returns the code point at the cursor. */
  private take(): number {
    const c = this.cp();
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  private atom(js: string, caseSensitive: boolean): void {
    this.out += js;
    this.last = 'atom';
    if (caseSensitive) this.caseModes.add(this.flags.i);
  }

  private literal(cp: number): void {
    const ch = String.fromCodePoint(cp);
    this.atom(esc(cp), ch.toLowerCase() !== ch.toUpperCase() || cp === 0x17f || cp === 0x212a);
  }

  private item(): void {
    const c = this.src[this.pos];
    switch (c) {
      case '(':
        return this.openGroup();
      case ')':
        this.pos++;
        if (this.stack.length === 0) this.fail('unexpected )');
        this.flags = this.stack.pop() as Flags;
        this.out += ')';
        this.last = 'atom';
        return;
      case '|':
        this.pos++;
        this.out += '|';
        this.last = 'none';
        return;
      case '*':
      case '+':
      case '?':
        this.pos++;
        return this.repeat(c, c);
      case '{': {
        const rep = this.braceRepeat();
        if (rep) return this.repeat(rep.js, rep.text);
        this.pos++;
        return this.literal(0x7b);
      }
      case '^':
        this.pos++;
        return this.atom(this.flags.m ? '(?<![^\\n])' : '(?<![\\s\\S])', false);
      case '$':
        this.pos++;
        return this.atom(this.flags.m ? '(?![^\\n])' : '(?![\\s\\S])', false);
      case '.':
        this.pos++;
        return this.atom(this.flags.s ? '[\\s\\S]' : '[^\\n]', false);
      case '[':
        return this.charClass();
      case '\\':
        return this.escape();
      default:
        return this.literal(this.take());
    }
  }

  private repeat(op: string, text: string): void {
    if (this.last === 'none') this.fail(`missing argument to repetition operator: \`${text}\``);
    if (this.last === 'repeat') this.fail(`invalid nested repetition operator: \`${text}\``);
    let lazy = false;
    if (this.src[this.pos] === '?') {
      this.pos++;
      lazy = true;
    }
    if (this.flags.U) lazy = !lazy;
    this.out += op + (lazy ? '?' : '');
    this.last = 'repeat';
  }

  /** `{n}`, `{n,}`, `{n,m}`; anything else makes `{` a literal, as in Go. */
  private braceRepeat(): { js: string; text: string } | null {
    const m = /^\{([0-9]+)(,([0-9]*))?\}/.exec(this.src.slice(this.pos));
    if (!m) return null;
    const [text, lo, comma, hi] = m;
    const leadingZero = (s: string): boolean => s.length >= 2 && s[0] === '0';
    if (leadingZero(lo) || (hi !== undefined && leadingZero(hi))) return null;
    const min = lo.length > 8 ? Infinity : Number(lo);
    const max = comma === undefined ? min : hi === '' ? -1 : hi.length > 8 ? Infinity : Number(hi);
    if (min > 1000 || max > 1000 || (max >= 0 && min > max)) this.fail(`invalid repeat count: \`${text}\``);
    this.pos += text.length;
    return { js: text, text };
  }

  private openGroup(): void {
    const rest = this.src.slice(this.pos);
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named && !rest.startsWith('(?<=') && !rest.startsWith('(?<!')) {
      const name = named[1];
      if (!/^[A-Za-z0-9_]+$/.test(name)) this.fail(`invalid named capture: \`${named[0]}\``);
      this.pos += named[0].length;
      this.capture(name);
      return;
    }
    if (!rest.startsWith('(?')) {
      this.pos++;
      this.capture(null);
      return;
    }
    this.perlFlags();
  }

  private capture(name: string | null): void {
    this.groups++;
    if (name !== null && !this.names.has(name)) this.names.set(name, this.groups);
    this.stack.push({ ...this.flags });
    this.out += '(';
    this.last = 'none';
  }

  /** `(?flags)` or `(?flags:re)`. */
  private perlFlags(): void {
    const start = this.pos;
    this.pos += 2;
    const flags = { ...this.flags };
    let negate = false;
    let sawFlag = false;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos++];
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        flags[c] = !negate;
        sawFlag = true;
      } else if (c === '-' && !negate) {
        negate = true;
        sawFlag = false;
      } else if ((c === ':' || c === ')') && !(negate && !sawFlag)) {
        if (c === ':') {
          this.stack.push({ ...this.flags });
          this.out += '(?:';
        }
        this.flags = flags;
        this.last = 'none';
        return;
      } else break;
    }
    this.fail(`invalid or unsupported Perl syntax: \`${this.src.slice(start, this.pos)}\``);
  }

  private escape(): void {
    const start = this.pos;
    const c = this.src[this.pos + 1];
    if (c === undefined) this.fail('trailing backslash at end of expression');
    switch (c) {
      case 'A':
        this.pos += 2;
        return this.atom('(?<![\\s\\S])', false);
      case 'z':
        this.pos += 2;
        return this.atom('(?![\\s\\S])', false);
      case 'b':
        this.pos += 2;
        return this.atom(WORD_BOUNDARY, false);
      case 'B':
        this.pos += 2;
        return this.atom(NOT_WORD_BOUNDARY, false);
      case 'Q': {
        // \Q...\E: everything in between is literal, one atom per character.
        const close = this.src.indexOf('\\E', start + 2);
        const lit = this.src.slice(start + 2, close < 0 ? this.src.length : close);
        this.pos = close < 0 ? this.src.length : close + 2;
        for (const ch of lit) this.literal(ch.codePointAt(0) ?? 0);
        return;
      }
      case 'p':
      case 'P':
        return this.atom(this.unicodeClass(), true);
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
        this.pos += 2;
        return this.atom(this.perlClass(c), c === 'w' || c === 'W');
      default:
        this.pos++;
        return this.literal(this.escapedChar(start));
    }
  }

  private perlClass(c: string): string {
    return rangeClass(PERL_CLASSES[c.toLowerCase()], c !== c.toLowerCase());
  }

  /** Go's parseEscape; the cursor is just after the backslash. */
  private escapedChar(start: number): number {
    const c = this.take();
    if (c < 0x80 && !/[0-9A-Za-z]/.test(String.fromCharCode(c))) return c;
    const ch = String.fromCodePoint(c);
    const isOctal = (at: number): boolean => /[0-7]/.test(this.src[at] ?? '');
    if (ch >= '1' && ch <= '7' && isOctal(this.pos)) return this.octal(c - 0x30);
    if (ch === '0') return this.octal(0);
    if (ch === 'x') {
      if (this.src[this.pos] === '{') {
        const m = /^\{([0-9A-Fa-f]+)\}/.exec(this.src.slice(this.pos));
        if (m && m[1].length <= 8 && parseInt(m[1], 16) <= 0x10ffff) {
          this.pos += m[0].length;
          return parseInt(m[1], 16);
        }
      } else {
        const h = this.src.slice(this.pos, this.pos + 2);
        if (/^[0-9A-Fa-f]{2}$/.test(h)) {
          this.pos += 2;
          return parseInt(h, 16);
        }
      }
    }
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (ch in simple) return simple[ch];
    this.fail(`invalid escape sequence: \`${this.src.slice(start, this.pos)}\``);
  }

  private octal(first: number): number {
    let r = first;
    for (let i = 1; i < 3 && /[0-7]/.test(this.src[this.pos] ?? ''); i++) r = r * 8 + (this.src.charCodeAt(this.pos++) - 0x30);
    return r;
  }

  /** `\pL`, `\p{Greek}`, `\P{^Lu}`; the cursor is on the backslash. */
  private unicodeClass(): string {
    const start = this.pos;
    let negate = this.src[this.pos + 1] === 'P';
    this.pos += 2;
    let name: string;
    if (this.src[this.pos] === '{') {
      const close = this.src.indexOf('}', this.pos);
      if (close < 0) this.fail(`invalid character class range: \`${this.src.slice(start)}\``);
      name = this.src.slice(this.pos + 1, close);
      this.pos = close + 1;
    } else {
      if (this.pos >= this.src.length) this.fail(`invalid character class range: \`${this.src.slice(start)}\``);
      name = String.fromCodePoint(this.take());
    }
    if (name.startsWith('^')) {
      negate = !negate;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) this.fail(`invalid character class range: \`${this.src.slice(start, this.pos)}\``);
    let body: string;
    if (name === 'Any') body = '[\\u{0}-\\u{10ffff}]';
    else if (name === 'C') body = '[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}]';
    else if (CATEGORIES.has(name)) body = `\\p{${name}}`;
    else body = `\\p{Script=${name}}`;
    return negate ? `[^${body}]` : body;
  }

  /** A bracketed class; nested classes are legal in `v` mode. */
  private charClass(): void {
    const start = this.pos;
    this.pos++;
    let negate = false;
    if (this.src[this.pos] === '^') {
      negate = true;
      this.pos++;
    }
    const parts: string[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) this.fail(`missing closing ]: \`${this.src.slice(start)}\``);
      if (this.src[this.pos] === ']' && !first) break;
      first = false;
      const rest = this.src.slice(this.pos);
      if (rest.startsWith('[:')) {
        const close = rest.indexOf(':]', 2);
        if (close >= 0) {
          let name = rest.slice(2, close);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const ranges = Object.hasOwn(POSIX_CLASSES, name) ? POSIX_CLASSES[name] : undefined;
          if (!ranges) this.fail(`invalid character class range: \`${rest.slice(0, close + 2)}\``);
          parts.push(rangeClass(ranges, neg));
          this.pos += close + 2;
          continue;
        }
      }
      if (/^\\[pP]/.test(rest)) {
        parts.push(this.unicodeClass());
        continue;
      }
      if (/^\\[dDsSwW]/.test(rest)) {
        parts.push(this.perlClass(rest[1]));
        this.pos += 2;
        continue;
      }
      const lo = this.classChar(start);
      let hi = lo;
      if (this.src[this.pos] === '-' && this.pos + 1 < this.src.length && this.src[this.pos + 1] !== ']') {
        this.pos++;
        hi = this.classChar(start);
        if (hi < lo) this.fail(`invalid character class range: \`${this.src.slice(start, this.pos)}\``);
      }
      parts.push(lo === hi ? esc(lo) : `${esc(lo)}-${esc(hi)}`);
    }
    this.pos++;
    this.atom(`[${negate ? '^' : ''}${parts.join('')}]`, true);
  }

  private classChar(start: number): number {
    if (this.pos >= this.src.length) this.fail(`missing closing ]: \`${this.src.slice(start)}\``);
    if (this.src[this.pos] === '\\') {
      const at = this.pos;
      this.pos++;
      if (this.pos >= this.src.length) this.fail('trailing backslash at end of expression');
      return this.escapedChar(at);
    }
    return this.take();
  }
}

const cache = new Map<string, GoRegexp>();
const CACHE_LIMIT = 64;

/** Compiles a Go regular expression; throws {@link RegexpError} on syntax Go (or we) reject. */
export function compileGoRegexp(pattern: string): GoRegexp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const t = new Translator(pattern);
  const compiled: GoRegexp = { re: t.translate(), names: t.names };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

/** Go's regexp.Regexp.Expand for one match. */
function expand(template: string, match: RegExpExecArray, names: ReadonlyMap<string, number>): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = /^(\{)?([\p{L}\p{Nd}_]+)/u.exec(rest);
    if (!ref || (ref[1] && rest[ref[0].length] !== '}')) {
      out += '$'; // malformed reference: keep the dollar as text
      continue;
    }
    const name = ref[2];
    rest = rest.slice(ref[0].length + (ref[1] ? 1 : 0));
    let group = -1;
    if (/^[0-9]+$/.test(name) && !(name.length > 1 && name[0] === '0') && name.length <= 8) group = Number(name);
    else group = names.get(name) ?? -1;
    if (group >= 0 && group < match.length) out += match[group] ?? '';
  }
  return out + rest;
}

/** Go's Regexp.ReplaceAllString, including its handling of empty matches. */
export function replaceAllString(compiled: GoRegexp, src: string, template: string): string {
  const re = compiled.re;
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    re.lastIndex = searchPos;
    const m = re.exec(src);
    if (!m) break;
    const a0 = m.index;
    const a1 = a0 + m[0].length;
    out += src.slice(lastMatchEnd, a0);
    // An empty match right after a previous match is not replaced.
    if (a1 > lastMatchEnd || a0 === 0) out += expand(template, m, compiled.names);
    lastMatchEnd = a1;
    const cp = src.codePointAt(searchPos);
    const width = cp === undefined ? 0 : cp > 0xffff ? 2 : 1;
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + src.slice(lastMatchEnd);
}
