/**
 * The history of a running supervisor (docs/history.md): it records every bus event, every run
 * record and every job's captured output into the state dir, and is the live
 * HistoryReader of the control plane (reads come from the files, follows from the
 * in-process stream).
 *
 * Cheap on the hot path: recording only serializes and queues. Events and run records are
 * written in one batch every `RECORD_FLUSH_MS` (a chain of quick jobs publishes hundreds
 * of events a second: one write per batch, not per event); captured output every
 * `CAPTURE_FLUSH_MS`, encoded only then (see capture.ts). A SIGKILL loses at most that
 * last moment; nothing written before; the end of the supervisor writes everything. A write failure (full disk) is reported once and never reaches the jobs.
 */
import { closeSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BusEvent } from '../events/event.js';
import type { LineWriter } from '../log/types.js';
import type { RunRecord } from '../process/types.js';
import { AppendLog, lastByte } from './append-log.js';
import { captureWriter } from './capture.js';
import { attempt, normalizeLimit, readEvents, readLogs, readRuns } from './history-files.js';
import { JobLog } from './job-log.js';
import { eventsPath, isStorableName, logFile, runsFile } from './layout.js';
import { lockStateDir } from './lock.js';
import {
  APPEND,
  ensurePrivateSubdir,
  openPrivate,
  openPrivateSized,
  preparePrivateDir,
  REPLACE,
} from './private-fs.js';
import { countLines, type ReadStats, readLastLines } from './read.js';
import type { HistoryReader, StoredEvent, StoredLogLine, StoredRun, Unfollow } from './types.js';
import { WriteHealth } from './write-health.js';

export interface HistoryStoreOptions {
  dir: string;
  keepRuns: number;
  maxEventLogBytes: number;
  /** Size at which a job's `logs/<job>.log` rotates. Default `MAX_JOB_LOG_BYTES`. */
  maxJobLogBytes?: number;
  /** How a write failure is reported (once per outage, see write-health.ts). */
  warn: (message: string) => void;
  /** How the end of an outage is reported. Default: `warn`. */
  info?: (message: string) => void;
  /** When this pidpilot started (ms since the epoch). */
  boot?: number;
  /**
   * Make and lock the state dir only when `open()` is called, not in the constructor; what is
   * recorded until then is queued in memory and written once it is open (the supervisor opens
   * it just after the first jobs start: bench/README.md, start-up).
   */
  deferOpen?: boolean;
}

/** Captured output kept per job: this much in `logs/<job>.log`, as much again in `.1`. */
export const MAX_JOB_LOG_BYTES = 1024 * 1024;
/** How long an event or run record may wait to be written out. */
const RECORD_FLUSH_MS = 50;
/** How long captured output may wait to be written out. */
const CAPTURE_FLUSH_MS = 100;

export class HistoryStore implements HistoryReader {
  readonly dir: string;
  /** The state dir's `runs` and `logs` paths, normalised once (layout.ts). */
  private readonly runsDir: string;
  private readonly logsDir: string;
  readonly boot: number;
  /** Lines skipped as unreadable by this store's reads so far. */
  readonly stats: ReadStats = { corrupt: 0 };
  private readonly opts: HistoryStoreOptions;
  private release: () => void = () => {};
  private opened = false;
  private readonly eventLog: AppendLog;
  private readonly eventListeners = new Set<(e: StoredEvent) => void>();
  private readonly jobLogs = new Map<string, JobLog>();
  private readonly dirtyLogs = new Set<JobLog>();
  /** Run records waiting to be written, per job. */
  private pendingRuns = new Map<string, string[]>();
  /** Lines in each job's runs file, once known in this boot. */
  private readonly runLines = new Map<string, number>();
  private runsDirMade = false;
  private scheduled: NodeJS.Timeout | null = null;
  /** Set when the shutdown begins (writePromptly): records wait for no batch. */
  private promptly = false;
  private logTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Whether writing works; counts what was dropped while it did not. */
  readonly health: WriteHealth;

