/**
 * Health check thresholds (Kubernetes' failureThreshold/successThreshold, Docker's
 * start_period): a check result moves the job's health only after enough of the same
 * result in a row, and failures do not count during the start period — until the job has
 * been healthy once in this run, which ends the start period early (Docker's rule).
 * Pure: the job feeds it each result and acts on the change it reports.
 */
import type { Duration } from '../../config/types.js';

export interface ThresholdPolicy {
  /** Consecutive failures that turn the job unhealthy (≥ 1). */
  failureThreshold: number;
  /** Consecutive passes that turn it healthy (≥ 1). */
  successThreshold: number;
  /** After the run starts, failures do not count for this long (0: none). */
  startPeriod: Duration;
}

export const DEFAULT_THRESHOLDS: Readonly<ThresholdPolicy> = {
  failureThreshold: 1,
  successThreshold: 1,
  startPeriod: 0,
};

export interface ThresholdState {
  health: 'unknown' | 'healthy' | 'unhealthy';
  /** Consecutive failures counted (not those ignored in the start period). */
  failures: number;
  passes: number;
  /** Healthy at least once in this run: the start period is over. */
  wasHealthy: boolean;
}

/** A run's counting starts here (each run starts afresh). */
export const INITIAL_THRESHOLD_STATE: Readonly<ThresholdState> = {
  health: 'unknown',
  failures: 0,
  passes: 0,
  wasHealthy: false,
};

export interface ThresholdStep {
  state: ThresholdState;
  /** The health this result turned the job to, when it changed. */
  changed?: 'healthy' | 'unhealthy';
  /** The failure fell in the start period and was not counted. */
  ignored?: true;
}

/**
 * Counts one check result. `sinceStart` is the time since the run started, in ms.
 */
export function countCheck(
  state: ThresholdState,
  passed: boolean,
  policy: ThresholdPolicy,
  sinceStart: Duration,
): ThresholdStep {
  if (passed) {
    const passes = state.passes + 1;
    const turns = state.health !== 'healthy' && passes >= policy.successThreshold;
    return {
      state: { health: turns ? 'healthy' : state.health, failures: 0, passes, wasHealthy: state.wasHealthy || turns },
      ...(turns ? { changed: 'healthy' as const } : {}),
    };
  }
  if (!state.wasHealthy && sinceStart < policy.startPeriod) return { state, ignored: true };
  const failures = state.failures + 1;
  const turns = state.health !== 'unhealthy' && failures >= policy.failureThreshold;
  return {
    state: { health: turns ? 'unhealthy' : state.health, failures, passes: 0, wasHealthy: state.wasHealthy },
    ...(turns ? { changed: 'unhealthy' as const } : {}),
  };
}
