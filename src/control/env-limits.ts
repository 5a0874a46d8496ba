/**
 * What `putenv` (POST /v3/env) may change in the environment children get, bounded by what
 * the kernel can pass to execve(2): past these, every later spawn of every job would fail
 * with E2BIG (health checks too, so jobs would turn unhealthy) and the memory would stay
 * held for good. A request past a bound is refused whole and changes nothing.
 *
 * - One variable (`NAME=value` and its NUL) at most MAX_ARG_STRLEN, 128 KiB on Linux:
 *   the kernel refuses any single longer string.
 * - The whole environment pidpilot passes on (its own, plus what putenv set) at most
 *   MAX_ENV_BYTES, 1 MiB: half of the usual ARG_MAX (a quarter of an 8 MiB stack limit),
 *   leaving room for the command line and each job's own `env`.
 * - Names are POSIX portable names; `__proto__` is refused: it is a valid name for a shell,
 *   but not one a JavaScript object can hold as a plain key.
 */
import { HttpError } from './http.js';
import type { EnvChanges } from './target.js';

/** Linux's MAX_ARG_STRLEN: the longest `NAME=value` string execve(2) accepts, with its NUL. */
export const MAX_ENV_ENTRY_BYTES = 128 * 1024;
/** The environment pidpilot passes to children (its own plus putenv's), in bytes of `NAME=value\0`. */
export const MAX_ENV_BYTES = 1024 * 1024;

/** The bytes `NAME=value` takes in an execve environment block (with its NUL). */
export function entryBytes(name: string, value: string): number {
  return Buffer.byteLength(name) + Buffer.byteLength(value) + 2;
}

export function envBytes(env: Readonly<Record<string, string>>): number {
  let total = 0;
  for (const name of Object.keys(env)) total += entryBytes(name, env[name]!);
  return total;
}

/** Why one variable cannot be set, or null. */
export function entryProblem(name: string, value: string): string | null {
  if (name === '__proto__') return `"__proto__" cannot be set through putenv`;
  const bytes = entryBytes(name, value);
  if (bytes > MAX_ENV_ENTRY_BYTES)
    return `${name} is ${bytes} bytes, over the ${MAX_ENV_ENTRY_BYTES} bytes (128 KiB) the kernel passes for one variable`;
  return null;
}

/**
 * Applies `changes` to `env` (in place) when the result stays within MAX_ENV_BYTES; else
 * throws a 422 and changes nothing. A change that shrinks the environment is always allowed.
 */
export function applyEnvChanges(env: Record<string, string>, changes: EnvChanges): void {
  const before = envBytes(env);
  let total = before;
  for (const name of Object.keys(changes)) {
    const value = changes[name];
    const old = Object.hasOwn(env, name) ? entryBytes(name, env[name]!) : 0;
    total += (value === null || value === undefined ? 0 : entryBytes(name, value)) - old;
  }
  // An environment already over the cap (pidpilot's own) may still shrink.
  if (total > MAX_ENV_BYTES && total > before) {
    throw new HttpError(
      422,
      `the children's environment would be ${total} bytes, over the ${MAX_ENV_BYTES} bytes (1 MiB) pidpilot allows: nothing was changed`,
      { bytes: total, limit: MAX_ENV_BYTES },
    );
  }
  for (const name of Object.keys(changes)) {
    const value = changes[name];
    if (value === null || value === undefined) delete env[name];
    else env[name] = value;
  }
}
