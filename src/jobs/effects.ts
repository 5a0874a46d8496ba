/**
 * The seam between a job's state machine (job.ts) and the world: the inputs the machine
 * consumes and the effects it asks for. The machine never spawns, sleeps or publishes by
 * itself; runtime.ts implements `JobEffects` with real processes, timers and the bus, and
 * the unit tests with a recorder, so `state × input → next state + effects` is tested
 * without processes or real time.
 */
import type { BusEvent, EventCode } from '../events/event.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { NotifyMessage } from '../process/notify.js';
import type { RunRecord } from '../process/types.js';
import type { DependencyView } from './dependencies.js';

/** The job's timers. */
export type Timer = 'interval' | 'cron' | 'restart' | 'whenTimeout' | 'health' | 'watchdog' | 'ready';

/** A process the job started (main run or setup command); compared by identity. */
export interface RunHandle {
  /** Null when the spawn failed (its `exited`/`setupDone` input follows). */
  readonly pid: number | null;
}

/** What the job's queue carries. Bus events are dispatched to the handlers named in JOB_INPUTS. */
export type JobInput =
  | { kind: 'event'; event: BusEvent }
  | { kind: 'exited'; run: RunHandle; record: RunRecord }
  /**
   * A timer that fired. `stale()` is true when the timer was armed again or cleared after it
   * fired but before its input was handled (a run ended and the next one armed its own): the
   * input then belongs to a decision no longer in force and is dropped.
   */
  | { kind: 'timer'; timer: Timer; stale?: () => boolean }
  | { kind: 'checkDone'; check: number }
  | { kind: 'hooksDone' }
  | { kind: 'stop'; reason: string }
  | { kind: 'dependency'; job: string; view: DependencyView }
  | { kind: 'setupDone'; run: RunHandle; index: number; record: RunRecord }
  /** A job instance built after `startup` (reload, start, restart): its own start, with or without its trigger. */
  | { kind: 'launch'; trigger: boolean; maintenance: boolean }
  /** An sd_notify message from a process of the run (a `notify: true` job). */
  | { kind: 'notify'; run: RunHandle; msg: NotifyMessage }
  /** The cleanup commands started by `runCleanup(cleanup, …)` have all ended. */
  | { kind: 'cleanupDone'; cleanup: number };

/** What a run's processes learn about their place in the job's life (jobs/liveness/env.ts). */
export interface RunContext {
  /** Restarts of the job so far. */
  restarts: number;
  /** The job whose run's end triggered this run (`when` on its stopped/exitFailed/exitSuccess), if any. */
  triggeredBy?: string;
}

/** How the effects report back: inputs pushed onto the job's queue. */
export type InputSink = (input: JobInput) => void;

export interface JobEffects {
  /** The host's logger with this job's name bound. */
  readonly log: Logger;
  /**
   * Starts the job's process (`exec`), run number `run`; its end comes back as `exited`,
   * after its output was relayed and `exitSuccess`/`exitFailed` published.
   */
  spawnMain(run: number, context: RunContext): RunHandle;
  /**
   * Runs the cleanup commands after `record`'s run ended, one at a time, each bounded by
   * `cleanupTimeout`; `cleanupDone` follows, however they went.
   */
  runCleanup(cleanup: number, record: RunRecord): void;
  /** Starts setup command `index`; its end comes back as `setupDone`. */
  spawnSetup(index: number): RunHandle;
  /** Stops a run: its stop signal, SIGKILL after `graceMs`. Its end still comes back as an input. */
  stopRun(run: RunHandle, graceMs: number, reason: string): void;
  /** Starts health check number `check`; it publishes on `check.<job>` and `checkDone` follows. */
  startCheck(check: number): void;
  /** How the last health check ended, in words, with its last output line (for the unhealthy warning). */
  lastCheckDetail(): string;
  /** Abandons the check going on, if any: it publishes nothing. */
  stopCheck(): void;
  setTimer(timer: Timer, ms: number): void;
  /**
   * Arms the `cron` timer for the next tick of the job's `when.cron` after now; returns when
   * that is (epoch ms), or null when the schedule has no tick left.
   */
  armCronTick(): number | null;
  clearTimer(timer: Timer): void;
  /** Publishes an event from this job; returns its sequence number. */
  publish(code: EventCode): number;
  /**
   * Waits (bounded by the job's stopTimeout) for the pre-stop hooks to have seen the event
   * `afterSeq` and finished; `hooksDone` follows. False when the job has no pre-stop hook.
   */
  waitForPreStopHooks(afterSeq: number): boolean;
  /** Observers: the supervisor, status, dependents. */
  stateChanged(): void;
  readyChanged(): void;
  /** Detaches from the bus: no more events for this instance. */
  close(): void;
}
