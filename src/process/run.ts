/**
 * ProcessRun: one execution with a lifecycle (timeout, stop, kill) and its record, as
 * docs/lifecycle.md, docs/processes.md define them. Jobs, health checks and setup commands all use it.
 *
 * Outcome:
 *   - could not start (SpawnError) → errored, reason 'ENOENT: exec "x": not found in PATH (…)'
 *   - its `timeout` expired        → errored, reason 'timeout' (stopSignal, then SIGKILL after
 *                                    min(1s, timeout/10)); a child exiting 124 by itself is
 *                                    just failed with code 124
 *   - stop()/kill() was called     → aborted, reason as given ('shutdown', 'stop', 'reload'…)
 *   - exit 0 → succeeded; other exit, or killed by a signal → failed (code or signal set)
 * Whichever of timeout and stop/kill comes first decides between errored and aborted.
 */
import type { UserSpec } from '../config/types.js';
import { clearLongTimeout, type LongTimer, setLongTimeout } from '../events/long-timer.js';
import { spawnChild } from './spawn.js';
import {
  type ChildHandle,
  type ExitStatus,
  type RunRecord,
  SpawnError,
  type Spawner,
  type SpawnRequest,
} from './types.js';
import { resolveUser } from './user.js';

export { killAllGroups, liveGroups } from './spawn.js';

export interface RunOptions extends SpawnRequest {
  /** The user to run as (resolved to `ids` at start; an unknown one makes the run errored). */
  user?: UserSpec;
  /** ms; absent or ≤ 0: none. */
  timeout?: number;
  /** Sent first by stop() and on timeout (SIGKILL follows after a grace). */
  stopSignal: NodeJS.Signals;
  /** Defaults to spawnChild (tests pass a specific implementation). */
  spawn?: Spawner;
}

/** A run's record without its number (the owner numbers its runs). */
export type RunResult = Omit<RunRecord, 'run'>;

/**
 * `result` numbered `run`: the fields of `{ run, ...result }`, in its order (the history writes
 * them in it), set one by one. An object spread after a field is V8's generic copy, a call into
 * the runtime that was the dearest part of a chain hop's exit path (bench/README.md, sixth round).
 */
export function numberedRun(run: number, result: RunResult): RunRecord {
  const record: RunRecord = {
    run,
    pid: result.pid,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    durationMs: result.durationMs,
    code: result.code,
    signal: result.signal,
    outcome: result.outcome,
  };
  if (result.reason !== undefined) record.reason = result.reason;
  if (result.cleanup !== undefined) record.cleanup = result.cleanup;
  return record;
}

/**
 * Monotonic milliseconds. Not performance.now(): node:perf_hooks loads a dozen modules,
 * a cost to every start-up that a clock does not need.
 */
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

function errorReason(err: unknown): string {
  if (err instanceof SpawnError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err);
}

export class ProcessRun {
  /** null when the program could not be started. */
  readonly pid: number | null;
  readonly child: ChildHandle | null;
  /** Resolves once the run is over (the process reaped). Never rejects. */
  readonly result: Promise<RunResult>;
  readonly startedAt: number;

  private readonly t0 = monotonicMs();
  private readonly stopSignal: NodeJS.Signals;
  private ended = false;
  /** Set when timeout fired first: the run is errored. */
  private timedOut = false;
  /** Set when stop()/kill() came first: the run is aborted. */
  private abortReason: string | undefined;
  private timeoutTimer: LongTimer | undefined;
  private killTimer: LongTimer | undefined;
  private killAt = Infinity;

  private constructor(opts: RunOptions) {
    this.startedAt = Date.now();
    this.stopSignal = opts.stopSignal;
    let child: ChildHandle | null = null;
    let failure: unknown;
    try {
      const ids = opts.user !== undefined ? resolveUser(opts.user, opts.argv) : undefined;
      child = (opts.spawn ?? spawnChild)(ids ? { ...opts, ids } : opts);
    } catch (err) {
      failure = err;
    }
    this.child = child;
    this.pid = child?.pid ?? null;
    if (child === null) {
      this.ended = true;
      this.result = Promise.resolve(this.record({ code: null, signal: null }, 'errored', errorReason(failure)));
      return;
    }
    if (opts.timeout !== undefined && opts.timeout > 0) {
      const timeout = opts.timeout;
      this.timeoutTimer = setLongTimeout(() => this.onTimeout(timeout), timeout);
    }
    this.result = child.exited.then((status) => this.finish(status));
  }

  /** Starts `opts.argv`. Never throws: a spawn failure becomes an 'errored' result. */
  static start(opts: RunOptions): ProcessRun {
    return new ProcessRun(opts);
  }

  /** The process has not been reaped yet. */
  get running(): boolean {
    return !this.ended;
  }

  /**
   * Sends stopSignal to the group, SIGKILL after `graceMs`; resolves once the process is
   * reaped. The run is recorded aborted with `reason` (unless its timeout already fired).
   */
  async stop(graceMs: number, reason: string): Promise<void> {
    if (!this.ended) {
      this.abortReason ??= this.timedOut ? undefined : reason;
      this.child?.signalGroup(this.stopSignal);
      this.killAfter(graceMs);
    }
    await this.result;
  }

  /** SIGKILLs the group now. The run is recorded aborted with `reason` unless already decided. */
  kill(reason = 'killed'): void {
    if (this.ended) return;
    if (!this.timedOut) this.abortReason ??= reason;
    this.child?.signalGroup('SIGKILL');
  }

  private onTimeout(timeout: number): void {
    this.timeoutTimer = undefined;
    if (this.ended || this.abortReason !== undefined) return;
    this.timedOut = true;
    this.child?.signalGroup(this.stopSignal);
    this.killAfter(Math.min(1000, timeout / 10));
  }

  /** SIGKILL the group in `ms`, unless an earlier SIGKILL is already planned. */
  private killAfter(ms: number): void {
    const at = monotonicMs() + Math.max(0, ms);
    if (at >= this.killAt) return;
    this.killAt = at;
    clearLongTimeout(this.killTimer);
    this.killTimer = setLongTimeout(
      () => {
        this.killTimer = undefined;
        if (!this.ended) this.child?.signalGroup('SIGKILL');
      },
      Math.max(0, ms),
    );
  }

  private finish(status: ExitStatus): RunResult {
    this.ended = true;
    clearLongTimeout(this.timeoutTimer);
    clearLongTimeout(this.killTimer);
    if (this.timedOut) return this.record(status, 'errored', 'timeout');
    if (this.abortReason !== undefined) return this.record(status, 'aborted', this.abortReason);
    if (status.code === 0) return this.record(status, 'succeeded');
    if (status.code === null && status.signal === null) return this.record(status, 'errored', 'exit status lost');
    return this.record(status, 'failed');
  }

  private record(status: ExitStatus, outcome: RunRecord['outcome'], reason?: string): RunResult {
    const durationMs = Math.round((monotonicMs() - this.t0) * 1000) / 1000;
    const rec: RunResult = {
      pid: this.pid,
      startedAt: this.startedAt,
      endedAt: this.startedAt + Math.round(durationMs),
      durationMs,
      code: status.code,
      signal: status.signal,
      outcome,
    };
    if (reason !== undefined) rec.reason = reason;
    return rec;
  }
}
