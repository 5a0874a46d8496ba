/**
 * Finding and loading the configuration file (docs/configuration.md): read → render the
 * template against the environment → parse JSON5 → validate. Every failure of
 * the file itself (unreadable, template error, syntax error, invalid field)
 * comes out as `ConfigErrors`; not being told which file to use is a
 * `UsageError`. This is the only module of config/ that does I/O.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Re2js, TemplateError } from '@pidpilot/go-template';
import { requireVendored } from '../vendored.js';
import { applyEnvFiles, templateEnv } from './env-files.js';
import { ConfigError, ConfigErrors, UsageError } from './errors.js';
import { mergeLayers, type ParsedLayer, validateLayers } from './layers.js';
import { parseJson5 } from './parse.js';
import { type TemplateEngine, templateEngine } from './template-engine.js';
import type { Config, JobConfig } from './types.js';
import { validateConfig } from './validate/config.js';

let engineReady = false;

/** The template engine, loaded on first use (template-engine.ts). */
function engine(): TemplateEngine {
  const e = templateEngine();
  if (!engineReady) {
    // re2js is not in the published package's node_modules: it is vendored beside the bundle.
    e.setRegexEngineLoader(() => requireVendored<Re2js>('re2js'));
    engineReady = true;
  }
  return e;
}

