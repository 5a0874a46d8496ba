/**
 * The template function table: Go's built-ins plus ContainerPilot's
 * extensions (`default`, `env`, `split`, `join`, `replaceAll`,
 * `regexReplaceAll`, `loop`).
 *
 * Each function declares its Go parameter types, because Go's evaluator
 * converts and checks arguments by type before the call (a number literal
 * passed where a `string` is expected is an error, a `nil` is only accepted
 * by `interface{}` parameters, …). The evaluator implements those rules;
 * the functions here only see well-typed arguments.
 */

import { FormatUnsupported, formatValue, isPrint, sprint, sprintf, sprintln } from './fmt.js';
import { compileGoRegexp, type RegexBudget, RegexpError, replaceAllString } from './regexp.js';
import {
  compareStrings,
  type GoArg,
  type GoMap,
  type GoValue,
  intSlice,
  isTrue,
  stringSlice,
  typeName,
  utf8Bytes,
} from './values.js';

/**
 * Go parameter types that matter to argument evaluation:
 * `string`, `[]string`, `interface{}` (`any`) and `reflect.Value` (`value`,
 * used by the built-ins; like `any` but refuses a literal nil).
 */
export type ParamType = 'string' | 'strings' | 'any' | 'value';

export interface FuncContext {
  readonly env: GoMap;
  /** Upper bound on the elements `loop` may produce, all its calls in a render together. */
  readonly maxLoop: number;
  /** Elements `loop` may still produce in this render (each is allocated: the bound is memory's). */
  readonly loopItems: { left: number };
  /** Regex search work left for the whole render (see regexp.ts); regexReplaceAll spends it. */
  readonly regexWork: RegexBudget;
}

export interface FuncDef {
  readonly params: readonly ParamType[];
  /** Type of the trailing `...` parameter, when the function is variadic. */
  readonly variadic?: ParamType;
  /** `and`/`or`: arguments are evaluated lazily by the evaluator itself. */
  readonly shortCircuit?: boolean;
  readonly call: (args: readonly GoArg[], ctx: FuncContext) => GoValue;
}

/** A function's own error; reported as "error calling NAME: message". */
export class FuncError extends Error {}

/** Arguments declared as `value`/`string` are never nil once evaluated. */
function val(a: GoArg): GoValue {
  if (a === null) throw new FuncError('unexpected nil');
  return a;
}

function str(a: GoArg): string {
  return a as string;
}

// ---------------------------------------------------------------------------
// ContainerPilot's functions

/** Go's unicode.IsSpace, which strings.TrimSpace uses (not JS's definition). */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

function trimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && GO_SPACE.test(s[start])) start++;
  while (end > start && GO_SPACE.test(s[end - 1])) end--;
  return s.slice(start, end);
}

function split(sep: string, s: string): GoValue {
  const trimmed = trimSpace(s);
  if (trimmed === '') return stringSlice([]);
  // An empty separator splits after each character (UTF-8 sequence in Go).
  return stringSlice(sep === '' ? Array.from(trimmed) : trimmed.split(sep));
}

function replaceAll(from: string, to: string, s: string): string {
  if (from === '') {
    // Go inserts the replacement before every character and at the end.
    return s === '' ? to : `${to}${Array.from(s).join(to)}${to}`;
  }
  return s.split(from).join(to);
}

function regexReplaceAll(pattern: string, to: string, s: string, ctx: FuncContext): string {
  try {
    return replaceAllString(compileGoRegexp(pattern), s, to, ctx.regexWork);
  } catch (e) {
    if (e instanceof RegexpError) throw new FuncError(e.message);
    throw e;
  }
}

/** ContainerPilot's ensureInt: ints pass, strings go through strconv.Atoi, anything else panics. */
function ensureInt(a: GoArg): bigint {
  if (typeof a === 'bigint') return a;
  if (typeof a === 'string') {
    if (!/^[+-]?[0-9]+$/.test(a)) throw new FuncError(`strconv.Atoi: parsing ${JSON.stringify(a)}: invalid syntax`);
    const n = BigInt(a);
    if (n > (1n << 63n) - 1n || n < -(1n << 63n)) {
      throw new FuncError(`strconv.Atoi: parsing ${JSON.stringify(a)}: value out of range`);
    }
    return n;
  }
  throw new FuncError(`interface conversion: interface {} is ${a === null ? 'nil' : typeName(a)}, not int`);
}

