/**
 * The observer emitter: what happened to jobs, for whoever watches from outside the
 * lifecycle — the history, telemetry, and the dashboard's live streams. One typed
 * eventemitter3 instance per supervisor (the emitter the design names: small, and an emit
 * with no listener costs a property lookup). Bus events stay on the bus; these are the
 * payloads the bus does not carry: run records, check timings, state and reason changes.
 */
import { EventEmitter } from 'eventemitter3';
import type { JobState } from '../jobs/state.js';
import type { RunRecord } from '../process/types.js';

/** How one health check went. */
export interface CheckEnd {
  outcome: 'succeeded' | 'failed' | 'errored';
  durationMs: number;
}

export interface ObserverEvents {
  /**
   * A run of `job`'s process ended (after its output was relayed, before its exit event); for a
   * job with `cleanup` commands, once they have ended, with how each went (`record.cleanup`).
   */
  run: (job: string, record: RunRecord) => void;
  /** The words of the `cleanupSuccess`/`cleanupFailed` event `source` publishes next (one cleanup command's end). */
  cleanup: (source: string, reason: string) => void;
  /** A health check of `job` ended (not one abandoned by a stop). */
  check: (job: string, check: CheckEnd) => void;
  /** The current instance of `job` changed state or reason (a retiring instance's end is not reported). */
  state: (job: string, state: JobState, reason: string) => void;
}

export class Observers extends EventEmitter<ObserverEvents> {}
