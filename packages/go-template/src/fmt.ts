/**
 * Go's fmt package, for the value types templates use: Sprint, Sprintln and
 * Sprintf with Go's verbs, flags, width/precision, argument indexes and its
 * in-band error strings (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA …)`).
 * Output must match Go byte for byte, so float formatting works from the
 * exact decimal expansion and rounds half-to-even like strconv.
 */

import { type GoArg, type GoValue, runeCount, typeName, utf8Bytes } from './values.js';

/** Thrown for the few verbs we do not implement, rather than guessing. */
export class FormatUnsupported extends Error {}

// ---------------------------------------------------------------------------
// Quoting (strconv.Quote and friends)

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space. */
export function isPrint(cp: number): boolean {
  if (cp === 0x20) return true;
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  return PRINTABLE.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function escapeRune(r: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(r);
  if (ch === quote || ch === '\\') return `\\${ch}`;
  if (asciiOnly ? r < 0x80 && isPrint(r) : isPrint(r)) return ch;
  switch (r) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return `\\x${hex(r, 2)}`;
  if (r < 0x10000) return `\\u${hex(r, 4)}`;
  return `\\U${hex(r, 8)}`;
}

/** Code points of a string; unpaired surrogates read as U+FFFD, as their UTF-8 encoding would. */
function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0xfffd;
    out.push(cp >= 0xd800 && cp <= 0xdfff ? 0xfffd : cp);
  }
  return out;
}

export function quote(s: string, asciiOnly = false): string {
  return `"${codePoints(s)
    .map((r) => escapeRune(r, '"', asciiOnly))
    .join('')}"`;
}

function quoteRune(r: number, asciiOnly: boolean): string {
  const valid = r >= 0 && r <= 0x10ffff && !(r >= 0xd800 && r <= 0xdfff);
  return `'${escapeRune(valid ? r : 0xfffd, "'", asciiOnly)}'`;
}

function canBackquote(s: string): boolean {
  for (const r of codePoints(s)) {
    if (r === 0xfeff) return false;
    if ((r < 0x20 && r !== 9) || r === 0x60 || r === 0x7f) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Float formatting (strconv.FormatFloat)

/** A decimal digit string `d` (no trailing zeros) with the decimal point after `dp` digits. */
interface Digits {
  d: string;
  dp: number;
}

/** Shortest digits that round-trip; JS and Go both pick the closest such string. */
function shortestDigits(a: number): Digits {
  if (a === 0) return { d: '', dp: 0 };
  const [mant, exp] = a.toExponential().split('e');
  const d = mant.replace('.', '').replace(/0+$/, '');
  return { d, dp: Number(exp) + 1 };
}

function floatBits(a: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  let exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  return { mant, exp: exp - 1023 - 52 };
}

/** The exact decimal value of a finite non-negative double. */
function exactDigits(a: number): Digits {
  if (a === 0) return { d: '', dp: 0 };
  const { mant, exp } = floatBits(a);
  let s: string;
  let dp: number;
  if (exp >= 0) {
    s = (mant << BigInt(exp)).toString();
    dp = s.length;
  } else {
    s = (mant * 5n ** BigInt(-exp)).toString();
    dp = s.length + exp;
  }
  const d = s.replace(/0+$/, '');
  return { d, dp };
}

/** Rounds to `nd` digits, half to even on exact ties (strconv's decimal.Round). */
function roundDigits(x: Digits, nd: number): Digits {
  const { d, dp } = x;
  if (nd < 0 || nd >= d.length) return x;
  const halfway = d[nd] === '5' && nd + 1 === d.length;
  const up = halfway ? nd > 0 && Number(d[nd - 1]) % 2 === 1 : d[nd] >= '5';
  if (!up) return { d: d.slice(0, nd).replace(/0+$/, ''), dp };
  for (let i = nd - 1; i >= 0; i--) {
    if (d[i] < '9') return { d: d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) + 1), dp };
  }
  return { d: '1', dp: dp + 1 };
}

function fmtE(neg: boolean, x: Digits, prec: number, e: string): string {
  let out = neg ? '-' : '';
  out += x.d.length > 0 ? x.d[0] : '0';
  if (prec > 0) {
    out += '.';
    const more = x.d.slice(1, Math.min(x.d.length, prec + 1));
    out += more.padEnd(prec, '0');
  }
  let exp = x.d.length === 0 ? 0 : x.dp - 1;
  const sign = exp < 0 ? '-' : '+';
  exp = Math.abs(exp);
  return `${out}${e}${sign}${exp < 10 ? `0${exp}` : String(exp)}`;
}

