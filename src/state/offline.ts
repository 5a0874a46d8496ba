/**
 * The history of a state dir read from its files alone, for a CLI run while no supervisor
 * is running (the running supervisor answers through the control socket, from its live
 * store). Follows are file tails polled every `TAIL_POLL_MS`: they pick up what a
 * supervisor started later writes, and stop with the returned Unfollow.
 */
import { parseLogLine } from './capture.js';
import { attempt, normalizeLimit, readEvents, readLogs, readRuns } from './history-files.js';
import { eventsPath, isStorableName, logPath } from './layout.js';
import { parseJsonLines, type ReadStats } from './read.js';
import { FileTail } from './tail.js';
import type { HistoryReader, StoredEvent, StoredLogLine, StoredRun, Unfollow } from './types.js';

export interface OfflineOptions {
  /** Run records returned per job (`state.keepRuns` of the config, when known). Default: all stored. */
  keepRuns?: number;
  pollMs?: number;
}

export class OfflineHistory implements HistoryReader {
  /** Lines skipped as unreadable by this reader so far. */
  readonly stats: ReadStats = { corrupt: 0 };

  constructor(
    readonly dir: string,
    private readonly opts: OfflineOptions = {},
  ) {}

  events(opts: { limit?: number } = {}): Promise<StoredEvent[]> {
    return attempt(() => readEvents(this.dir, normalizeLimit(opts.limit), this.stats));
  }

  followEvents(listener: (e: StoredEvent) => void): Unfollow {
    const tail = new FileTail(
      eventsPath(this.dir),
      (text) => {
        const [e] = parseJsonLines<StoredEvent>([text], this.stats);
        if (e) listener(e);
      },
      this.opts.pollMs,
    );
    return () => tail.stop();
  }

  runs(job: string): Promise<StoredRun[]> {
    // The store keeps at most twice keepRuns lines: reading that many returns all of them.
    return attempt(() => readRuns(this.dir, job, this.opts.keepRuns ?? Number.MAX_SAFE_INTEGER, this.stats));
  }

  logs(job: string, opts: { limit?: number } = {}): Promise<StoredLogLine[]> {
    return attempt(() => readLogs(this.dir, job, normalizeLimit(opts.limit), this.stats));
  }

  followLogs(job: string, listener: (l: StoredLogLine) => void): Unfollow {
    if (!isStorableName(job)) return () => {};
    const tail = new FileTail(
      logPath(this.dir, job),
      (text) => {
        const line = parseLogLine(job, text);
        if (line) listener(line);
        else this.stats.corrupt++;
      },
      this.opts.pollMs,
    );
    return () => tail.stop();
  }
}

/** A reader of the history in `stateDir` (see `resolveStateDir`), without a running supervisor. */
export function openHistory(stateDir: string, opts?: OfflineOptions): OfflineHistory {
  return new OfflineHistory(stateDir, opts);
}
