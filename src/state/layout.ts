/**
 * The files of a state dir (docs/history.md). One writer (the supervisor holding the lock),
 * any number of readers (the same supervisor's control plane, or a CLI run while no
 * supervisor is running).
 *
 *   pidpilot.lock          pid of the supervisor writing here
 *   events.jsonl[.1]       every bus event, one JSON object a line (StoredEvent)
 *   runs/<job>.jsonl       the job's last run records (StoredRun), oldest first
 *   logs/<job>.log[.1]     the job's captured output: `<ms> <o|e> <line bytes>` a line
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const LOCK_FILE = 'pidpilot.lock';
export const EVENTS_FILE = 'events.jsonl';
/** Suffix of the one older generation a rotated file keeps. */
export const ROTATED = '.1';

/**
 * Whether `name` can be a file name in runs/ or logs/: job names (`^[A-Za-z0-9_-]+$`, and
 * `name#2` for a duplicate: `#` is an ordinary character in a file name, though a shell needs
 * it quoted at the start of a word) and health-check sources (`check.<job>`) can; anything a client could use to leave the
 * directory (`/`, a leading dot, NUL) cannot.
 */
export function isStorableName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._#-]*$/.test(name) && name.length <= 200;
}

export function eventsPath(dir: string): string {
  return join(dir, EVENTS_FILE);
}

export function runsPath(dir: string, job: string): string {
  return runsFile(join(dir, 'runs'), job);
}

export function logPath(dir: string, job: string): string {
  return logFile(join(dir, 'logs'), job);
}

// A job's files in a directory path already normalised (runs/, logs/): the name is appended,
// which for a storable name is what `join` gives, without normalising the whole path again
// for every run record (path.join was ≈ 25k instructions a call in the cold code of a
// shutdown: bench/README.md).

/** `runs/<job>.jsonl` in `runsDir` (the state dir's normalised `runs` path); `job` must be storable. */
export function runsFile(runsDir: string, job: string): string {
  return `${runsDir}/${job}.jsonl`;
}

/** `logs/<job>.log` in `logsDir` (the state dir's normalised `logs` path); `job` must be storable. */
export function logFile(logsDir: string, job: string): string {
  return `${logsDir}/${job}.log`;
}

/**
 * `mkdir -p`, each level tried once. Not `mkdirSync(dir, { recursive: true })`: under a
 * filesystem like /proc (ENOENT for the child, EEXIST for the parent) Node's version
 * retries for ever, and a PID 1 must not hang on a bad `state.dir`.
 */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, 0o755);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (statSync(dir).isDirectory()) return;
      throw err;
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
  }
  ensureDir(dirname(dir));
  try {
    mkdirSync(dir, 0o755);
  } catch (err) {
    // Made by someone else meanwhile is fine.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
