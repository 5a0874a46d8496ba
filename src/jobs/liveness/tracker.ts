/**
 * A job's liveness bookkeeping, kept beside its state like health is: the threshold
 * counts of the current run, the restart budget's window, and what the process said over
 * sd_notify (its STATUS text, a changed watchdog interval). The job's handlers ask it what
 * a check result or a restart means; it decides nothing about states.
 */

import { formatMs } from '../../config/duration.js';
import type { HealthLiveness, JobConfig } from '../../config/types.js';
import { admitRestart, budgetExceededReason } from './restart-budget.js';
import { countCheck, DEFAULT_THRESHOLDS, INITIAL_THRESHOLD_STATE, type ThresholdState } from './thresholds.js';

export interface CheckVerdict {
  /** The failure fell in the start period: nothing is published, nothing changes. */
  ignored?: true;
  /** The health after this result, when this result sets it (otherwise it stays as it was). */
  health?: 'healthy' | 'unhealthy';
  /** It just turned unhealthy and `onUnhealthy` asks for this. */
  act?: { kind: 'restart' | 'stop'; reason: string };
}

export class LivenessTracker {
  private thresholds: ThresholdState = INITIAL_THRESHOLD_STATE;
  private restartTimes: number[] = [];
  /** The last STATUS= of the current run's process. */
  status: string | undefined;
  /** The watchdog interval in force for the current run (WATCHDOG_USEC may change it). */
  watchdogMs: number | undefined;

  constructor(private readonly config: JobConfig) {
    this.watchdogMs = config.watchdog;
  }

  /** A new run starts: counts, status and watchdog interval start afresh. */
  newRun(): void {
    this.thresholds = INITIAL_THRESHOLD_STATE;
    this.status = undefined;
    this.watchdogMs = this.config.watchdog;
  }

  check(passed: boolean, sinceStartMs: number): CheckVerdict {
    const policy: HealthLiveness = this.config.health ?? { ...DEFAULT_THRESHOLDS, onUnhealthy: 'none' };
    const step = countCheck(this.thresholds, passed, policy, sinceStartMs);
    this.thresholds = step.state;
    if (step.ignored) return { ignored: true };
    const health = step.state.health;
    const verdict: CheckVerdict = {};
    // A result below its threshold sets nothing: a failing check never publishes `healthy`.
    if ((passed && health === 'healthy') || (!passed && health === 'unhealthy')) verdict.health = health;
    if (step.changed === 'unhealthy' && policy.onUnhealthy !== 'none') {
      const n = step.state.failures;
      verdict.act = { kind: policy.onUnhealthy, reason: `health check failed ${n} time${n === 1 ? '' : 's'}` };
    }
    return verdict;
  }

  /** Takes a restart out of the budget; the failure reason when there is none left. */
  spendRestart(now: number = Date.now()): string | null {
    const limit = this.config.restartLimit;
    if (!limit) return null;
    const d = admitRestart(this.restartTimes, now, limit);
    this.restartTimes = d.recent;
    return d.allowed ? null : budgetExceededReason(limit, formatMs);
  }

  readyTimeoutReason(): string {
    return `no READY=1 within ${formatMs(this.config.notifyTimeout ?? 0)}`;
  }

  watchdogReason(): string {
    return `watchdog: no WATCHDOG=1 within ${formatMs(this.watchdogMs ?? 0)}`;
  }
}
