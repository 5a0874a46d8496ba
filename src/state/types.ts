/**
 * The contract between the persisted history (docs/history.md, built with the task lifecycle)
 * and its readers (the control socket's status/events/logs endpoints and the CLI).
 * Written first so both sides can be built at the same time; change it only together.
 */
import type { BusEvent } from '../events/event.js';
import type { RunRecord } from '../process/types.js';

/** An event as stored in `events.jsonl`: the bus event, plus a reason when there is one. */
export interface StoredEvent extends BusEvent {
  /** e.g. `dependency "db" failed` on a `failed` event. */
  readonly reason?: string;
  /** When the pidpilot process that recorded it started (ms since the epoch): `seq` restarts at 1 with each boot. */
  readonly boot: number;
}

/** A run record as stored, with the job it belongs to. */
export interface StoredRun extends RunRecord {
  readonly job: string;
}

/** One captured line of a job's output. */
export interface StoredLogLine {
  readonly time: number;
  readonly job: string;
  readonly stream: 'stdout' | 'stderr';
  /** The line without its newline, as UTF-8 text (invalid bytes replaced). */
  readonly line: string;
}

/** Unsubscribes a follower. */
export type Unfollow = () => void;

export interface HistoryReader {
  /** Stored events in sequence order, oldest first (across pidpilot restarts too). */
  events(opts?: { limit?: number }): Promise<StoredEvent[]>;
  /** Calls `listener` with every event recorded from now on, in order. */
  followEvents(listener: (e: StoredEvent) => void): Unfollow;
  /** The last `keepRuns` run records of a job, oldest first; [] for an unknown job. */
  runs(job: string): Promise<StoredRun[]>;
  /** The last `limit` captured lines of a job's output, oldest first. */
  logs(job: string, opts?: { limit?: number }): Promise<StoredLogLine[]>;
  /** Calls `listener` with every line the job writes from now on. */
  followLogs(job: string, listener: (l: StoredLogLine) => void): Unfollow;
  /** Records dropped because they could not be written (a full disk), for a writer; none for a reader. */
  readonly droppedRecords?: number;
}
