/**
 * The state dir holds job output, which can hold secrets, and pidpilot often runs as root:
 * everything in it is private to pidpilot's user, and nothing in it is followed elsewhere.
 *
 * - The state dir must be a directory owned by this user and writable by no one else (a
 *   dir another user controls lets them plant `logs/web.log -> /root/victim`); it is
 *   created 0700, and an existing one of ours is set to 0700 at each start. This is what
 *   systemd does for a unit's `StateDirectory=` (owned by the service's user, its mode
 *   enforced at every start) and close to its refusal of "unsafe path transitions"
 *   (systemd-tmpfiles will not follow a path through a directory an unprivileged user owns).
 * - Its sub-directories (`logs/`, `runs/`) are created 0700 and must be real directories of ours.
 * - Files are opened with O_NOFOLLOW (a symlink is refused, never followed) and created
 *   0600; an existing file of ours with a wider mode is narrowed to 0600, one that is not a
 *   regular file of ours is refused. s6 keeps its supervise control fifo 0600 in a 0700
 *   dir for the same reason; pidpilot's control socket is 0600 too.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  type Stats,
} from 'node:fs';
import { dirname } from 'node:path';
import { ensureDir } from './layout.js';

const { O_NOFOLLOW, O_CREAT, O_RDWR, O_WRONLY, O_APPEND, O_TRUNC, O_RDONLY } = constants;

/** Read/write, appending, created when missing: `a+` without following a symlink. */
export const APPEND = O_RDWR | O_APPEND | O_CREAT;
/** Written from scratch: `w` without following a symlink. */
export const REPLACE = O_WRONLY | O_CREAT | O_TRUNC;
export const READ = O_RDONLY;

/** Refused: the state dir, or something in it, is not pidpilot's own. */
export class UnsafeStatePath extends Error {
  /** The errno the kernel gives for the nearest case (ELOOP: a symlink, ENOTDIR, EPERM: not ours). */
  constructor(
    message: string,
    readonly code: 'ELOOP' | 'ENOTDIR' | 'EPERM',
  ) {
    super(message);
    this.name = 'UnsafeStatePath';
  }
}

let ownUid: number | undefined;

/** pidpilot's effective uid, asked once: pidpilot never changes its own user (a job's `user` is set in the child). */
function euid(): number {
  ownUid ??= typeof process.geteuid === 'function' ? process.geteuid() : 0;
  return ownUid;
}

/** Why `st` (of `dir`) is not a private directory of `uid`, or null. */
export function privateDirProblem(
  st: Stats,
  dir: string,
  uid: number = euid(),
): { why: string; code: UnsafeStatePath['code'] } | null {
  if (st.isSymbolicLink()) return { why: `${dir} is a symlink, not a directory of its own`, code: 'ELOOP' };
  if (!st.isDirectory()) return { why: `${dir} is not a directory`, code: 'ENOTDIR' };
  if (st.uid !== uid)
    return { why: `${dir} belongs to uid ${st.uid}, not to pidpilot's user (uid ${uid})`, code: 'EPERM' };
  if ((st.mode & 0o022) !== 0)
    return { why: `${dir} is writable by others (mode ${(st.mode & 0o777).toString(8)})`, code: 'EPERM' };
  return null;
}

/**
 * Makes `dir` (the state dir) ready: created (parents as `mkdir -p`, itself 0700), refused
 * (UnsafeStatePath) when it is a symlink, not ours or writable by others, and set to 0700.
 */
export function preparePrivateDir(dir: string, uid: number = euid()): void {
  ensureDir(dirname(dir));
  try {
    mkdirSync(dir, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const problem = privateDirProblem(lstatSync(dir), dir, uid);
  if (problem !== null)
    throw new UnsafeStatePath(
      `refusing the state dir: ${problem.why}; give pidpilot a directory of its own (state.dir)`,
      problem.code,
    );
  // Ours: history written by an older pidpilot (0755) becomes private too.
  chmodSync(dir, 0o700);
}

/** A sub-directory of the state dir (`logs/`, `runs/`): created 0700, refused unless it is a real directory of ours. */
export function ensurePrivateSubdir(dir: string, uid: number = euid()): void {
  try {
    mkdirSync(dir, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const problem = privateDirProblem(lstatSync(dir), dir, uid);
  if (problem !== null) throw new UnsafeStatePath(`refusing ${problem.why}`, problem.code);
}

/**
 * Opens `file` without following a symlink (ELOOP), created 0600. Refuses (and closes) what
 * is not a regular file of ours; narrows a wider mode to 0600.
 */
export function openPrivate(file: string, flags: number, uid: number = euid()): number {
  return openPrivateSized(file, flags, uid).fd;
}

/** `openPrivate`, with the file's size as it was opened (from the same `fstat`: appending needs it). */
export function openPrivateSized(file: string, flags: number, uid: number = euid()): { fd: number; size: number } {
  const fd = openSync(file, flags | O_NOFOLLOW, 0o600);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafeStatePath(`refusing ${file}: not a regular file`, 'EPERM');
    if (st.uid !== uid)
      throw new UnsafeStatePath(
        `refusing ${file}: it belongs to uid ${st.uid}, not to pidpilot's user (uid ${uid})`,
        'EPERM',
      );
    if ((st.mode & 0o077) !== 0 && flags !== READ) fchmodSync(fd, 0o600);
    return { fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Opens `file` for reading without following a symlink; null when it does not exist. */
export function openForReading(file: string): number | null {
  try {
    return openSync(file, O_RDONLY | O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