function fmtF(neg: boolean, x: Digits, prec: number): string {
  let out = neg ? '-' : '';
  if (x.dp > 0) out += x.d.slice(0, x.dp).padEnd(x.dp, '0');
  else out += '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = x.dp + i - 1;
      out += j >= 0 && j < x.d.length ? x.d[j] : '0';
    }
  }
  return out;
}

function fmtB(v: number): string {
  const { mant, exp } = floatBits(Math.abs(v));
  const neg = v < 0 || Object.is(v, -0);
  return `${neg ? '-' : ''}${mant}p${exp >= 0 ? '+' : ''}${exp}`;
}

/** strconv.FormatFloat(v, fmt, prec, 64) for fmt in b e E f g G; prec -1 = shortest. */
export function formatFloat(v: number, format: string, precision: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (format === 'b') return fmtB(v);
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  const shortest = precision < 0;
  let prec = precision;
  let digs: Digits;
  if (shortest) {
    digs = shortestDigits(a);
    if (format === 'e' || format === 'E') prec = Math.max(digs.d.length - 1, 0);
    else if (format === 'f') prec = Math.max(digs.d.length - digs.dp, 0);
    else prec = digs.d.length;
  } else {
    digs = exactDigits(a);
    if (format === 'e' || format === 'E') digs = roundDigits(digs, prec + 1);
    else if (format === 'f') digs = roundDigits(digs, digs.dp + prec);
    else {
      if (prec === 0) prec = 1;
      digs = roundDigits(digs, prec);
    }
  }
  if (format === 'e' || format === 'E') return fmtE(neg, digs, prec, format);
  if (format === 'f') return fmtF(neg, digs, prec);
  // %g: exponent form for very small or large exponents.
  const nd = digs.d.length;
  let eprec = prec;
  if (eprec > nd && nd >= digs.dp) eprec = nd;
  if (shortest) eprec = 6;
  const exp = digs.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    return fmtE(neg, digs, prec - 1, format === 'g' ? 'e' : 'E');
  }
  if (prec > digs.dp) prec = nd;
  return fmtF(neg, digs, Math.max(prec - digs.dp, 0));
}

// ---------------------------------------------------------------------------
// The printer (fmt's pp and fmt structs)

const MAX_WIDTH = 1e6;

class Printer {
  buf = '';
  // Formatting flags for the verb being processed.
  plus = false;
  minus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  widPresent = false;
  prec = 0;
  precPresent = false;
  /** The operand being printed, for %!verb(type=value) messages. */
  private arg: GoArg = null;

  clearFlags(): void {
    this.plus = this.minus = this.sharp = this.space = this.zero = false;
    this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
    this.widPresent = this.precPresent = false;
  }

  private writePadding(n: number): void {
    if (n > 0) this.buf += (this.zero ? '0' : ' ').repeat(n);
  }

  private pad(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.wid - runeCount(s);
    if (this.minus) {
      this.buf += s;
      this.writePadding(width);
    } else {
      this.writePadding(width);
      this.buf += s;
    }
  }

  private truncate(s: string): string {
    if (!this.precPresent) return s;
    return Array.from(s).slice(0, this.prec).join('');
  }

  private badVerb(verb: string): void {
    this.buf += `%!${verb}(`;
    if (this.arg === null) this.buf += '<nil>';
    else {
      this.buf += `${typeName(this.arg)}=`;
      this.printArg(this.arg, 'v');
    }
    this.buf += ')';
  }

  printArg(arg: GoArg, verb: string): void {
    this.arg = arg;
    if (arg === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>');
      else this.badVerb(verb);
      return;
    }
    if (verb === 'T') {
      this.fmtS(typeName(arg));
      return;
    }
    if (verb === 'p') {
      // Go prints an address for slices and maps; there is none to print here.
      this.badVerb(verb);
      return;
    }
    this.printValue(arg, verb, 0);
  }