  /**
   * Creates the state dir if needed (0700) and takes its lock; throws StateDirBusy when a
   * live pidpilot holds it, UnsafeStatePath when the dir is not pidpilot's own (private-fs.ts).
   */
  constructor(opts: HistoryStoreOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.runsDir = join(opts.dir, 'runs');
    this.logsDir = join(opts.dir, 'logs');
    // When this process started (performance.timeOrigin, without loading the perf_hooks machinery).
    this.boot = opts.boot ?? Math.round(Date.now() - process.uptime() * 1000);
    this.health = new WriteHealth(opts.warn, opts.info ?? opts.warn);
    if (!opts.deferOpen) this.openDir();
    this.eventLog = new AppendLog(eventsPath(this.dir), {
      maxBytes: opts.maxEventLogBytes,
      onError: this.onError,
      onWritten: this.onWritten,
    });
  }

  private openDir(): void {
    preparePrivateDir(this.dir);
    this.release = lockStateDir(this.dir);
    this.opened = true;
  }

  /**
   * With `deferOpen`: makes and locks the state dir and writes what was queued. When the dir
   * cannot be had (in use by another pidpilot, unsafe, not makeable) it says so through `warn`,
   * drops what was queued and records nothing more, and returns false — as a constructor
   * without `deferOpen` would have thrown.
   */
  open(): boolean {
    if (this.opened) return true;
    if (this.closed) return false;
    try {
      this.openDir();
    } catch (err) {
      this.opts.warn(`history is not recorded: ${err instanceof Error ? err.message : String(err)}`);
      this.closed = true;
      if (this.scheduled !== null) clearTimeout(this.scheduled);
      if (this.logTimer !== null) clearTimeout(this.logTimer);
      this.pendingRuns.clear();
      this.jobLogs.clear();
      this.dirtyLogs.clear();
      this.eventListeners.clear();
      return false;
    }
    this.flush();
    return true;
  }

  // --- writing ---------------------------------------------------------------

  /** Records a bus event (`reason`: the job's reason, for its lifecycle events). Synchronous and cheap. */
  recordEvent(event: BusEvent, reason?: string): void {
    if (this.closed) return;
    // Written out by hand: this runs for every event, and a template is several times
    // cheaper than spreading the event into a new object for JSON.stringify.
    const why = reason === undefined ? '' : `,"reason":${JSON.stringify(reason)}`;
    this.eventLog.append(
      `{"seq":${event.seq},"time":${event.time},"code":${JSON.stringify(event.code)},"source":${JSON.stringify(event.source)}${why},"boot":${this.boot}}\n`,
    );
    this.schedule();
    if (this.eventListeners.size === 0) return;
    const stored: StoredEvent =
      reason === undefined ? { ...event, boot: this.boot } : { ...event, reason, boot: this.boot };
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
    // The line of `{ job, ...record }` (a StoredRun), written out without copying the record into
    // a new object: a spread after a field is V8's generic copy, dear on a chain hop's exit path.
    const line = `{"job":${JSON.stringify(job)},${JSON.stringify(record).slice(1)}`;
    const list = this.pendingRuns.get(job);
    if (list) list.push(line);
    else this.pendingRuns.set(job, [line]);
    this.schedule();
  }

  /** `inner`, also capturing every job's output into `logs/<job>.log`. */
  captureWriter(inner: LineWriter): LineWriter {
    return captureWriter(inner, (job) => this.jobLog(job));
  }

  /** Writes everything queued (once the state dir is open). Synchronous; never throws. */
  flush(): void {
    if (!this.opened) return;
    if (this.scheduled !== null) {
      clearTimeout(this.scheduled);
      this.scheduled = null;
    }
    this.eventLog.flush();
    this.flushLogs();
    const runs = this.pendingRuns;
    this.pendingRuns = new Map();
    for (const [job, lines] of runs) this.writeRuns(job, lines);
  }

  /**
   * From now on, what is recorded is written at the next turn of the event loop instead of up
   * to RECORD_FLUSH_MS (CAPTURE_FLUSH_MS) later. Called when the shutdown begins: the run records
   * and events of the jobs' ends are written while the supervisor waits for the other jobs to
   * end, instead of all at once at its exit (100 jobs' records were ≈ a quarter of the time
   * from SIGTERM to exit: bench/README.md, shutdown), and a SIGKILL after a container's grace
   * period loses less.
   */
  writePromptly(): void {
    if (this.promptly) return;
    this.promptly = true;
    if (this.scheduled !== null) {
      clearTimeout(this.scheduled);
      this.scheduled = null;
      this.schedule();
    }
    if (this.logTimer !== null) {
      clearTimeout(this.logTimer);
      this.logTimer = null;
      this.scheduleLogs();
    }
  }