/** loop N → 0..N-1; loop A B → A..B-1, or A down to B+1 when B < A. */
function loop(args: readonly GoArg[], ctx: FuncContext): GoValue {
  if (args.length !== 1 && args.length !== 2) {
    throw new FuncError(`loop: wrong number of arguments, expected 1 or 2, but got ${args.length}`);
  }
  const [start, stop] = args.length === 1 ? [0n, ensureInt(args[0])] : [ensureInt(args[0]), ensureInt(args[1])];
  const count = stop < start ? start - stop : stop - start;
  if (count > BigInt(ctx.loopItems.left)) {
    throw new FuncError(
      `loop: ${count} iterations is more than the limit of ${ctx.maxLoop} for all loops of a template together`,
    );
  }
  ctx.loopItems.left -= Number(count);
  const step = stop < start ? -1n : 1n;
  const items: bigint[] = [];
  for (let i = start; i !== stop; i += step) items.push(i);
  return intSlice(items);
}

function defaultValue(fallback: GoArg, value: GoArg): string {
  if (typeof value === 'string' && value !== '') return value;
  return typeof fallback === 'string' ? fallback : formatValue(fallback);
}

// ---------------------------------------------------------------------------
// Go built-ins

type Kind = 'bool' | 'int' | 'float' | 'string' | 'invalid';

function basicKind(v: GoValue): Kind {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    default:
      return 'invalid';
  }
}

function eq(args: readonly GoArg[]): boolean {
  const a = val(args[0]);
  if (args.length < 2) throw new FuncError('missing argument for comparison');
  const k1 = basicKind(a);
  for (const arg of args.slice(1)) {
    const b = val(arg);
    const k2 = basicKind(b);
    if (k1 === 'invalid' || k2 === 'invalid') {
      throw new FuncError(`non-comparable types ${typeName(a)} and ${typeName(b)}`);
    }
    if (k1 !== k2) throw new FuncError('incompatible types for comparison');
    if (a === b) return true;
  }
  return false;
}

function lt(x: GoArg, y: GoArg): boolean {
  const a = val(x);
  const b = val(y);
  const k1 = basicKind(a);
  const k2 = basicKind(b);
  if (k1 === 'invalid' || k2 === 'invalid') throw new FuncError('invalid type for comparison');
  if (k1 !== k2) throw new FuncError('incompatible types for comparison');
  if (k1 === 'bool') throw new FuncError('invalid type for comparison');
  if (k1 === 'string') return compareStrings(a as string, b as string) < 0;
  return (a as number | bigint) < (b as number | bigint);
}

function le(x: GoArg, y: GoArg): boolean {
  return lt(x, y) || eq([x, y]);
}

function length(a: GoArg): bigint {
  const v = val(a);
  if (typeof v === 'string') return BigInt(utf8Bytes(v).length);
  if (typeof v === 'object') return BigInt(v.kind === 'map' ? v.keys.length : v.items.length);
  throw new FuncError(`len of type ${typeName(v)}`);
}

/** An index argument for slices and strings: must be an int within 0..len-1. */
function indexArg(i: GoValue, len: number, inclusive: boolean): number {
  if (typeof i !== 'bigint') throw new FuncError(`cannot index slice/array with type ${typeName(i)}`);
  if (i < 0n || i > BigInt(len) || (!inclusive && i === BigInt(len))) throw new FuncError(`index out of range: ${i}`);
  return Number(i);
}