  private printValue(v: GoValue, verb: string, depth: number): void {
    if (depth > 0) this.arg = v;
    switch (typeof v) {
      case 'boolean':
        if (verb === 't' || verb === 'v') this.pad(v ? 'true' : 'false');
        else this.badVerb(verb);
        return;
      case 'bigint':
        this.fmtInteger(v, verb);
        return;
      case 'number':
        this.fmtFloat(v, verb);
        return;
      case 'string':
        this.fmtString(v, verb);
        return;
    }
    if (v.kind === 'slice') {
      this.buf += this.sharpV ? `${typeName(v)}{` : '[';
      v.items.forEach((item, i) => {
        if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
        this.printValue(item, verb, depth + 1);
      });
      this.buf += this.sharpV ? '}' : ']';
      return;
    }
    this.buf += this.sharpV ? `${typeName(v)}{` : 'map[';
    v.keys.forEach((key, i) => {
      if (i > 0) this.buf += this.sharpV ? ', ' : ' ';
      this.printValue(key, verb, depth + 1);
      this.buf += ':';
      this.printValue(v.entries.get(key) ?? '', verb, depth + 1);
    });
    this.buf += this.sharpV ? '}' : ']';
  }

  // ---- strings

  private fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.sharpV) this.fmtQ(s);
        else this.fmtS(s);
        return;
      case 's':
        this.fmtS(s);
        return;
      case 'x':
      case 'X':
        this.fmtSx(s, verb === 'X');
        return;
      case 'q':
        this.fmtQ(s);
        return;
      default:
        this.badVerb(verb);
    }
  }

  private fmtS(s: string): void {
    this.pad(this.truncate(s));
  }

  private fmtQ(s: string): void {
    const t = this.truncate(s);
    if (this.sharp && canBackquote(t)) this.pad(`\`${t}\``);
    else this.pad(quote(t, this.plus));
  }

  private fmtSx(s: string, upper: boolean): void {
    const bytes = utf8Bytes(s);
    const length = this.precPresent && this.prec < bytes.length ? this.prec : bytes.length;
    const prefix = upper ? '0X' : '0x';
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) width += 2;
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    let out = this.sharp ? prefix : '';
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) out += this.sharp ? ` ${prefix}` : ' ';
      const h = hex(bytes[i], 2);
      out += upper ? h.toUpperCase() : h;
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  // ---- integers

  private fmtInteger(v: bigint, verb: string): void {
    switch (verb) {
      case 'v':
      case 'd':
        return this.fmtInt(v, 10, verb, false);
      case 'b':
        return this.fmtInt(v, 2, verb, false);
      case 'o':
      case 'O':
        return this.fmtInt(v, 8, verb, false);
      case 'x':
        return this.fmtInt(v, 16, verb, false);
      case 'X':
        return this.fmtInt(v, 16, verb, true);
      case 'c':
        return this.pad(String.fromCodePoint(toRune(v)));
      case 'q': {
        const r = toRune(v);
        if (this.sharp && isPrint(r)) this.pad(`'${String.fromCodePoint(r)}'`);
        else this.pad(quoteRune(r, this.plus));
        return;
      }
      case 'U':
        return this.fmtUnicode(v);
      default:
        this.badVerb(verb);
    }
  }

  private fmtInt(v: bigint, base: number, verb: string, upper: boolean): void {
    const negative = v < 0n;
    const u = negative ? -v : v;
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      // Precision 0 and value 0 print nothing but padding.
      if (prec === 0 && u === 0n) {
        const oldZero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = oldZero;
        return;
      }
    } else if (this.zero && !this.minus && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--; // room for the sign
    }
    let s = u.toString(base);
    if (upper) s = s.toUpperCase();
    if (s.length < prec) s = s.padStart(prec, '0');
    if (this.sharp) {
      if (base === 2) s = `0b${s}`;
      else if (base === 8 && s[0] !== '0') s = `0${s}`;
      else if (base === 16) s = `${upper ? '0X' : '0x'}${s}`;
    }
    if (verb === 'O') s = `0o${s}`;
    if (negative) s = `-${s}`;
    else if (this.plus) s = `+${s}`;
    else if (this.space) s = ` ${s}`;
    // Zero padding was done above as precision; pad the rest with spaces.
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  private fmtUnicode(v: bigint): void {
    const u = BigInt.asUintN(64, v);
    const prec = this.precPresent && this.prec > 4 ? this.prec : 4;
    let s = `U+${u.toString(16).toUpperCase().padStart(prec, '0')}`;
    if (this.sharp && u <= 0x10ffffn && isPrint(Number(u))) s += ` '${String.fromCodePoint(Number(u))}'`;
    const oldZero = this.zero;
    this.zero = false;
    this.pad(s);
    this.zero = oldZero;
  }

  // ---- floats

  private fmtFloat(v: number, verb: string): void {
    switch (verb) {
      case 'v':
        return this.fmtFloatAs(v, 'g', -1);
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        return this.sharpV ? this.fmtFloatAs(v, 'g', -1) : this.fmtFloatAs(v, verb, -1);
      case 'f':
      case 'e':
      case 'E':
        return this.sharpV ? this.fmtFloatAs(v, 'g', -1) : this.fmtFloatAs(v, verb, 6);
      case 'F':
        return this.sharpV ? this.fmtFloatAs(v, 'g', -1) : this.fmtFloatAs(v, 'f', 6);
      default:
        this.badVerb(verb);
    }
  }

  private fmtFloatAs(v: number, verb: string, defaultPrec: number): void {
    if (verb === 'x' || verb === 'X') throw new FormatUnsupported(`%${verb} of a float64 is not supported`);
    const prec = this.precPresent ? this.prec : defaultPrec;
    let num = formatFloat(v, verb, prec);
    if (num[0] !== '-' && num[0] !== '+') num = `+${num}`;
    if (this.space && num[0] === '+' && !this.plus) num = ` ${num.slice(1)}`;
    if (num[1] === 'I' || num[1] === 'N') {
      // Infinities and NaN are never zero padded.
      const oldZero = this.zero;
      this.zero = false;
      if (num[1] === 'N' && !this.space && !this.plus) num = num.slice(1);
      this.pad(num);
      this.zero = oldZero;
      return;
    }
    if (this.sharp && verb !== 'b') num = this.forceDecimalPoint(num, verb, prec);
    if (this.plus || num[0] !== '+') {
      // Zero padding goes between the sign and the digits.
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.pad(num);
      return;
    }
    this.pad(num.slice(1));
  }

  /** The `#` flag: always print a decimal point, and keep %g's trailing zeros. */
  private forceDecimalPoint(num: string, verb: string, prec: number): string {
    let digits = 0;
    if (verb === 'v' || verb === 'g' || verb === 'G') digits = prec === -1 ? 6 : prec;
    let body = num;
    let tail = '';
    let hasDecimalPoint = false;
    let sawNonzeroDigit = false;
    for (let i = 1; i < body.length; i++) {
      const c = body[i];
      if (c === '.') hasDecimalPoint = true;
      else if (c === 'e' || c === 'E' || c === 'p' || c === 'P') {
        tail = body.slice(i);
        body = body.slice(0, i);
        break;
      } else {
        if (c !== '0') sawNonzeroDigit = true;
        if (sawNonzeroDigit) digits--;
      }
    }
    if (!hasDecimalPoint) {
      if (body.length === 2 && body[1] === '0') digits--;
      body += '.';
    }
    if (digits > 0) body += '0'.repeat(digits);
    return body + tail;
  }

  // ---- Printf

  doPrintf(format: string, args: readonly GoArg[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    let reordered = false;
    let goodArgNum = true;

    /** `[n]` explicit argument index. */
    const argNumber = (i: number): { argNum: number; i: number; found: boolean } => {
      if (i >= end || format[i] !== '[') return { argNum, i, found: false };
      reordered = true;
      const close = format.indexOf(']', i + 1);
      if (end - i < 3 || close < 0) {
        goodArgNum = false;
        return { argNum, i: i + 1, found: false };
      }
      const { num, isNum, next } = parsenum(format, i + 1, close);
      if (!isNum || next !== close) {
        goodArgNum = false;
        return { argNum, i: close + 1, found: false };
      }
      const index = num - 1;
      if (index >= 0 && index < args.length) return { argNum: index, i: close + 1, found: true };
      goodArgNum = false;
      return { argNum, i: close + 1, found: true };
    };

    /** Width or precision taken from an argument (`*`). */
    const intFromArg = (): { num: number; isInt: boolean } => {
      let num = 0;
      let isInt = false;
      if (argNum < args.length) {
        const a = args[argNum];
        if (typeof a === 'bigint') {
          num = Number(a);
          isInt = true;
        }
        argNum++;
        if (Math.abs(num) > MAX_WIDTH) {
          num = 0;
          isInt = false;
        }
      }
      return { num, isInt };
    };

    let i = 0;
    while (i < end) {
      goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== '%') i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++; // skip %

      this.clearFlags();
      flags: for (; i < end; i++) {
        switch (format[i]) {
          case '#':
            this.sharp = true;
            break;
          case '0':
            this.zero = !this.minus; // only pad with zeros on the left
            break;
          case '+':
            this.plus = true;
            break;
          case '-':
            this.minus = true;
            this.zero = false;
            break;
          case ' ':
            this.space = true;
            break;
          default:
            break flags;
        }
      }

      let r = argNumber(i);
      ({ argNum, i } = r);
      afterIndex = r.found;

      if (i < end && format[i] === '*') {
        i++;
        const w = intFromArg();
        this.wid = w.num;
        this.widPresent = w.isInt;
        if (!this.widPresent) this.buf += '%!(BADWIDTH)';
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        const w = parsenum(format, i, end);
        this.wid = w.num;
        this.widPresent = w.isNum;
        i = w.next;
        if (afterIndex && this.widPresent) goodArgNum = false;
      }

      if (i + 1 < end && format[i] === '.') {
        i++;
        if (afterIndex) goodArgNum = false;
        r = argNumber(i);
        ({ argNum, i } = r);
        afterIndex = r.found;
        if (i < end && format[i] === '*') {
          i++;
          const p = intFromArg();
          this.prec = p.num;
          this.precPresent = p.isInt;
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.buf += '%!(BADPREC)';
          afterIndex = false;
        } else {
          const p = parsenum(format, i, end);
          this.prec = p.num;
          this.precPresent = p.isNum;
          i = p.next;
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }

      if (!afterIndex) {
        r = argNumber(i);
        ({ argNum, i } = r);
        afterIndex = r.found;
      }

      if (i >= end) {
        this.buf += '%!(NOVERB)';
        break;
      }

      const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
      i += verb.length;

      if (verb === '%') {
        this.buf += '%';
      } else if (!goodArgNum) {
        this.buf += `%!${verb}(BADINDEX)`;
      } else if (argNum >= args.length) {
        this.buf += `%!${verb}(MISSING)`;
      } else {
        if (verb === 'v') {
          this.sharpV = this.sharp;
          this.sharp = false;
          this.plusV = this.plus;
          this.plus = false;
        }
        this.printArg(args[argNum], verb);
        argNum++;
      }
    }

    if (!reordered && argNum < args.length) {
      this.clearFlags();
      this.buf += '%!(EXTRA ';
      args.slice(argNum).forEach((arg, n) => {
        if (n > 0) this.buf += ', ';
        if (arg === null) this.buf += '<nil>';
        else {
          this.buf += `${typeName(arg)}=`;
          this.printArg(arg, 'v');
        }
      });
      this.buf += ')';
    }
  }
}

