/**
 * Layered configuration: several `-config` files merged in order, the way compose override
 * files or Pebble layers work. A step on parsed layers, before validation:
 *
 * - top-level objects (`consul`, `logging`, `control`, `telemetry`, `state`) merge field by
 *   field; other top-level values (`stopTimeout`, `main`, `envFile`, `dotenv`) are replaced;
 * - `jobs` and `watches` merge by name: a later entry with a new name is appended, one with
 *   a known name overrides the fields it gives (`env`, `meta`, `logging`, `restartBackoff`,
 *   `consul` key by key; every other field, `when` and `health` included, whole), and a job
 *   with `override: "replace"` replaces the earlier one whole, `override: "remove"` removes it.
 *
 * Errors name the layer (file) and line where the offending value came from: the merge
 * keeps, for each merged path, the layer and path it was taken from, and on errors the
 * merged value is validated once more per layer involved with that layer's positions.
 */
import { ConfigError, ConfigErrors } from './errors.js';
import type { NodePos, Positions } from './parse.js';
import { childPath } from './paths.js';
import type { Config } from './types.js';
import { validateConfig } from './validate/config.js';
import { isPlainObject } from './validate/core.js';
import { LAYER_OVERRIDES } from './validate/scalars.js';

export interface ParsedLayer {
  /** The name shown in errors. */
  file: string;
  absolutePath: string;
  value: unknown;
  /** Positions in this layer's rendered text; only asked for when there are errors. */
  positions: () => Positions;
  /** Rendering changed the line structure: positions may not match the source. */
  rendered: boolean;
}

type Obj = Record<string, unknown>;
interface Origin {
  layer: number;
  path: string;
}

const MERGED_TOP = new Set(['consul', 'logging', 'control', 'telemetry', 'state']);
const MERGED_JOB_FIELDS = new Set(['env', 'meta', 'logging', 'restartBackoff', 'consul']);
const OVERRIDES: ReadonlySet<string> = new Set(LAYER_OVERRIDES);

export interface Merged {
  value: Obj;
  /** Merged path → the layer and the path in it that the value (and what is below) came from. */
  origins: Map<string, Origin>;
  /** Problems of the layering itself (a removed job that no earlier layer has). */
  errors: ConfigError[];
}

class Merger {
  readonly origins = new Map<string, Origin>();
  readonly errors: ConfigError[] = [];

  constructor(private readonly layers: readonly ParsedLayer[]) {}

  /** Records that `path` (and everything below it) now comes from `origin`. */
  private take(path: string, origin: Origin): void {
    for (const k of [...this.origins.keys()]) if (k !== path && under(k, path)) this.origins.delete(k);
    this.origins.set(path, origin);
  }

  /** Merges `src` (layer `layer`, at `srcPath` there) into `dst` at `dstPath`, key by key; `deep` says which keys merge further. */
  mergeObject(
    dst: Obj,
    src: Obj,
    layer: number,
    dstPath: string,
    srcPath: string,
    deep: (key: string) => boolean,
  ): void {
    for (const [key, v] of Object.entries(src)) {
      const d = childPath(dstPath, key);
      const s = childPath(srcPath, key);
      const cur = dst[key];
      if (deep(key) && isPlainObject(cur) && isPlainObject(v)) {
        const copy = { ...cur };
        dst[key] = copy;
        this.mergeObject(copy, v, layer, d, s, () => false);
        if (!this.origins.has(d)) this.origins.set(d, { layer, path: s });
      } else {
        dst[key] = v;
        this.take(d, { layer, path: s });
      }
    }
  }

  /** `jobs` / `watches`: by name. */
  mergeNamed(dst: Obj, key: 'jobs' | 'watches', src: unknown, layer: number): void {
    const cur = dst[key];
    if (!Array.isArray(src)) {
      // Not a list: validation reports it, in this layer.
      dst[key] = src;
      this.take(key, { layer, path: key });
      return;
    }
    const list: unknown[] = Array.isArray(cur) ? [...cur] : [];
    if (!Array.isArray(cur)) this.take(key, { layer, path: key });
    const removed = new Set<number>();
    src.forEach((item, i) => {
      const srcPath = `${key}[${i}]`;
      const name = isPlainObject(item) && typeof item.name === 'string' ? item.name : undefined;
      const override =
        isPlainObject(item) && typeof item.override === 'string' && OVERRIDES.has(item.override)
          ? item.override
          : 'merge';
      const targets =
        name === undefined
          ? []
          : list.flatMap((e, j) => (!removed.has(j) && isPlainObject(e) && e.name === name ? [j] : []));
      if (override === 'remove') {
        if (targets.length === 0)
          this.error(
            layer,
            `${srcPath}.override`,
            `override "remove": no earlier layer has a ${key === 'jobs' ? 'job' : 'watch'} named ${JSON.stringify(name)}`,
          );
        for (const j of targets) removed.add(j);
        return;
      }
      const clean = isPlainObject(item) && item.override === override ? withoutOverride(item) : item;
      if (targets.length === 0) {
        this.take(`${key}[${list.length}]`, { layer, path: srcPath });
        list.push(clean);
        return;
      }
      for (const j of targets) {
        if (override === 'replace' || !isPlainObject(clean) || !isPlainObject(list[j])) {
          list[j] = clean;
          this.take(`${key}[${j}]`, { layer, path: srcPath });
        } else {
          const copy = { ...(list[j] as Obj) };
          list[j] = copy;
          this.mergeObject(copy, clean as Obj, layer, `${key}[${j}]`, srcPath, (k) => MERGED_JOB_FIELDS.has(k));
        }
      }
    });
    // Entries removed by this layer are dropped; the indices of those after them shift.
    const kept: unknown[] = [];
    const renamed = new Map<string, Origin>();
    list.forEach((e, j) => {
      const at = `${key}[${j}]`;
      if (removed.has(j)) {
        for (const k of [...this.origins.keys()]) if (under(k, at)) this.origins.delete(k);
        return;
      }
      if (kept.length !== j) this.renumber(at, `${key}[${kept.length}]`, renamed);
      kept.push(e);
    });
    for (const [k, o] of renamed) this.origins.set(k, o);
    dst[key] = kept;
  }