function index(args: readonly GoArg[]): GoValue {
  let item = val(args[0]);
  for (const arg of args.slice(1)) {
    const i = val(arg);
    if (typeof item === 'string') {
      const bytes = utf8Bytes(item);
      item = BigInt(bytes[indexArg(i, bytes.length, false)]);
    } else if (typeof item === 'object' && item.kind === 'slice') {
      item = item.items[indexArg(i, item.items.length, false)];
    } else if (typeof item === 'object' && item.kind === 'map') {
      if (typeof i !== 'string') throw new FuncError(`value has type ${typeName(i)}; should be string`);
      item = item.entries.get(i) ?? '';
    } else {
      throw new FuncError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function slice(args: readonly GoArg[]): GoValue {
  const item = val(args[0]);
  const idx = args.slice(1).map(val);
  if (idx.length > 3) throw new FuncError(`too many slice indexes: ${idx.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (idx.length === 3) throw new FuncError('cannot 3-index slice a string');
    len = utf8Bytes(item).length;
  } else if (typeof item === 'object' && item.kind === 'slice') {
    len = item.items.length;
  } else {
    throw new FuncError(`can't slice item of type ${typeName(item)}`);
  }
  const bounds = [0, len, len];
  for (const [n, i] of idx.entries()) bounds[n] = indexArg(i, len, true);
  if (bounds[0] > bounds[1]) throw new FuncError(`invalid slice index: ${bounds[0]} > ${bounds[1]}`);
  if (idx.length === 3 && bounds[1] > bounds[2])
    throw new FuncError(`invalid slice index: ${bounds[1]} > ${bounds[2]}`);
  if (typeof item === 'string') {
    try {
      return utf8Strict.decode(utf8Bytes(item).slice(bounds[0], bounds[1]));
    } catch {
      throw new FuncError('slicing a string in the middle of a multi-byte character is not supported');
    }
  }
  return { ...item, items: item.items.slice(bounds[0], bounds[1]) };
}

/** The escaping functions take their arguments like print, but a single string as is. */
function evalArgs(args: readonly GoArg[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args);
}

function htmlEscape(s: string): string {
  return s.replace(/["'&<>\0]/g, (c) =>
    c === '"'
      ? '&#34;'
      : c === "'"
        ? '&#39;'
        : c === '&'
          ? '&amp;'
          : c === '<'
            ? '&lt;'
            : c === '>'
              ? '&gt;'
              : '\ufffd',
  );
}

function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    const named: Record<string, string> = {
      '\\': '\\\\',
      "'": "\\'",
      '"': '\\"',
      '<': '\\u003C',
      '>': '\\u003E',
      '&': '\\u0026',
      '=': '\\u003D',
    };
    if (ch in named) out += named[ch];
    else if (cp < 0x20) out += `\\u00${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (cp < 0x80 || isPrint(cp)) out += ch;
    else out += `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return out;
}

function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function printf(args: readonly GoArg[]): string {
  try {
    return sprintf(str(args[0]), args.slice(1));
  } catch (e) {
    if (e instanceof FormatUnsupported) throw new FuncError(e.message);
    throw e;
  }
}

const STRING3: readonly ParamType[] = ['string', 'string', 'string'];

export const FUNCTIONS: ReadonlyMap<string, FuncDef> = new Map<string, FuncDef>([
  // ContainerPilot
  ['default', { params: ['any', 'any'], call: ([d, v]) => defaultValue(d, v) }],
  ['env', { params: ['string'], call: ([name], ctx) => ctx.env.entries.get(str(name)) ?? '' }],
  ['split', { params: ['string', 'string'], call: ([sep, s]) => split(str(sep), str(s)) }],
  [
    'join',
    {
      params: ['string', 'strings'],
      call: ([sep, list]) => ((val(list) as { items: readonly string[] }).items as string[]).join(str(sep)),
    },
  ],
  ['replaceAll', { params: STRING3, call: ([from, to, s]) => replaceAll(str(from), str(to), str(s)) }],
  ['regexReplaceAll', { params: STRING3, call: ([re, to, s], ctx) => regexReplaceAll(str(re), str(to), str(s), ctx) }],
  ['loop', { params: [], variadic: 'any', call: (args, ctx) => loop(args, ctx) }],
  // Go built-ins
  ['and', { params: ['value'], variadic: 'value', shortCircuit: true, call: (args) => val(args[0]) }],
  ['or', { params: ['value'], variadic: 'value', shortCircuit: true, call: (args) => val(args[0]) }],
  ['not', { params: ['value'], call: ([a]) => !isTrue(a) }],
  ['len', { params: ['value'], call: ([a]) => length(a) }],
  ['index', { params: ['value'], variadic: 'value', call: (args) => index(args) }],
  ['slice', { params: ['value'], variadic: 'value', call: (args) => slice(args) }],
  ['eq', { params: ['value'], variadic: 'value', call: (args) => eq(args) }],
  ['ne', { params: ['value', 'value'], call: ([a, b]) => !eq([a, b]) }],
  ['lt', { params: ['value', 'value'], call: ([a, b]) => lt(a, b) }],
  ['le', { params: ['value', 'value'], call: ([a, b]) => le(a, b) }],
  ['gt', { params: ['value', 'value'], call: ([a, b]) => !le(a, b) }],
  ['ge', { params: ['value', 'value'], call: ([a, b]) => !lt(a, b) }],
  ['print', { params: [], variadic: 'any', call: (args) => sprint(args) }],
  ['println', { params: [], variadic: 'any', call: (args) => sprintln(args) }],
  ['printf', { params: ['string'], variadic: 'any', call: (args) => printf(args) }],
  ['html', { params: [], variadic: 'any', call: (args) => htmlEscape(evalArgs(args)) }],
  ['js', { params: [], variadic: 'any', call: (args) => jsEscape(evalArgs(args)) }],
  ['urlquery', { params: [], variadic: 'any', call: (args) => queryEscape(evalArgs(args)) }],
  [
    'call',
    {
      params: ['value'],
      variadic: 'value',
      call: ([fn]) => {
        throw new FuncError(`non-function of type ${typeName(fn)}`);
      },
    },
  ],
]);
