/**
 * Restart backoff (docs/configuration.md `restartBackoff`): the first restart waits `initial`
 * (0 by default, so it is immediate); each further restart after a quick exit waits
 * `factor` times longer, starting from 100 ms when `initial` is 0, capped at `max`.
 * A run that lived at least `resetAfter` proves the job healthy again and resets it.
 * A crash-looping job therefore settles at one start per `max`, never a busy loop.
 */
import type { RestartBackoff } from '../config/types.js';

/** The step used after an immediate (0 ms) first restart. */
export const BACKOFF_FIRST_STEP_MS = 100;

export class Backoff {
  private consecutive = 0;
  private lastDelay = 0;

  constructor(private readonly policy: RestartBackoff) {}

  /** The delay before the next start, given how long the run that just ended lived. */
  next(runDurationMs: number): number {
    if (runDurationMs >= this.policy.resetAfter) this.reset();
    let delay: number;
    if (this.consecutive === 0) delay = this.policy.initial;
    else if (this.lastDelay === 0) delay = BACKOFF_FIRST_STEP_MS;
    else delay = this.lastDelay * this.policy.factor;
    delay = Math.min(delay, this.policy.max);
    this.consecutive++;
    this.lastDelay = delay;
    return delay;
  }

  reset(): void {
    this.consecutive = 0;
    this.lastDelay = 0;
  }
}