export { ConfigErrors, UsageError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_CONFIG_FILE = 'pidpilot.json5';

/**
 * The largest configuration file, and rendered configuration, pidpilot reads: 1 MiB. Real ones
 * are a few KB; this keeps a (re)load in PID 1 short and small whatever the file holds (parsing
 * is linear in time and memory, json5.ts, but a value of a million empty objects is still tens
 * of MB: bench/README.md, "Configuration parsing").
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function tooLarge(file: string, what: string, size: number): ConfigErrors {
  return new ConfigErrors([
    new ConfigError({
      file,
      path: '',
      message: `${what} is larger than the limit of 1 MiB (${MAX_CONFIG_BYTES} bytes): ${size} bytes`,
    }),
  ]);
}

/**
 * Which file to load: `-config`, else `$PIDPILOT`, else `$CONTAINERPILOT`, else
 * `./pidpilot.json5` when it exists. Returns an absolute path.
 */
export function findConfigPath(opts: { flag?: string | undefined; env: Env; cwd: string }): string {
  const { flag, env, cwd } = opts;
  for (const candidate of [flag, env.PIDPILOT, env.CONTAINERPILOT]) {
    if (candidate !== undefined && candidate !== '') return resolve(cwd, candidate);
  }
  const local = join(cwd, DEFAULT_CONFIG_FILE);
  if (existsSync(local)) return resolve(local);
  throw new UsageError(
    `no configuration file: pass -config PATH, set PIDPILOT or CONTAINERPILOT, or create ./${DEFAULT_CONFIG_FILE}`,
  );
}

/** The name shown in messages: relative to the working directory when inside it, as a compiler would print it. */
function displayName(path: string): string {
  const abs = resolve(path);
  const rel = relative(process.cwd(), abs);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Reads at most MAX_CONFIG_BYTES (+1 to know it is more), whatever the file is: a device or FIFO never fills memory. */
function readBounded(path: string, file: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_CONFIG_BYTES) throw tooLarge(file, 'the configuration file', size);
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buf.length; length += n)
      n = readSync(fd, buf, length, buf.length - length, null);
    if (length > MAX_CONFIG_BYTES) throw tooLarge(file, 'the configuration file', length);
    return buf.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function readConfigFile(path: string, file: string): string {
  try {
    return readBounded(path, file);
  } catch (err) {
    if (err instanceof ConfigErrors) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (err as Error).message;
    throw new ConfigErrors([
      new ConfigError({ file, path: '', message: `cannot read the configuration file: ${why}` }),
    ]);
  }
}

/** The sentence of a template error, without the `file:line:col: ` its message may start with (ours goes in front). */
function templateReason(err: TemplateError, file: string): string {
  const reason: unknown = (err as { reason?: unknown }).reason;
  if (typeof reason === 'string') return reason;
  const prefix = `${file}:${err.line}:${err.column}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

function render(text: string, env: Env, file: string): string {
  // Without an action there is nothing to render: Go's text/template outputs such a text as it
  // is. Most files have none, and skip the engine's work at start-up (the map of the environment included).
  if (!text.includes('{{')) return text;
  const { renderTemplate, TemplateError } = engine();
  let rendered: string;
  try {
    rendered = renderTemplate(text, env, file, { maxOutput: MAX_CONFIG_BYTES });
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    throw new ConfigErrors([
      new ConfigError({
        file,
        line: err.line,
        column: err.column,
        path: '',
        message: `template: ${templateReason(err, file)}`,
      }),
    ]);
  }
  const bytes = Buffer.byteLength(rendered);
  if (bytes > MAX_CONFIG_BYTES) throw tooLarge(file, 'the rendered configuration', bytes);
  return rendered;
}

function countLines(s: string): number {
  let n = 1;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * The pipeline on text already read: render → parse → validate. Pure apart from
 * the template's use of `env`; the property tests drive this directly.
 */
export function loadConfigText(source: string, env: Env, file: string, absolutePath: string = file): Config {
  const size = Buffer.byteLength(source);
  if (size > MAX_CONFIG_BYTES) throw tooLarge(file, 'the configuration file', size);
  const rendered = render(source, env, file);
  try {
    const { value, positions } = parseJson5(rendered, file);
    return validateConfig(value, { file, positions, absolutePath });
  } catch (err) {
    // Positions are in the rendered text. When rendering kept every line where it
    // was they match the source too; otherwise say so rather than mislead.
    if (err instanceof ConfigErrors && rendered !== source && countLines(rendered) !== countLines(source)) {
      throw new ConfigErrors(
        err.errors.map((e) => (e.line === undefined ? e : new ConfigError({ ...e.toJSON(), rendered: true }))),
      );
    }
    throw err;
  }
}

/** The configuration file(s) to load: one path, or the layers in order (see layers.ts). */
export type ConfigPaths = string | readonly string[];

function pathList(paths: ConfigPaths): readonly string[] {
  return typeof paths === 'string' ? [paths] : paths;
}

/** Loads, renders, parses and validates the file at `path`, or the layers at `paths` merged in order. */
export function loadConfig(paths: ConfigPaths, processEnv: Env): Config {
  const list = pathList(paths);
  const env = templateEnv(list[0]!, processEnv);
  if (list.length === 1) {
    const path = list[0]!;
    const file = displayName(path);
    return applyEnvFiles(loadConfigText(readConfigFile(path, file), env, file, resolve(path)), file);
  }
  return applyEnvFiles(validateLayers(readLayers(list, env)), displayName(list[0]!));
}

/** Each layer read, rendered and parsed; the errors of every layer together. */
function readLayers(paths: readonly string[], env: Env): ParsedLayer[] {
  const errors: ConfigError[] = [];
  const layers: ParsedLayer[] = [];
  for (const path of paths) {
    const file = displayName(path);
    try {
      const source = readConfigFile(path, file);
      const rendered = render(source, env, file);
      const moved = rendered !== source && countLines(rendered) !== countLines(source);
      let parsed: ReturnType<typeof parseJson5>;
      try {
        parsed = parseJson5(rendered, file);
      } catch (err) {
        if (err instanceof ConfigErrors && moved) {
          throw new ConfigErrors(
            err.errors.map((e) => (e.line === undefined ? e : new ConfigError({ ...e.toJSON(), rendered: true }))),
          );
        }
        throw err;
      }
      layers.push({
        file,
        absolutePath: resolve(path),
        value: parsed.value,
        positions: parsed.positions,
        rendered: moved,
      });
    } catch (err) {
      if (!(err instanceof ConfigErrors)) throw err;
      errors.push(...err.errors);
    }
  }
  if (errors.length > 0) throw new ConfigErrors(errors);
  return layers;
}

/**
 * The file after template rendering, as it will be parsed (`pidpilot -template`, `pidpilot
 * render`); with several layers, their merged result (before validation), as JSON5.
 */
export function renderConfigFile(paths: ConfigPaths, processEnv: Env): string {
  const list = pathList(paths);
  const env = templateEnv(list[0]!, processEnv);
  if (list.length === 1) {
    const file = displayName(list[0]!);
    return render(readConfigFile(list[0]!, file), env, file);
  }
  const merged = mergeLayers(readLayers(list, env));
  if (merged.errors.length > 0) throw new ConfigErrors(merged.errors);
  return `// ${list.map(displayName).join(' + ')}, merged in order by pidpilot\n${JSON.stringify(merged.value, null, 2)}\n`;
}

/**
 * A stable text of a job's definition: equal for two definitions exactly when
 * they mean the same, whatever their key order. Reload uses it to keep unchanged
 * jobs running.
 */
export function configFingerprint(job: JobConfig): string {
  return stableStringify(job);
}

export function stableStringify(v: unknown): string {
  if (typeof v === 'number') {
    // JSON has no Infinity (unlimited restarts); spell it so it cannot collide with null.
    if (v === Infinity) return '"Infinity"';
    if (v === -Infinity) return '"-Infinity"';
    if (Number.isNaN(v)) return '"NaN"';
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
