/**
 * What a job does when its process has exited on its own (not stopped by pidpilot):
 * one pure function of the run's outcome and the job's policy and budgets, so the whole
 * policy is one table (test/unit/jobs/after-exit.test.ts).
 */
import type { RunRecord } from '../process/types.js';

/** Why a run ended, in words: `exit code 1`, `killed by SIGKILL`, `timeout`. */
export function describeExit(record: Pick<RunRecord, 'code' | 'signal' | 'reason'>): string {
  return record.reason ?? (record.signal ? `killed by ${record.signal}` : `exit code ${record.code}`);
}

/**
 * The event a finished run (or check) publishes. A process that exits 0 after our stop signal
 * still exited successfully (as in ContainerPilot); a timeout or a spawn failure never did.
 */
export function exitEvent(record: Pick<RunRecord, 'code' | 'outcome'>): 'exitSuccess' | 'exitFailed' {
  return record.code === 0 && record.outcome !== 'errored' ? 'exitSuccess' : 'exitFailed';
}

export interface ExitPolicy {
  /** `when.interval` or `when.cron`: runs are ticks, `restarts` counts runs. */
  interval: boolean;
  /** A stop hook (`when` on another job's `stopping`/`stopped`): it may run once more during shutdown. */
  stopHook: boolean;
  /** `restarts` as configured (Infinity for unlimited). */
  restarts: number;
}

export interface ExitBudgets {
  /** Starts the trigger may still cause (`once`: 1, `each`: unlimited). */
  startsRemain: number;
  /** Restarts the policy may still perform (non-interval jobs). */
  restartsRemain: number;
  /** Runs an interval job may still perform. */
  intervalRunsRemain: number;
  /** A trigger (or, for a scheduled job, a queued tick) came while the run was going. */
  startQueued: boolean;
  /** pidpilot is shutting down. */
  shuttingDown: boolean;
}

export type AfterExit =
  /** Start again now for the trigger that came during the run (uses a start). */
  | { next: 'rerun' }
  /** Start again through the restart policy (uses a restart; the backoff decides the delay). */
  | { next: 'restart' }
  /** Wait in `pending` for the next trigger or interval tick. */
  | { next: 'wait' }
  | { next: 'complete' }
  | { next: 'fail'; reason: string };

export function afterExit(
  record: Pick<RunRecord, 'outcome' | 'code' | 'signal' | 'reason'>,
  policy: ExitPolicy,
  b: ExitBudgets,
): AfterExit {
  if (policy.interval) {
    // A tick queued during the run (`overlap: queue`) starts the next run at once.
    if (b.intervalRunsRemain <= 0) return ended(record, false);
    return b.startQueued && !b.shuttingDown ? { next: 'rerun' } : { next: 'wait' };
  }
  if (b.startQueued && b.startsRemain > 0 && (!b.shuttingDown || policy.stopHook)) return { next: 'rerun' };
  if (b.restartsRemain > 0 && !b.shuttingDown) return { next: 'restart' };
  if (b.startsRemain > 0 && !b.shuttingDown) return { next: 'wait' };
  return ended(record, policy.restarts > 0 && b.restartsRemain === 0 && !b.shuttingDown);
}

/** No more starts: completed, or failed when the last run did not succeed. */
function ended(record: Pick<RunRecord, 'outcome' | 'code' | 'signal' | 'reason'>, exhausted: boolean): AfterExit {
  if (record.outcome === 'succeeded') return { next: 'complete' };
  const why = describeExit(record);
  return { next: 'fail', reason: exhausted ? `restarts exhausted after ${why}` : `last run ${record.outcome}: ${why}` };
}
