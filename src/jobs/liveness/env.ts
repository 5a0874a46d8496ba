/**
 * What a child learns about its lifecycle from its environment (next to ContainerPilot's
 * CONTAINERPILOT_* variables): every process pidpilot starts for a job gets
 *   PIDPILOT_JOB        the job's name
 *   PIDPILOT_RUN        the run number (1 for the first run; monotonic across restarts and reloads)
 *   PIDPILOT_RESTARTS   restarts so far (0 on a fresh start), so a job can tell a start from a restart;
 * and a command that runs because a run ended — a `cleanup` command, a job triggered by
 * `stopped`, `exitFailed` or `exitSuccess` — also gets that run's end, as systemd gives
 * $SERVICE_RESULT, $EXIT_CODE and $EXIT_STATUS:
 *   PIDPILOT_RESULT         succeeded | failed | errored | aborted (the history's outcome)
 *   PIDPILOT_RESULT_REASON  why, for errored/aborted runs (timeout, shutdown, stop, …), else empty
 *   PIDPILOT_EXIT_CODE      its exit code, empty when it was killed
 *   PIDPILOT_EXIT_SIGNAL    the signal that killed it (SIGTERM …), empty when it exited
 *   PIDPILOT_TRIGGER_JOB    the job whose run it was
 */
import type { RunRecord } from '../../process/types.js';

export function lifecycleEnv(job: string, run: number, restarts: number): Record<string, string> {
  return { PIDPILOT_JOB: job, PIDPILOT_RUN: String(run), PIDPILOT_RESTARTS: String(restarts) };
}

export function runEndEnv(
  job: string,
  record: Pick<RunRecord, 'outcome' | 'reason' | 'code' | 'signal'>,
): Record<string, string> {
  return {
    PIDPILOT_TRIGGER_JOB: job,
    PIDPILOT_RESULT: record.outcome,
    PIDPILOT_RESULT_REASON: record.reason ?? '',
    PIDPILOT_EXIT_CODE: record.code === null ? '' : String(record.code),
    PIDPILOT_EXIT_SIGNAL: record.signal ?? '',
  };
}
