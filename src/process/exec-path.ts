/**
 * What both spawn implementations share: checking a request, planning the PATH search
 * (from the child's environment, like execvp), wording spawn errors, signal names, and
 * signalling a process group.
 */
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { resolve } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { type ChildEnvSpec, envValue, invalidEnvName } from './child-env-block.js';
import { SpawnError, type SpawnRequest, type SpawnStage } from './types.js';

/** PATH used when the child's environment has none (Docker's default PATH). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** How argv[0] becomes the paths handed to execve, in order. */
export interface ExecPlan {
  /** argv[0] has no slash: the candidates come from PATH. */
  readonly search: boolean;
  /** The PATH searched (only meaningful when `search`). */
  readonly path: string;
  readonly candidates: readonly string[];
}

export function planExec(file: string, env: ChildEnvSpec): ExecPlan {
  if (file.includes('/')) return { search: false, path: '', candidates: [file] };
  const path = envValue(env, 'PATH') ?? DEFAULT_PATH;
  // An empty PATH entry means the current directory, as for execvp.
  const candidates = path
    .split(':')
    .map((dir) => (dir === '' ? `./${file}` : dir.endsWith('/') ? dir + file : `${dir}/${file}`));
  return { search: true, path, candidates };
}

/** Throws SpawnError('EINVAL') for what no execve could take. */
export function checkRequest(req: SpawnRequest): void {
  const fail = (what: string): never => {
    throw new SpawnError(`exec ${JSON.stringify(req.argv[0] ?? '')}: ${what}`, 'EINVAL', req.argv, 'exec');
  };
  if (req.argv.length === 0 || req.argv[0] === '') fail('empty command');
  for (const a of req.argv) if (a.includes('\0')) fail('argument contains a NUL byte');
  const invalid = invalidEnvName(req.env);
  if (invalid !== undefined) fail(`invalid environment variable ${JSON.stringify(invalid)}`);
  if (req.cwd !== undefined && (req.cwd === '' || req.cwd.includes('\0')))
    fail(`invalid working directory ${JSON.stringify(req.cwd)}`);
}

// Node's table of errno names and descriptions, and the signal names below, are built on first
// use: a spawn that succeeds needs neither (bench/README.md, start-up, fourth round).
let errorMap: Map<number, [string, string]> | undefined;

/** errno (positive, or libuv's negative form) → ['ENOENT', 'no such file or directory']. */
export function errnoInfo(errno: number): [code: string, description: string] {
  errorMap ??= getSystemErrorMap();
  const entry = errorMap.get(-Math.abs(errno));
  return entry ? [entry[0], entry[1]] : [`E${Math.abs(errno)}`, `error ${Math.abs(errno)}`];
}

/** The description of an errno name ('ENOENT' → 'no such file or directory'). */
export function describeCode(code: string): string {
  const errno = (osConstants.errno as Record<string, number | undefined>)[code];
  return errno === undefined ? code : errnoInfo(errno)[1];
}

/**
 * The SpawnError for a failure at `stage` with errno name `code`; `index` is the candidate
 * execve reported it for (-1: none in particular).
 */
export function spawnError(
  req: SpawnRequest,
  plan: ExecPlan,
  stage: SpawnStage,
  code: string,
  index: number,
): SpawnError {
  const name = `exec ${JSON.stringify(req.argv[0])}`;
  const desc = describeCode(code);
  const candidate = index >= 0 ? plan.candidates[index] : undefined;
  let message: string;
  if (stage === 'chdir') {
    message = `${name}: chdir ${JSON.stringify(req.cwd)}: ${desc}`;
  } else if (stage !== 'exec') {
    message = `${name}: ${stage}: ${desc}`;
  } else if (plan.search && code === 'ENOENT') {
    message = `${name}: not found in PATH (${plan.path})`;
  } else if (plan.search) {
    message = candidate === undefined ? `${name}: ${desc}` : `${name}: ${desc} (${candidate})`;
  } else if (code === 'ENOENT' && candidate !== undefined && existsSync(resolve(req.cwd ?? '.', candidate))) {
    // execve says ENOENT for a missing #! interpreter or ELF loader too: say which.
    message = `${name}: ${desc} (the file exists: its interpreter or dynamic loader is missing)`;
  } else {
    message = `${name}: ${desc}`;
  }
  return new SpawnError(message, code, req.argv, stage);
}

let signalNames: Map<number, NodeJS.Signals> | undefined;

function makeSignalNames(): Map<number, NodeJS.Signals> {
  const names = new Map<number, NodeJS.Signals>();
  for (const [name, num] of Object.entries(osConstants.signals)) {
    if (!names.has(num)) names.set(num, name as NodeJS.Signals);
  }
  return names;
}

export function signalName(signal: number): NodeJS.Signals {
  signalNames ??= makeSignalNames();
  // Real-time signals have no name in Node's table; NodeJS.Signals cannot spell them.
  return signalNames.get(signal) ?? (`SIGRT${signal}` as NodeJS.Signals);
}

/**
 * Sends `signal` to the process group `pgid`. A group that is gone (ESRCH), or whose
 * members we may no longer signal (EPERM, e.g. after a setuid exec), is not an error:
 * callers are on stop paths that must not throw.
 */
export function killGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw err;
  }
}
