/**
 * The restart budget (systemd's StartLimitBurst / StartLimitIntervalSec): at most `burst`
 * restarts within any `interval`; the restart that would exceed it is refused and the job
 * fails. It bounds a crash loop that `restarts: "unlimited"` and a backoff would let run
 * for ever, and a liveness restart loop. Pure: the job keeps the times of its restarts.
 */
import type { Duration } from '../../config/types.js';

export interface RestartLimit {
  burst: number;
  interval: Duration;
}

export interface BudgetDecision {
  allowed: boolean;
  /** The restart times still inside the window, with `now` added when allowed. */
  recent: number[];
}

/** Whether a restart at `now` fits in the budget, given the times of earlier restarts. */
export function admitRestart(recent: readonly number[], now: number, limit: RestartLimit): BudgetDecision {
  const inWindow = recent.filter((t) => now - t < limit.interval);
  if (inWindow.length >= limit.burst) return { allowed: false, recent: inWindow };
  return { allowed: true, recent: [...inWindow, now] };
}

/** The reason a job fails with when its budget is spent. */
export function budgetExceededReason(limit: RestartLimit, formatDuration: (ms: Duration) => string): string {
  return `restarted too often: more than ${limit.burst} restart${limit.burst === 1 ? '' : 's'} within ${formatDuration(limit.interval)}`;
}
