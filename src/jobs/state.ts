/**
 * Job states and inputs (docs/lifecycle.md), and the snapshot of a job that status/telemetry read.
 *
 * `JOB_STATES` and `JOB_INPUTS` are the rows and columns of the state table in
 * docs/architecture.md; a unit test fails when one exists here but not there. Adding a
 * state or an input is a local change: name it here, give it a row or column in the
 * table, and a `case` in the handlers of job.ts that accept it.
 */
import type { DependencyCondition } from '../config/types.js';
import type { RunRecord } from '../process/types.js';

export const JOB_STATES = [
  /** Waiting for its `when` trigger (or, between runs, for the next trigger or tick). */
  'pending',
  /** A start is due (trigger came, first tick) but a `dependsOn` condition is not met yet. */
  'waiting',
  /** A start was decided: the process is being spawned (a `notify` job: until it sends READY=1). */
  'starting',
  /** The process runs (or, for a job without `exec`, the job is active). Health is data, beside it. */
  'running',
  /** Running, with health checks paused (maintenance mode). */
  'maintenance',
  /** The process exited and the restart policy waits out its backoff delay before starting it again. */
  'backoff',
  /** Being stopped: `stopping` was published and its pre-stop hooks are running. */
  'draining',
  /** Being stopped: the stop signal was sent (or a hook's run is let finish); waiting for the exit. */
  'stopping',
  /** The process has ended and the `cleanup` commands run; then what its end led to. */
  'cleanup',
  /** Stopped by shutdown or a stop request. Terminal. */
  'stopped',
  /** Finished: no more starts, last run succeeded (or never had to run). Terminal. */
  'completed',
  /** Terminal failure: restarts exhausted after a failure, setup failed, `when.timeout`, a dependency failed. */
  'failed',
] as const;

export type JobState = (typeof JOB_STATES)[number];

/**
 * Every input a job's loop handles, one handler each in job.ts. Bus events become the
 * first six; the rest come from the job's own effects (timers, runs) or the supervisor.
 */
export const JOB_INPUTS = [
  'startup',
  'trigger',
  'shutdown',
  'maintenance',
  'checkResult',
  'intervalTick',
  'cronTick',
  'restartDue',
  'whenTimeout',
  'healthTick',
  'checkDone',
  'exited',
  'setupDone',
  'dependency',
  'stop',
  'hooksDone',
  'launch',
  'notify',
  'watchdogTimeout',
  'readyTimeout',
  'cleanupDone',
] as const;

export type JobInputName = (typeof JOB_INPUTS)[number];

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['stopped', 'completed', 'failed']);

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** Waiting for something outside the job (a trigger, a dependency): not active, not ended. */
export function isAwaiting(state: JobState): boolean {
  return state === 'pending' || state === 'waiting';
}

/** A process of the job is alive and not being stopped (or an exec-less job is active). */
export function isLive(state: JobState): boolean {
  return state === 'running' || state === 'maintenance';
}

/** A scheduled job's ticks that came while a run was going (`when.overlap`). */
export interface TickCounts {
  /** Dropped (`skip`, or `queue` with a run already queued). */
  skipped: number;
  /** Queued to start when the run ends (`queue`). */
  queued: number;
  /** Stopped the run going on and started a new one (`replace`). */
  replaced: number;
}

export interface JobSnapshot {
  name: string;
  state: JobState;
  /** Why the job is in this state, in words (`waiting for db: healthy`, `restarting in 400ms after exit code 1 (restart 3 of 5)`). */
  reason: string;
  pid: number | null;
  health: HealthStatus;
  ready: boolean;
  /** Number of runs started so far (the last run number); continues across restart and reload. */
  runs: number;
  /** Restarts performed (runs started by the restart policy, not by a trigger); continues across restart and reload. */
  restarts: number;
  /** When the current run started, if one is running. */
  startedAt: number | null;
  lastRun: RunRecord | null;
  /** Its `dependsOn`, each with whether it is met yet (for status). */
  dependencies: Array<{ job: string; condition: DependencyCondition; met: boolean }>;
  /** A scheduled job (`when.interval`/`when.cron`): its overlapping ticks, since this instance started. */
  ticks?: TickCounts;
}
