/**
 * The validation toolkit: a reporter that collects every problem (with its
 * position), and table-driven object reading. Each config object is described
 * by a field table `{ name → reader }`; unknown-field detection and "did you
 * mean" suggestions come from the table, so adding a field is one table entry
 * (and the JSON Schema test checks the tables against the published schema).
 */
import { ConfigError, nearest } from '../errors.js';
import type { NodePos, Pos, Positions } from '../parse.js';
import { childPath, parentPath } from '../paths.js';

export interface ReportOptions {
  expected?: string;
  suggestion?: string;
  /** Point at the property name rather than its value (unknown fields). */
  atKey?: boolean;
  /** Take the position from another path (e.g. a missing field reported where its trigger is). */
  positionOf?: string;
}

/**
 * The most problems kept for one file; the rest are only counted. A 1 MiB file can hold half a
 * million bad values, and a message with its position for each took 350 MB in PID 1; nobody
 * fixes a file from more than the first hundred.
 */
export const MAX_REPORTED = 100;

export class Reporter {
  /** The first MAX_REPORTED problems. */
  readonly errors: ConfigError[] = [];
  /** How many problems were found, kept or not. */
  count = 0;

  private positions: Positions | (() => Positions);

  constructor(
    readonly file: string,
    positions: Positions | (() => Positions),
  ) {
    this.positions = positions;
  }

  /** The position of `path`, or of its nearest ancestor that has one (a missing field has none). */
  private locate(path: string, atKey: boolean): Pos | undefined {
    // Positions are worked out on the first error only: a valid file is read once.
    if (typeof this.positions === 'function') this.positions = this.positions();
    let p = path;
    for (;;) {
      const node: NodePos | undefined = this.positions.get(p);
      if (node) {
        const pos = atKey && node.key ? node.key : node;
        return { line: pos.line, column: pos.column };
      }
      if (p === '') return undefined;
      p = parentPath(p);
    }
  }

  error(path: string, message: string, opts: ReportOptions = {}): void {
    if (this.count++ >= MAX_REPORTED) return;
    const pos = this.locate(opts.positionOf ?? path, opts.atKey ?? false);
    this.errors.push(
      new ConfigError({
        file: this.file,
        path,
        message,
        ...(pos ? { line: pos.line, column: pos.column } : {}),
        ...(opts.expected !== undefined ? { expected: opts.expected } : {}),
        ...(opts.suggestion !== undefined ? { suggestion: opts.suggestion } : {}),
      }),
    );
  }
}

/** Where a reader is: the path of the value and the reporter to tell problems to. */
export class At {
  constructor(
    readonly path: string,
    readonly r: Reporter,
  ) {}

  child(key: string | number): At {
    return new At(childPath(this.path, key), this.r);
  }

  error(message: string, opts?: ReportOptions): void {
    this.r.error(this.path, message, opts);
  }

  /** The common shape: "expected X, got Y". */
  expected(what: string, got: unknown, opts: Omit<ReportOptions, 'expected'> = {}): void {
    this.r.error(this.path, `expected ${what}, got ${describe(got)}`, { ...opts, expected: what });
  }
}

/**
 * A reader turns a raw value into its typed, normalized form, or reports what is
 * wrong and returns undefined. Readers never see `undefined`/`null` (absent).
 */
export type Reader<T> = (value: unknown, at: At) => T | undefined;

export interface Field<T> {
  readonly read: Reader<T>;
  readonly required?: boolean;
}

export type FieldTable = Readonly<Record<string, Field<unknown>>>;

/** The typed result of reading an object with a table: every field optional (absent or invalid). */
export type FieldsOf<Tb extends FieldTable> = {
  -readonly [K in keyof Tb]?: Tb[K] extends Field<infer T> ? T : never;
};

export function field<T>(read: Reader<T>, required = false): Field<T> {
  return required ? { read, required } : { read };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short rendering of a bad value for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string': {
      const s = v.length > 60 ? `${v.slice(0, 57)}…` : v;
      return JSON.stringify(s);
    }
    case 'number':
      return Number.isNaN(v) ? 'NaN' : String(v);
    case 'boolean':
      return String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function quoteName(name: string): string {
  return `\`${name}\``;
}

/** A field table's names in order, each one's place, and the places of the required ones. */
interface TableLayout {
  readonly known: readonly string[];
  readonly place: ReadonlyMap<string, number>;
  readonly required: readonly number[];
}

/** Worked out once per table (tables are module constants), not at every object read. */
const layouts = new WeakMap<FieldTable, TableLayout>();

function layoutOf(table: FieldTable): TableLayout {
  let layout = layouts.get(table);
  if (layout === undefined) {
    const known = Object.keys(table);
    layout = {
      known,
      place: new Map(known.map((key, i) => [key, i])),
      required: known.flatMap((key, i) => (table[key]!.required ? [i] : [])),
    };
    layouts.set(table, layout);
  }
  return layout;
}

/**
 * Reads an object against a field table. Absent and `null` members are both
 * "not given" (ContainerPilot's decoder treated null as unset). Reports a wrong
 * type, every unknown member (with the nearest known name), and every missing
 * required one; reads every known member so all problems surface together.
 *
 * The members are read in the table's order, whatever the object's, so that problems are
 * reported in the same order for every way of writing the object. Only the members given
 * and the required ones are visited: a job's table has about 35 fields, a job uses a few.
 */
export function readObject<Tb extends FieldTable>(
  value: unknown,
  at: At,
  table: Tb,
  what = 'an object',
): FieldsOf<Tb> | undefined {
  if (!isPlainObject(value)) {
    at.expected(what, value);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  const { known, place, required } = layoutOf(table);
  // The places to visit, in the table's order: each given member's, and each required field's.
  const visit = required.slice();
  for (const key of Object.keys(value)) {
    const i = place.get(key);
    if (i === undefined) {
      const suggestion = nearest(key, known);
      const where = at.child(key);
      where.error(`unknown field ${quoteName(key)}${suggestion ? `; did you mean ${quoteName(suggestion)}?` : ''}`, {
        atKey: true,
        expected: `one of ${known.map(quoteName).join(', ')}`,
        ...(suggestion ? { suggestion } : {}),
      });
      continue;
    }
    let j = visit.length;
    while (j > 0 && visit[j - 1]! > i) j--;
    if (visit[j - 1] === i) continue;
    if (j === visit.length) visit.push(i);
    else visit.splice(j, 0, i);
  }
  for (const i of visit) {
    const key = known[i]!;
    const f = table[key]!;
    const raw = Object.hasOwn(value, key) ? value[key] : undefined;
    if (raw === undefined || raw === null) {
      if (f.required) at.child(key).error(`missing required field ${quoteName(key)}`);
      continue;
    }
    const v = f.read(raw, at.child(key));
    if (v !== undefined) out[key] = v;
  }
  return out as FieldsOf<Tb>;
}

/** Reads an array, element by element; `null` elements are skipped as ContainerPilot did. */
export function readArray<T>(
  value: unknown,
  at: At,
  item: (v: unknown, at: At) => T | undefined,
  what: string,
): T[] | undefined {
  if (!Array.isArray(value)) {
    at.expected(what, value);
    return undefined;
  }
  const out: T[] = [];
  value.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const r = item(v, at.child(i));
    if (r !== undefined) out.push(r);
  });
  return out;
}

/** Records how many errors exist now, to tell afterwards whether a section added any. */
export function errorMark(at: At): () => boolean {
  const before = at.r.count;
  return () => at.r.count > before;
}
