/**
 * `dependsOn` (docs/configuration.md): whether a dependency, seen in one of its snapshots, meets the
 * condition its dependent waits for. The supervisor hands each dependent a snapshot of
 * the dependency at every change of its state or readiness, in order, so a condition
 * met only briefly (a one-shot that is `started` for a moment) is never missed.
 */
import type { DependencyCondition } from '../config/types.js';
import type { JobState } from './state.js';
import { isLive } from './state.js';

/**
 * - `met`: the dependent may start (a met dependency stays met for that dependent);
 * - `waiting`: it may still get there;
 * - `failed`: it failed terminally: its dependents fail too;
 * - `unreachable`: it ended without getting there (e.g. a long-running job that stopped).
 */
export type DependencyVerdict = 'met' | 'waiting' | 'failed' | 'unreachable';

export interface DependencyView {
  state: JobState;
  /** Healthy (or started, without a health check) and setup done. */
  ready: boolean;
  /** The dependency has `setup` commands (then `started` also waits for them). */
  hasSetup: boolean;
  /** Its last run exited 0 (a one-shot started by `each`, or between interval runs, waits in `pending`). */
  lastRunSucceeded: boolean;
}

export function judgeDependency(condition: DependencyCondition, dep: DependencyView): DependencyVerdict {
  if (dep.state === 'failed') return 'failed';
  switch (condition) {
    case 'succeeded':
      // `completed` means no more starts and the last run succeeded; a job that may run again
      // (`each`, interval) has succeeded once its last run did.
      if (dep.state === 'completed' || (dep.state === 'pending' && dep.lastRunSucceeded)) return 'met';
      break;
    case 'healthy':
      if (dep.ready) return 'met';
      break;
    case 'started':
      if (dep.ready || (isLive(dep.state) && !dep.hasSetup) || dep.state === 'completed') return 'met';
      break;
  }
  return dep.state === 'stopped' || dep.state === 'completed' ? 'unreachable' : 'waiting';
}
