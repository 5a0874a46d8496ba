/**
 * Reading the history back from the files of a state dir: shared by the live store (inside
 * the supervisor) and the offline reader (a CLI run while no supervisor is running).
 */
import { parseLogLine } from './capture.js';
import { eventsPath, isStorableName, logPath, runsPath } from './layout.js';
import { parseJsonLines, readLastLines, readRotatedLines, type ReadStats } from './read.js';
import type { StoredEvent, StoredLogLine, StoredRun } from './types.js';

function isStoredEvent(e: Partial<StoredEvent>): e is StoredEvent {
  return typeof e.seq === 'number' && typeof e.time === 'number' && typeof e.code === 'string' && typeof e.source === 'string' && typeof e.boot === 'number';
}

/** Stored events, oldest first; the last `limit` when given. */
export function readEvents(dir: string, limit: number | undefined, stats: ReadStats): StoredEvent[] {
  const all = parseJsonLines<Partial<StoredEvent>>(readRotatedLines(eventsPath(dir), limit ?? Infinity), stats);
  const out = all.filter(isStoredEvent);
  stats.corrupt += all.length - out.length;
  return out;
}

/** The last `keep` run records of `job`, oldest first ([] for a name that cannot be a job). */
export function readRuns(dir: string, job: string, keep: number, stats: ReadStats): StoredRun[] {
  if (!isStorableName(job) || keep <= 0) return [];
  const all = parseJsonLines<Partial<StoredRun>>(readLastLines(runsPath(dir, job), keep), stats);
  const out = all.filter((r): r is StoredRun => r.job === job && typeof r.run === 'number' && typeof r.outcome === 'string');
  stats.corrupt += all.length - out.length;
  return out;
}

/** The last `limit` captured lines of `job`, oldest first. */
export function readLogs(dir: string, job: string, limit: number | undefined, stats: ReadStats): StoredLogLine[] {
  if (!isStorableName(job)) return [];
  const out: StoredLogLine[] = [];
  for (const text of readRotatedLines(logPath(dir, job), limit ?? Infinity)) {
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
export function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