function parsenum(s: string, start: number, end: number): { num: number; isNum: boolean; next: number } {
  if (start >= end) return { num: 0, isNum: false, next: end };
  let num = 0;
  let isNum = false;
  let i = start;
  for (; i < end && s[i] >= '0' && s[i] <= '9'; i++) {
    if (num > MAX_WIDTH) return { num: 0, isNum: false, next: end }; // absurdly long number
    num = num * 10 + (s.charCodeAt(i) - 48);
    isNum = true;
  }
  return { num, isNum, next: i };
}

/** An int as a rune for %c/%q: out-of-range values become U+FFFD, as in Go. */
function toRune(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  if (u > 0x10ffffn) return 0xfffd;
  const r = Number(u);
  return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r;
}

// ---------------------------------------------------------------------------
// Public entry points

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly GoArg[]): string {
  const p = new Printer();
  let prevString = false;
  args.forEach((arg, i) => {
    const isString = typeof arg === 'string';
    if (i > 0 && !isString && !prevString) p.buf += ' ';
    p.printArg(arg, 'v');
    prevString = isString;
  });
  return p.buf;
}

/** fmt.Sprintln: spaces between all operands and a trailing newline. */
export function sprintln(args: readonly GoArg[]): string {
  const p = new Printer();
  args.forEach((arg, i) => {
    if (i > 0) p.buf += ' ';
    p.printArg(arg, 'v');
  });
  return `${p.buf}\n`;
}

export function sprintf(format: string, args: readonly GoArg[]): string {
  const p = new Printer();
  p.doPrintf(format, args);
  return p.buf;
}

/** How a template action prints a value (fmt.Fprint of one operand). */
export function formatValue(v: GoArg): string {
  return sprint([v]);
}
