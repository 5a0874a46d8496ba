/**
 * The history of a running supervisor (SPEC §7): it records every bus event, every run
 * record and every job's captured output into the state dir, and is the live
 * HistoryReader of the control plane (reads come from the files, follows from the
 * in-process stream).
 *
 * Cheap on the hot path: recording only serializes and queues; the files are written in
 * one batch per turn of the event loop (`setImmediate`), or sooner when a job's output
 * piles up. A write failure (full disk) is reported once and never reaches the jobs.
 */
import { appendFileSync, closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BusEvent } from '../events/event.js';
import type { LineWriter } from '../log/types.js';
import type { RunRecord } from '../process/types.js';
import { AppendLog } from './append-log.js';
import { captureWriter, type CaptureTarget } from './capture.js';
import { attempt, normalizeLimit, readEvents, readLogs, readRuns } from './history-files.js';
import { eventsPath, isStorableName, logPath, runsPath } from './layout.js';
import { lockStateDir } from './lock.js';
import { readLastLines, type ReadStats } from './read.js';
import type { HistoryReader, StoredEvent, StoredLogLine, StoredRun, Unfollow } from './types.js';

export interface HistoryStoreOptions {
  dir: string;
  keepRuns: number;
  maxEventLogBytes: number;
  /** Size at which a job's `logs/<job>.log` rotates. Default `MAX_JOB_LOG_BYTES`. */
  maxJobLogBytes?: number;
  /** How a write failure is reported (once per series of failures per file). */
  warn: (message: string) => void;
  /** When this pidpilot started (ms since the epoch). */
  boot?: number;
}

/** Captured output kept per job: this much in `logs/<job>.log`, as much again in `.1`. */
export const MAX_JOB_LOG_BYTES = 1024 * 1024;
/** A job's captured output is written out as soon as this much is queued. */
const CAPTURE_FLUSH_BYTES = 256 * 1024;

class JobLog implements CaptureTarget {
  readonly listeners = new Set<(l: StoredLogLine) => void>();
  constructor(
    readonly file: AppendLog,
    private readonly queued: (log: JobLog) => void,
  ) {}

  get followed(): boolean {
    return this.listeners.size > 0;
  }

  write(data: Buffer): void {
    this.file.append(data);
    this.queued(this);
  }

  emit(line: StoredLogLine): void {
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // a follower's failure is its own
      }
    }
  }
}

export class HistoryStore implements HistoryReader {
  readonly dir: string;
  readonly boot: number;
  /** Lines skipped as unreadable by this store's reads so far. */
  readonly stats: ReadStats = { corrupt: 0 };
  private readonly opts: HistoryStoreOptions;
  private readonly release: () => void;
  private readonly eventLog: AppendLog;
  private readonly eventListeners = new Set<(e: StoredEvent) => void>();
  private readonly jobLogs = new Map<string, JobLog>();
  private readonly dirtyLogs = new Set<JobLog>();
  /** Run records waiting to be written, per job. */
  private pendingRuns = new Map<string, string[]>();
  /** Lines in each job's runs file, once known in this boot. */
  private readonly runLines = new Map<string, number>();
  private scheduled: NodeJS.Immediate | null = null;
  private closed = false;

  /** Creates the state dir if needed and takes its lock; throws StateDirBusy when a live pidpilot holds it. */
  constructor(opts: HistoryStoreOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.boot = opts.boot ?? Math.round(performance.timeOrigin);
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
    this.release = lockStateDir(this.dir);
    this.eventLog = new AppendLog(eventsPath(this.dir), { maxBytes: opts.maxEventLogBytes, onError: this.onError });
  }

  // --- writing ---------------------------------------------------------------

  /** Records a bus event (`reason`: why, for a `failed` event). Synchronous and cheap. */
  recordEvent(event: BusEvent, reason?: string): void {
    if (this.closed) return;
    const stored: StoredEvent = reason === undefined ? { ...event, boot: this.boot } : { ...event, reason, boot: this.boot };
    this.eventLog.append(Buffer.from(`${JSON.stringify(stored)}\n`));
    this.schedule();
    for (const l of this.eventListeners) {
      try {
        l(stored);
      } catch {
        // a follower's failure is its own
      }
    }
  }

  /** Records the end of a run of `job`. */
  recordRun(job: string, record: RunRecord): void {
    if (this.closed || this.opts.keepRuns === 0 || !isStorableName(job)) return;
    const stored: StoredRun = { job, ...record };
    const list = this.pendingRuns.get(job);
    if (list) list.push(JSON.stringify(stored));
    else this.pendingRuns.set(job, [JSON.stringify(stored)]);
    this.schedule();
  }

