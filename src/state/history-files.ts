/**
 * Reading the history back from the files of a state dir: shared by the live store (inside
 * the supervisor) and the offline reader (a CLI run while no supervisor is running).
 *
 * Events and output are read off the event loop's critical path and bounded, since a
 * request may ask for all of a 20 MiB log: blocks are read by the thread pool (the loop
 * serves other requests between them), at most MAX_READ_BYTES are read per request (the
 * newest records), and at most MAX_CONCURRENT_READS run at once (others wait their turn),
 * so ten such requests cost what two do, not ten times the file.
 */
import { parseLogLine } from './capture.js';
import { eventsPath, isStorableName, logPath, runsPath } from './layout.js';
import { parseJsonLines, type ReadStats, readLastLines, readRotatedLinesAsync } from './read.js';
import type { StoredEvent, StoredLogLine, StoredRun } from './types.js';

function isStoredEvent(e: Partial<StoredEvent>): e is StoredEvent {
  return (
    typeof e.seq === 'number' &&
    typeof e.time === 'number' &&
    typeof e.code === 'string' &&
    typeof e.source === 'string' &&
    typeof e.boot === 'number'
  );
}

/** The most bytes of a file one read of events or output goes through (the newest records). */
export const MAX_READ_BYTES = 8 * 1024 * 1024;
/** Reads of events or output running at once. */
const MAX_CONCURRENT_READS = 2;

let running = 0;
const waiting: Array<() => void> = [];

/** `fn` once fewer than MAX_CONCURRENT_READS reads run. */
async function inTurn<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_READS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function lastLines(file: string, limit: number | undefined): Promise<string[]> {
  return inTurn(() => readRotatedLinesAsync(file, limit ?? Infinity, MAX_READ_BYTES));
}

/** Stored events, oldest first; the last `limit` when given (and within MAX_READ_BYTES). */
export async function readEvents(dir: string, limit: number | undefined, stats: ReadStats): Promise<StoredEvent[]> {
  const all = parseJsonLines<Partial<StoredEvent>>(await lastLines(eventsPath(dir), limit), stats);
  const out = all.filter(isStoredEvent);
  stats.corrupt += all.length - out.length;
  return out;
}

/** The last `keep` run records of `job`, oldest first ([] for a name that cannot be a job). */
export function readRuns(dir: string, job: string, keep: number, stats: ReadStats): StoredRun[] {
  if (!isStorableName(job) || keep <= 0) return [];
  const all = parseJsonLines<Partial<StoredRun>>(readLastLines(runsPath(dir, job), keep), stats);
  const out = all.filter(
    (r): r is StoredRun => r.job === job && typeof r.run === 'number' && typeof r.outcome === 'string',
  );
  stats.corrupt += all.length - out.length;
  return out;
}

/** The last `limit` captured lines of `job`, oldest first (within MAX_READ_BYTES). */
export async function readLogs(
  dir: string,
  job: string,
  limit: number | undefined,
  stats: ReadStats,
): Promise<StoredLogLine[]> {
  if (!isStorableName(job)) return [];
  const out: StoredLogLine[] = [];
  for (const text of await lastLines(logPath(dir, job), limit)) {
    const line = parseLogLine(job, text);
    if (line) out.push(line);
    else stats.corrupt++;
  }
  return out;
}

/** A `limit` option as a count of records: undefined for "all", else an integer ≥ 0. */
export function normalizeLimit(limit: number | undefined): number | undefined {
  if (limit === undefined || !Number.isFinite(limit)) return undefined;
  return Math.max(0, Math.floor(limit));
}

/** `fn()` as a promise: a read that throws (say, EACCES) rejects instead of throwing. */
export function attempt<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