  private renumber(from: string, to: string, into: Map<string, Origin>): void {
    for (const [k, o] of [...this.origins]) {
      if (under(k, from)) {
        this.origins.delete(k);
        into.set(to + k.slice(from.length), o);
      }
    }
  }

  private error(layer: number, path: string, message: string): void {
    const l = this.layers[layer]!;
    const pos: NodePos | undefined = l.positions().get(path);
    this.errors.push(
      new ConfigError({
        file: l.file,
        path,
        message,
        ...(pos ? { line: pos.line, column: pos.column } : {}),
        ...(l.rendered ? { rendered: true } : {}),
      }),
    );
  }

  merge(): Obj {
    const out: Obj = {};
    this.origins.set('', { layer: 0, path: '' });
    this.layers.forEach((l, layer) => {
      if (!isPlainObject(l.value)) return;
      for (const [key, v] of Object.entries(l.value)) {
        if (key === 'jobs' || key === 'watches') this.mergeNamed(out, key, v, layer);
        else this.mergeObject(out, { [key]: v }, layer, '', '', (k) => MERGED_TOP.has(k));
      }
    });
    return out;
  }
}

/** `path` is `at` or below it. */
function under(path: string, at: string): boolean {
  return path === at || at === '' || path.startsWith(`${at}.`) || path.startsWith(`${at}[`);
}

function withoutOverride(item: Obj): Obj {
  const { override: _, ...rest } = item;
  return rest;
}

/** Merges the layers in order (see the module comment). */
export function mergeLayers(layers: readonly ParsedLayer[]): Merged {
  const m = new Merger(layers);
  const value = m.merge();
  return { value, origins: m.origins, errors: m.errors };
}

/** The layer and path a merged path came from: its own entry or its nearest ancestor's. */
function originOf(origins: ReadonlyMap<string, Origin>, path: string): Origin & { suffix: string } {
  for (let p = path; ; ) {
    const o = origins.get(p);
    if (o) return { ...o, suffix: path.slice(p.length) };
    if (p === '') return { layer: 0, path: '', suffix: path };
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut < 0 ? '' : p.slice(0, cut);
  }
}

/** Layer `layer`'s positions, keyed by the merged paths whose values came from it. */
function positionsFor(layer: number, merged: Merged, layers: readonly ParsedLayer[]): Positions {
  const own = layers[layer]!.positions();
  const out = new Map<string, NodePos>();
  for (const [mp, o] of merged.origins) {
    if (o.layer !== layer) continue;
    for (const [lp, pos] of own) {
      if (!under(lp, o.path)) continue;
      const key = mp + lp.slice(o.path.length);
      // Only where this very origin is the nearest one (a deeper override, or an entry that moved, has its own).
      const near = originOf(merged.origins, key);
      if (near.layer === layer && near.path + near.suffix === lp) out.set(key, pos);
    }
  }
  return out;
}

/**
 * Validates the merged layers. On errors, each is reported in the layer its value came
 * from: the merged value is validated again with that layer's positions.
 */
export function validateLayers(layers: readonly ParsedLayer[]): Config {
  const problems: ConfigError[] = [];
  layers.forEach((l) => {
    if (!isPlainObject(l.value)) {
      const pos = l.positions().get('');
      problems.push(
        new ConfigError({
          file: l.file,
          path: '',
          message: 'expected an object at the top level, like { jobs: [ … ] }',
          ...(pos ? { line: pos.line, column: pos.column } : {}),
        }),
      );
    }
  });
  if (problems.length > 0) throw new ConfigErrors(problems);
  const merged = mergeLayers(layers);
  const base = layers[0]!;
  let errors: readonly ConfigError[];
  try {
    const config = validateConfig(merged.value, { file: base.file, absolutePath: base.absolutePath });
    if (merged.errors.length === 0) return { ...config, files: layers.map((l) => l.absolutePath) };
    errors = [];
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    errors = err.errors;
  }
  const owners = new Set(errors.map((e) => originOf(merged.origins, e.path).layer));
  const located = new Map<number, readonly ConfigError[]>();
  for (const layer of owners) {
    const l = layers[layer]!;
    try {
      validateConfig(merged.value, { file: l.file, positions: positionsFor(layer, merged, layers) });
      located.set(layer, []);
    } catch (err) {
      located.set(layer, err instanceof ConfigErrors ? err.errors : []);
    }
  }
  const out = errors.map((e) => {
    const layer = originOf(merged.origins, e.path).layer;
    const l = layers[layer]!;
    const found = located.get(layer)?.find((x) => x.path === e.path && x.message === e.message) ?? e;
    return new ConfigError({
      ...found.toJSON(),
      file: l.file,
      ...(l.rendered && found.line !== undefined ? { rendered: true } : {}),
    });
  });
  throw new ConfigErrors([...merged.errors, ...out]);
}