  /** `inner`, also capturing every job's output into `logs/<job>.log`. */
  captureWriter(inner: LineWriter): LineWriter {
    return captureWriter(inner, (job) => this.jobLog(job));
  }

  /** Writes everything queued. Synchronous; never throws. */
  flush(): void {
    if (this.scheduled !== null) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    this.eventLog.flush();
    for (const log of this.dirtyLogs) log.file.flush();
    this.dirtyLogs.clear();
    const runs = this.pendingRuns;
    this.pendingRuns = new Map();
    for (const [job, lines] of runs) this.writeRuns(job, lines);
  }

  /** Writes everything queued, closes the files and releases the state dir. Later records are ignored. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.eventLog.close();
    for (const log of this.jobLogs.values()) log.file.close();
    this.eventListeners.clear();
    for (const log of this.jobLogs.values()) log.listeners.clear();
    this.release();
  }

  private schedule(): void {
    if (this.scheduled === null) this.scheduled = setImmediate(() => this.flush());
  }

  private readonly onError = (err: NodeJS.ErrnoException, file: string): void => {
    this.opts.warn(`history: writing ${file} failed (${err.code ?? 'EIO'}: ${err.message}); those records are dropped`);
  };

  private jobLog(job: string): JobLog | null {
    if (this.closed || !isStorableName(job)) return null;
    let log = this.jobLogs.get(job);
    if (!log) {
      const file = new AppendLog(logPath(this.dir, job), { maxBytes: this.opts.maxJobLogBytes ?? MAX_JOB_LOG_BYTES, onError: this.onError });
      log = new JobLog(file, (l) => this.logQueued(l));
      this.jobLogs.set(job, log);
    }
    return log;
  }

  private logQueued(log: JobLog): void {
    if (this.closed) return;
    if (log.file.queued >= CAPTURE_FLUSH_BYTES) {
      log.file.flush();
      this.dirtyLogs.delete(log);
      return;
    }
    this.dirtyLogs.add(log);
    this.schedule();
  }

  /**
   * Appends run records; the file is rewritten with the last `keepRuns` (a new file renamed
   * over the old, so a crash leaves one or the other) once it holds twice that many.
   */
  private writeRuns(job: string, lines: readonly string[]): void {
    const file = runsPath(this.dir, job);
    const keep = this.opts.keepRuns;
    try {
      let count = this.runLines.get(job);
      // A torn line left by a crash gets its own line: the new record stays readable.
      let prefix = '';
      if (count === undefined) {
        mkdirSync(path.dirname(file), { recursive: true });
        count = readLastLines(file, 2 * keep + 1).length;
        if (endsTorn(file)) prefix = '\n';
      }
      const text = `${prefix}${lines.join('\n')}\n`;
      count += lines.length;
      if (count > 2 * keep) {
        const last = [...readLastLines(file, keep), ...lines].slice(-keep);
        const tmp = `${file}.tmp`;
        writeFileSync(tmp, `${last.join('\n')}\n`, { mode: 0o644 });
        renameSync(tmp, file);
        count = last.length;
      } else {
        appendFileSync(file, text, { mode: 0o644 });
      }
      this.runLines.set(job, count);
    } catch (err) {
      this.onError(err as NodeJS.ErrnoException, file);
    }
  }

  // --- reading (HistoryReader) ----------------------------------------------------

  events(opts: { limit?: number } = {}): Promise<StoredEvent[]> {
    return this.read(() => readEvents(this.dir, normalizeLimit(opts.limit), this.stats));
  }

  followEvents(listener: (e: StoredEvent) => void): Unfollow {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  runs(job: string): Promise<StoredRun[]> {
    return this.read(() => readRuns(this.dir, job, this.opts.keepRuns, this.stats));
  }

  logs(job: string, opts: { limit?: number } = {}): Promise<StoredLogLine[]> {
    return this.read(() => readLogs(this.dir, job, normalizeLimit(opts.limit), this.stats));
  }

  followLogs(job: string, listener: (l: StoredLogLine) => void): Unfollow {
    const log = this.jobLog(job);
    if (log === null) return () => {};
    log.listeners.add(listener);
    return () => log.listeners.delete(listener);
  }

  /** Reads after writing what is queued, so a read sees every record made before it. */
  private read<T>(fn: () => T): Promise<T> {
    if (!this.closed) this.flush();
    return attempt(fn);
  }
}

/** Whether `file` exists and its last byte is not a '\n'. */
function endsTorn(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    const b = Buffer.alloc(1);
    return size > 0 && readSync(fd, b, 0, 1, size - 1) === 1 && b[0] !== 10;
  } finally {
    closeSync(fd);
  }
}
