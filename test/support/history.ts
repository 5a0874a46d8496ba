/**
 * A test double of the persisted history's reader (src/state/types.ts): records kept in
 * memory, fed by the test. Only for tests of its readers; the real one lives in src/state.
 */
import type { HistoryReader, StoredEvent, StoredLogLine, StoredRun, Unfollow } from '../../src/state/types.js';

export class MemoryHistory implements HistoryReader {
  readonly storedEvents: StoredEvent[] = [];
  readonly storedRuns = new Map<string, StoredRun[]>();
  readonly storedLogs = new Map<string, StoredLogLine[]>();
  private eventFollowers = new Set<(e: StoredEvent) => void>();
  private logFollowers = new Set<{ job: string; fn: (l: StoredLogLine) => void }>();
  /** Called inside events()/logs() before they answer: lets a test record something "meanwhile". */
  onRead: (() => void) | null = null;
  private seq = 0;

  addEvent(code: StoredEvent['code'], source: string, reason?: string): StoredEvent {
    const e: StoredEvent = { seq: ++this.seq, time: Date.now(), code, source, boot: 1, ...(reason ? { reason } : {}) };
    this.storedEvents.push(e);
    for (const fn of this.eventFollowers) fn(e);
    return e;
  }

  addLog(job: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): StoredLogLine {
    const l: StoredLogLine = { time: Date.now(), job, stream, line };
    const list = this.storedLogs.get(job) ?? [];
    list.push(l);
    this.storedLogs.set(job, list);
    for (const f of this.logFollowers) if (f.job === job) f.fn(l);
    return l;
  }

  get followerCount(): number {
    return this.eventFollowers.size + this.logFollowers.size;
  }

  async events(opts: { limit?: number } = {}): Promise<StoredEvent[]> {
    const out =
      opts.limit === undefined
        ? [...this.storedEvents]
        : this.storedEvents.slice(-opts.limit || this.storedEvents.length);
    this.onRead?.();
    return out;
  }

  followEvents(listener: (e: StoredEvent) => void): Unfollow {
    this.eventFollowers.add(listener);
    return () => this.eventFollowers.delete(listener);
  }

  async runs(job: string): Promise<StoredRun[]> {
    return [...(this.storedRuns.get(job) ?? [])];
  }

  async logs(job: string, opts: { limit?: number } = {}): Promise<StoredLogLine[]> {
    const all = this.storedLogs.get(job) ?? [];
    const out = opts.limit === undefined ? [...all] : all.slice(-opts.limit || all.length);
    this.onRead?.();
    return out;
  }

  followLogs(job: string, listener: (l: StoredLogLine) => void): Unfollow {
    const entry = { job, fn: listener };
    this.logFollowers.add(entry);
    return () => this.logFollowers.delete(entry);
  }
}
