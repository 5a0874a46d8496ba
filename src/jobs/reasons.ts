/**
 * The words of a job's reason: why it is in its state, as `status`, `/v3/status`, the
 * event history and the log show it. Kept apart from the machine so the texts read as
 * one vocabulary.
 */
import { tickTime } from '../config/cron.js';
import type { DependencyCondition, JobConfig } from '../config/types.js';
import { GLOBAL_SOURCE, SIGNAL_SOURCES } from '../events/event.js';

/** Why a pending job has not started: what its `when` waits for (`nextTick`: a cron job's next tick, epoch ms). */
export function pendingReason(config: JobConfig, ranBefore: boolean, nextTick?: number | null): string {
  const when = config.when;
  switch (when.kind) {
    case 'startup':
      return ranBefore ? 'ran; waiting for nothing more' : 'waiting for startup';
    case 'interval':
      return ranBefore ? `next run in ${when.interval}ms` : 'waiting for startup';
    case 'cron':
      return nextTick != null ? `next run at ${tickTime(nextTick)}` : 'waiting for startup';
    case 'event':
      if ((SIGNAL_SOURCES as readonly string[]).includes(when.source)) return `waiting for signal ${when.source}`;
      if (when.source === GLOBAL_SOURCE) return `waiting for event ${when.code}`;
      return `waiting for event ${when.code} from ${when.source}`;
  }
}

/** What a dependent waits for, as `started and set up` (setup counts for `started` and `healthy`). */
export function conditionText(condition: DependencyCondition, hasSetup: boolean): string {
  return condition === 'succeeded' || !hasSetup ? condition : `${condition} and set up`;
}

/** `waiting for app: started and set up; db: healthy`. */
export function waitingReason(
  unmet: ReadonlyArray<{ job: string; condition: DependencyCondition; hasSetup: boolean }>,
): string {
  return `waiting for ${unmet.map((d) => `${d.job}: ${conditionText(d.condition, d.hasSetup)}`).join('; ')}`;
}

/** `restart 3 of 5`, or `restart 3` without a bound. */
export function restartCount(restarts: number, of: number): string {
  return Number.isFinite(of) ? `restart ${restarts} of ${of}` : `restart ${restarts}`;
}

/** `restarting in 400ms after exit code 1 (restart 3 of 5)`. */
export function backoffReason(delayMs: number, exit: string, restarts: number, of: number): string {
  return `restarting in ${delayMs}ms after ${exit} (${restartCount(restarts, of)})`;
}

/** `run 3 (restart 2 of 5)`, `run 1`. */
export function runReason(run: number, restarts: number, of: number): string {
  return restarts > 0 ? `run ${run} (${restartCount(restarts, of)})` : `run ${run}`;
}

/** Why a tick that came during run `run` did not start one now (`when.overlap`). */
export function tickReason(outcome: 'skipped' | 'queued' | 'already queued', run: number): string {
  if (outcome === 'already queued') return `tick skipped: run ${run} still running and the next run already queued`;
  return `tick ${outcome}: run ${run} still running`;
}

/** `tick replaces run 4: SIGTERM sent`. */
export function replaceReason(run: number, signal: string): string {
  return `tick replaces run ${run}: ${signal} sent`;
}
