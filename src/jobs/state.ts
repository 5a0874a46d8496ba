/**
 * Job states (SPEC §2.3) and the snapshot of a job that status/telemetry read.
 */
import type { DependencyCondition } from '../config/types.js';
import type { RunRecord } from '../process/types.js';

export type JobState =
  /** Waiting for its `when` trigger (or, between runs, for the next trigger/tick). */
  | 'pending'
  /** A start was decided: the process is being spawned, or a restart delay is running out. */
  | 'starting'
  /** The process runs (or, for a job without `exec`, the job is active); health unknown or no health check. */
  | 'running'
  | 'healthy'
  | 'unhealthy'
  | 'maintenance'
  | 'stopping'
  /** Stopped by shutdown or a stop request. Terminal. */
  | 'stopped'
  /** Finished: no more starts, last run succeeded (or never had to run). Terminal. */
  | 'completed'
  /** Terminal failure: restarts exhausted after a failure, `when.timeout`, … */
  | 'failed';

export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['stopped', 'completed', 'failed']);

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

export interface JobSnapshot {
  name: string;
  state: JobState;
  /** Why the job is in this state, when that is worth saying (e.g. `when.timeout`). */
  reason?: string;
  pid: number | null;
  health: HealthStatus;
  ready: boolean;
  /** Number of runs started so far (the last run number). */
  runs: number;
  /** Restarts performed (runs started by the restart policy, not by a trigger). */
  restarts: number;
  /** When the current run started, if one is running. */
  startedAt: number | null;
  lastRun: RunRecord | null;
  /** Its `dependsOn`, each with whether it is met yet (for status). */
  dependencies: Array<{ job: string; condition: DependencyCondition; met: boolean }>;
}
