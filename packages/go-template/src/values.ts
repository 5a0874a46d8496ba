/**
 * The Go values a ContainerPilot template can produce, modelled in JS.
 *
 * ContainerPilot executes templates against `map[string]string`, and its
 * functions only return strings, ints and `[]string`/`[]int`, so a small
 * closed set of types covers everything:
 *
 *   Go `string`   → JS string
 *   Go `int`      → JS bigint (Go ints are 64-bit; JS numbers would lose digits)
 *   Go `float64`  → JS number
 *   Go `bool`     → JS boolean
 *   `[]string`, `[]int` → {@link GoSlice}
 *   the environment (`template.Environment`) → {@link GoMap}
 *
 * An untyped `nil` only ever exists as a function argument, as `null`.
 */

export interface GoSlice {
  readonly kind: 'slice';
  readonly elem: 'string' | 'int';
  readonly items: readonly (string | bigint)[];
}

export interface GoMap {
  readonly kind: 'map';
  /** Keys in Go's printing/ranging order (byte order). */
  readonly keys: readonly string[];
  readonly entries: ReadonlyMap<string, string>;
}

export type GoValue = string | bigint | number | boolean | GoSlice | GoMap;

/** A function argument: any value, or Go's untyped nil. */
export type GoArg = GoValue | null;

/** The name of ContainerPilot's environment type, as Go prints it (`%T`, errors). */
export const ENV_TYPE_NAME = 'template.Environment';

export function stringSlice(items: readonly string[]): GoSlice {
  return { kind: 'slice', elem: 'string', items };
}

export function intSlice(items: readonly bigint[]): GoSlice {
  return { kind: 'slice', elem: 'int', items };
}

export function envMap(env: Readonly<Record<string, string | undefined>>): GoMap {
  const entries = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) {
    if (typeof value === 'string') entries.set(key, value);
  }
  return { kind: 'map', keys: [...entries.keys()].sort(compareStrings), entries };
}

/** Go's type name for a value, as `%T` and error messages show it. */
export function typeName(v: GoArg): string {
  if (v === null) return '<nil>';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    default:
      return v.kind === 'map' ? ENV_TYPE_NAME : `[]${v.elem}`;
  }
}

/** Go's template truth: false, 0, "", empty slice/map and nil are false. */
export function isTrue(v: GoArg): boolean {
  if (v === null) return false;
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
    case 'boolean':
      return v;
    default:
      return v.kind === 'map' ? v.keys.length > 0 : v.items.length > 0;
  }
}

/**
 * Compares strings the way Go does (by UTF-8 bytes), which is code point
 * order — not JS's UTF-16 order, which differs above U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function utf8Bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Number of code points (Go's utf8.RuneCountInString). */
export function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
