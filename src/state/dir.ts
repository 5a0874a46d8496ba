/**
 * Where pidpilot keeps its state (docs/history.md) and its control socket (docs/control-api.md).
 *
 * As PID 1 (a container) with a writable `/var/run`, ContainerPilot's places:
 * `/var/run/containerpilot.socket` and `/var/run/pidpilot`. Anywhere else (a laptop, CI,
 * a supervisor under tini) every project gets a place of its own, derived from the path of
 * its configuration file(s), so two projects on one machine never share a socket or a
 * history: `<runtime dir>/pidpilot/<dir name>-<hash of the config paths>`, where the
 * runtime dir is `$XDG_RUNTIME_DIR`, else `/run/user/<uid>`, else `<tmpdir>/pidpilot-<uid>`.
 * The client commands compute the same place from the same `-config`.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import type { Config } from '../config/types.js';
import { privateDirProblem } from './private-fs.js';
import { sha256Hex } from './sha256.js';

/** ContainerPilot's control socket; pidpilot's state dir beside it. */
export const PID1_CONTROL_SOCKET = '/var/run/containerpilot.socket';
export const PID1_STATE_DIR = '/var/run/pidpilot';

export interface DirOptions {
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Overridable for tests: whether this process may create entries in `dir`. */
  writable?: (dir: string) => boolean;
  /** Overridable for tests: whether this process is PID 1 (default: `process.pid === 1`). */
  pid1?: boolean;
  /** Overridable for tests: the user id the per-user runtime dir belongs to. */
  uid?: number;
  /** Overridable for tests: the temporary directory of the last fallback. */
  tmp?: string;
}

type PlaceConfig = Pick<Config, 'state' | 'control'> & { file?: string; files?: readonly string[] };

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}

/** ContainerPilot's places are used by a PID 1 that may write `/var/run`. */
export function usesPid1Defaults(opts: DirOptions = {}): boolean {
  const pid1 = opts.pid1 ?? process.pid === 1;
  return pid1 && (opts.writable ?? canWrite)('/var/run');
}

/** The per-user directory that holds every project's place (not created here). */
export function runtimeBase(opts: DirOptions = {}): string {
  const env = opts.env ?? process.env;
  const writable = opts.writable ?? canWrite;
  const uid = opts.uid ?? currentUid();
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && isAbsolute(xdg) && writable(xdg)) return join(xdg, 'pidpilot');
  const userRun = `/run/user/${uid}`;
  if (writable(userRun)) return join(userRun, 'pidpilot');
  return join(opts.tmp ?? tmpdir(), `pidpilot-${uid}`);
}

/**
 * The project's own directory: named after the directory of its (first) configuration
 * file, made unique by a hash of every configuration path, in order, so `-config a -config b`
 * and `-config a` are two projects. Short, so the socket inside stays under 108 bytes.
 */
export function projectDir(config: PlaceConfig, opts: DirOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const files = (
    config.files && config.files.length > 0 ? config.files : [config.file ?? join(cwd, 'pidpilot.json5')]
  ).map((f) => resolvePath(cwd, f));
  // SHA-256 without node:crypto (sha256.ts): the same digest, without its 40 modules at start-up.
  const hash = sha256Hex(files.join('\0')).slice(0, 10);
  const name =
    basename(dirname(files[0]!))
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 24) || 'root';
  return join(runtimeBase(opts), `${name}-${hash}`);
}

/** `state.dir`, else ContainerPilot's `/var/run/pidpilot` as PID 1, else the project's own directory. */
export function resolveStateDir(config: PlaceConfig, opts: DirOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  if (config.state.dir) return resolvePath(cwd, config.state.dir);
  if (usesPid1Defaults(opts)) return PID1_STATE_DIR;
  return projectDir(config, opts);
}

/** `control.socket`, else ContainerPilot's `/var/run/containerpilot.socket` as PID 1, else `control.sock` in the project's own directory. */
export function resolveControlSocket(config: PlaceConfig, opts: DirOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  if (config.control.socket) return resolvePath(cwd, config.control.socket);
  if (usesPid1Defaults(opts)) return PID1_CONTROL_SOCKET;
  return join(projectDir(config, opts), 'control.sock');
}

/**
 * Where a client looks for the supervisor of `config`. The client is never PID 1 itself,
 * so it cannot tell from its own pid which place the supervisor chose: it takes the
 * project's socket when a supervisor made it, else ContainerPilot's when one exists (the
 * supervisor is PID 1 of this container), else the project's (and says nothing runs there).
 */
export function findControlSocket(config: PlaceConfig, opts: DirOptions = {}): string {
  const own = resolveControlSocket(config, opts);
  if (config.control.socket || existsSync(own)) return own;
  return existsSync(PID1_CONTROL_SOCKET) ? PID1_CONTROL_SOCKET : own;
}

/**
 * Makes the per-user runtime base (`<runtime>/pidpilot`, or `<tmp>/pidpilot-<uid>`) a
 * private directory of this user: created 0700, and refused when it is a symlink, not a
 * directory, owned by someone else, or writable by others (a shared /tmp lets anyone make
 * the name first). Only for the default places; an explicit `state.dir` is the user's.
 */
export function preparePrivateBase(dir: string, uid: number = currentUid()): void {
  const base = dirname(dir);
  try {
    mkdirSync(base, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const problem = privateDirProblem(lstatSync(base), base, uid);
  if (problem !== null) throw new Error(`${problem.why}: remove it, or set state.dir and control.socket`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * Before the supervisor uses its places: when the state dir or the socket is in the
 * project's own directory, make it private (see `preparePrivateBase`). Returns why it
 * cannot be used, or undefined.
 */
export function prepareProjectDir(config: PlaceConfig, socketPath: string, opts: DirOptions = {}): string | undefined {
  const stateDir = resolveStateDir(config, opts);
  // A project's directory is always in the runtime base: when neither place is, there is none
  // to make, and its name (a hash) is not worked out.
  const base = runtimeBase(opts);
  if (dirname(stateDir) !== base && dirname(dirname(socketPath)) !== base) return undefined;
  const own = projectDir(config, opts);
  if (stateDir !== own && dirname(socketPath) !== own) return undefined;
  try {
    preparePrivateBase(own, opts.uid);
    return undefined;
  } catch (err) {
    return `the project's directory ${own}: ${(err as Error).message}`;
  }
}
