/**
 * Env files (dotenv syntax, parsed by Node's own `util.parseEnv`, Node ≥ 20.12):
 *
 * - `envFile` at the top level and on a job: read when the configuration is loaded (and
 *   again on every reload) and folded into each job's `env`. Precedence, lowest first:
 *   pidpilot's own environment (and `-putenv`) < the top-level `envFile` < the job's
 *   `envFile` < the job's `env`. A list of files is read in order, later over earlier.
 *   Relative paths are relative to the directory of the (first) configuration file.
 * - `.env` next to the (first) configuration file: read for template rendering when
 *   pidpilot is not PID 1 (local mode), under the process environment (which wins).
 *   `PIDPILOT_DOTENV=0` turns it off, `PIDPILOT_DOTENV=FILE` reads FILE instead (also as
 *   PID 1).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, ConfigErrors } from './errors.js';
import type { Config } from './types.js';

type Env = Readonly<Record<string, string | undefined>>;
type ParseEnv = (content: string) => Record<string, string>;

export const DOTENV_VAR = 'PIDPILOT_DOTENV';

/** `util.parseEnv` when this Node has it (20.12 and later). */
function parser(): ParseEnv | undefined {
  // A named import, not `* as util`: the bundle then reads one property of node:util instead of
  // copying all of them into a namespace object at start-up (bench/README.md, fourth round).
  const fn = parseEnv as ParseEnv | undefined;
  return typeof fn === 'function' ? fn : undefined;
}

/** Reads one env file; throws an Error whose message says why it cannot. */
export function readEnvFile(path: string): Record<string, string> {
  const parse = parser();
  if (!parse) throw new Error(`env files need Node 20.12 or later (this is ${process.version})`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (err as Error).message,
    );
  }
  // Own properties only, whatever names the file uses (`__proto__` included).
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parse(text)))
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * The environment templates are rendered against: `env`, over the variables of `.env` next
 * to `configFile` (local mode), or of `$PIDPILOT_DOTENV`. A missing default `.env` is
 * nothing; a missing named one, or one that cannot be read, is a config error.
 */
export function templateEnv(configFile: string, env: Env, opts: { pid1?: boolean } = {}): Env {
  const setting = env[DOTENV_VAR];
  if (setting !== undefined && /^(0|false|off|no|)$/i.test(setting)) return env;
  const named = setting !== undefined;
  if (!named && (opts.pid1 ?? process.pid === 1)) return env;
  if (!named && !parser()) return env;
  const path = named ? resolve(setting) : resolve(dirname(configFile), '.env');
  let vars: Record<string, string>;
  try {
    vars = readEnvFile(path);
  } catch (err) {
    if (!named && (err as Error).message === 'no such file') return env;
    throw new ConfigErrors([
      new ConfigError({
        file: path,
        path: '',
        message: `cannot read the env file (${named ? `$${DOTENV_VAR}` : '.env next to the configuration'}): ${(err as Error).message}`,
      }),
    ]);
  }
  const out: Record<string, string | undefined> = { ...vars };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Folds every `envFile` into the jobs' `env` (see the precedence above). */
export function applyEnvFiles(config: Config, shownFile: string): Config {
  if (!config.envFile && !config.jobs.some((j) => j.envFile)) return config;
  const base = dirname(config.file);
  const errors: ConfigError[] = [];
  const cache = new Map<string, Record<string, string>>();
  const read = (files: readonly string[], path: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const f of files) {
      const abs = resolve(base, f);
      let vars = cache.get(abs);
      if (!vars) {
        try {
          vars = readEnvFile(abs);
        } catch (err) {
          errors.push(
            new ConfigError({
              file: shownFile,
              path,
              message: `cannot read the env file ${JSON.stringify(f)}: ${(err as Error).message}`,
            }),
          );
          continue;
        }
        cache.set(abs, vars);
      }
      Object.assign(out, vars);
    }
    return out;
  };
  const top = config.envFile ? read(config.envFile, 'envFile') : {};
  const jobs = config.jobs.map((job, i) => {
    const own = job.envFile ? read(job.envFile, `jobs[${i}].envFile`) : {};
    return { ...job, env: { ...top, ...own, ...job.env } };
  });
  if (errors.length > 0) throw new ConfigErrors(errors);
  return { ...config, jobs };
}
