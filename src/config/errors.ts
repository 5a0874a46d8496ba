/**
 * Configuration problems. Every problem is reported with the file, the position
 * (when one is known), the path of the field and what was expected, so a user can
 * fix a whole file in one pass: the loader collects all problems into one
 * `ConfigErrors` instead of stopping at the first.
 */

export interface ConfigErrorInit {
  file: string;
  line?: number;
  column?: number;
  /** `jobs[2].health.interval`; '' for the file as a whole. */
  path: string;
  /** The complete human sentence, e.g. `expected a duration like "5s" …, got "five"`. */
  message: string;
  /** What would have been accepted, for tools (`validate --json`). */
  expected?: string;
  /** The nearest valid name or value, when the problem is a near miss. */
  suggestion?: string;
  /**
   * True when line/column point into the rendered template output and the
   * rendering changed the line structure, so they may not match the source file.
   */
  rendered?: boolean;
}

export class ConfigError implements ConfigErrorInit {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  readonly path: string;
  readonly message: string;
  readonly expected?: string;
  readonly suggestion?: string;
  readonly rendered?: boolean;

  constructor(init: ConfigErrorInit) {
    this.file = init.file;
    this.path = init.path;
    this.message = init.message;
    if (init.line !== undefined) this.line = init.line;
    if (init.column !== undefined) this.column = init.column;
    if (init.expected !== undefined) this.expected = init.expected;
    if (init.suggestion !== undefined) this.suggestion = init.suggestion;
    if (init.rendered) this.rendered = true;
  }

  /** `pidpilot.json5:12:5: jobs[2].health.interval: expected …` (the shape compilers use, so editors can jump to it). */
  toString(): string {
    let loc = this.rendered ? `${this.file} (rendered)` : this.file;
    if (this.line !== undefined) {
      loc += `:${this.line}`;
      if (this.column !== undefined) loc += `:${this.column}`;
    }
    return `${loc}: ${this.path ? `${this.path}: ` : ''}${this.message}`;
  }

  toJSON(): ConfigErrorInit {
    const out: ConfigErrorInit = { file: this.file, path: this.path, message: this.message };
    if (this.line !== undefined) out.line = this.line;
    if (this.column !== undefined) out.column = this.column;
    if (this.expected !== undefined) out.expected = this.expected;
    if (this.suggestion !== undefined) out.suggestion = this.suggestion;
    if (this.rendered) out.rendered = true;
    return out;
  }
}

/** All problems found in one configuration file. Its message lists them one per line. */
export class ConfigErrors extends Error {
  readonly errors: readonly ConfigError[];
  /**
   * How many problems were found: more than `errors` holds when validation listed only the
   * first ones (its last entry then says how many more there are).
   */
  readonly total: number;

  constructor(errors: readonly ConfigError[], total = errors.length) {
    super(errors.map((e) => e.toString()).join('\n'));
    this.name = 'ConfigErrors';
    this.errors = errors;
    this.total = total;
  }

  /** Shape printed by `pidpilot validate --json`. */
  toJSON(): { errors: ConfigErrorInit[] } {
    return { errors: this.errors.map((e) => e.toJSON()) };
  }
}

/** Bad invocation (no config file could be found, …): exit status 2 like a config error. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transposition),
 * because the typical typo in a field name is a swapped pair (`tll` for `ttl`).
 */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  // Three rolling rows are enough for the transposition lookback.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/** Case, `_` and `-` are the differences people make between spellings of the same name. */
function fold(s: string): string {
  return s.toLowerCase().replace(/[-_]/g, '');
}

/**
 * The candidate closest to `name`, or undefined when none is close enough to be
 * a plausible typo (suggesting something unrelated is worse than nothing).
 */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(name);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    if (c === name) continue;
    // A spelling that differs only in case or separators is as near as it gets.
    const fc = fold(c);
    // A truncated name (`sock` for `socket`) is as plausible as a one-letter typo.
    const truncated = folded.length >= 3 && fc.startsWith(folded);
    const score = fc === folded ? 0 : truncated ? 1 : editDistance(name.toLowerCase(), c.toLowerCase());
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  // Short names are close to many others by chance (`http` is two edits from `ttl`).
  const limit = name.length <= 4 ? 1 : name.length <= 8 ? 2 : 3;
  return bestScore <= limit ? best : undefined;
}