  /** Writes everything queued, closes the files and releases the state dir. Later records are ignored. */
  close(): void {
    if (this.closed || !this.open()) return;
    this.flush();
    this.closed = true;
    this.eventLog.close();
    for (const log of this.jobLogs.values()) log.file.close();
    this.eventListeners.clear();
    for (const log of this.jobLogs.values()) log.listeners.clear();
    this.release();
  }

  private flushLogs(): void {
    if (!this.opened) return;
    if (this.logTimer !== null) {
      clearTimeout(this.logTimer);
      this.logTimer = null;
    }
    for (const log of this.dirtyLogs) log.flush();
    this.dirtyLogs.clear();
  }

  private schedule(): void {
    // Not before the dir is open: open() writes what was queued (and a first timer loads Node's timer machinery).
    if (this.scheduled !== null || !this.opened) return;
    this.scheduled = setTimeout(() => this.flush(), this.promptly ? 0 : RECORD_FLUSH_MS);
    this.scheduled.unref();
  }

  private readonly onError = (err: NodeJS.ErrnoException, file: string, records: number): void =>
    this.health.failed(err, file, records);
  private readonly onWritten = (): void => this.health.written();

  private jobLog(job: string): JobLog | null {
    if (this.closed || !isStorableName(job)) return null;
    let log = this.jobLogs.get(job);
    if (!log) {
      const maxBytes = this.opts.maxJobLogBytes ?? MAX_JOB_LOG_BYTES;
      const file = new AppendLog(logFile(this.logsDir, job), {
        maxBytes,
        onError: this.onError,
        onWritten: this.onWritten,
        keepOpen: false,
      });
      log = new JobLog(file, maxBytes, (l) => this.logQueued(l));
      this.jobLogs.set(job, log);
    }
    return log;
  }

  private logQueued(log: JobLog): void {
    if (this.closed) return;
    this.dirtyLogs.add(log);
    this.scheduleLogs();
  }

  private scheduleLogs(): void {
    if (this.logTimer !== null || !this.opened) return;
    this.logTimer = setTimeout(() => this.flushLogs(), this.promptly ? 0 : CAPTURE_FLUSH_MS);
    this.logTimer.unref();
  }

  /**
   * Appends run records; the file is rewritten with the last `keepRuns` (a new file renamed
   * over the old, so a crash leaves one or the other) once it holds twice that many.
   */
  private writeRuns(job: string, lines: readonly string[]): void {
    const file = runsFile(this.runsDir, job);
    const keep = this.opts.keepRuns;
    let fd: number | null = null;
    try {
      let count = this.runLines.get(job);
      let text = `${lines.join('\n')}\n`;
      if (!this.runsDirMade) {
        ensurePrivateSubdir(this.runsDir);
        this.runsDirMade = true;
      }
      const opened = openPrivateSized(file, APPEND);
      fd = opened.fd;
      if (count === undefined) {
        // First record of this boot: count what earlier boots left (estimated from the size
        // while far from the bound: records are all about as long; counted, not read, once
        // the file may be near it, as it is from the first compaction on), and give a torn
        // line left by a crash a line of its own, so the new record stays readable.
        const size = opened.size;
        const estimate = Math.round((size * lines.length) / text.length);
        count = size === 0 ? 0 : estimate < keep ? estimate : countLines(fd, size, 2 * keep + 1);
        if (size > 0 && lastByte(fd, size) !== 10) text = `\n${text}`;
      }
      count += lines.length;
      if (count > 2 * keep) {
        const last = [...readLastLines(file, keep), ...lines].slice(-keep);
        const tmp = `${file}.tmp`;
        const out = openPrivate(tmp, REPLACE);
        try {
          writeSync(out, `${last.join('\n')}\n`);
        } finally {
          closeSync(out);
        }
        renameSync(tmp, file);
        count = last.length;
      } else {
        writeSync(fd, text);
      }
      this.runLines.set(job, count);
      this.health.written();
    } catch (err) {
      this.onError(err as NodeJS.ErrnoException, file, lines.length);
    } finally {
      if (fd !== null) closeSync(fd);
    }
  }

  // --- reading (HistoryReader) ----------------------------------------------------

  get droppedRecords(): number {
    return this.health.dropped;
  }

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
  private read<T>(fn: () => T | Promise<T>): Promise<T> {
    if (!this.closed) this.flush();
    return attempt(fn);
  }
}
