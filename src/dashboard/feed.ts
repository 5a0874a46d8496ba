/**
 * What the live views (the dashboard page, `pidpilot top`) show, kept current from the
 * control socket: the status (read again right after every event, and every second so a
 * change without an event is seen too) and the event stream (`/v3/events?follow=1`).
 * When the supervisor goes away the feed says so and keeps trying; it never throws.
 *
 * This is the one seam between the views and the supervisor: a typed observer of state
 * changes inside the supervisor could replace the polling here without touching a view.
 */
import type { ControlResponse as Response } from '../control/response.js';
import type { StatusSnapshot } from '../control/target.js';
import type { StoredEvent } from '../state/types.js';

/** What the feed needs of a control client (ControlClient over the socket). */
export interface FeedClient {
  call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response>;
  follow(path: string, onLine: (line: string) => void): { done: Promise<void>; close: () => void };
}

export type FeedMessage =
  | { kind: 'status'; status: StatusSnapshot; now: number }
  | { kind: 'event'; event: StoredEvent }
  | { kind: 'error'; error: string | null };

const POLL_MS = 1000;
const RETRY_MS = 2000;
/** Events kept for a view that connects later. */
export const KEPT_EVENTS = 200;

export class LiveFeed {
  status: StatusSnapshot | null = null;
  error: string | null = null;
  readonly events: StoredEvent[] = [];
  private readonly listeners = new Set<(m: FeedMessage) => void>();
  private timer: NodeJS.Timeout | null = null;
  private retry: NodeJS.Timeout | null = null;
  private eventStream: { close: () => void } | null = null;
  private lastJson = '';
  private polling = false;
  private again = false;
  private running = false;

  constructor(private readonly client: FeedClient) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    this.followEvents();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.eventStream?.close();
    this.eventStream = null;
  }

  /** Listens; the feed runs while anyone listens (an unwatched dashboard costs nothing). */
  subscribe(fn: (m: FeedMessage) => void): () => void {
    this.listeners.add(fn);
    this.start();
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Reads the status now (one read at a time; a call during a read asks for one more). */
  async refresh(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.again = false;
        const res = await this.client.call('GET', '/v3/status');
        if (res.status !== 200) throw new Error(`status: HTTP ${res.status}`);
        this.setError(null);
        const json = JSON.stringify(res.json);
        if (json !== this.lastJson) {
          this.lastJson = json;
          this.status = res.json as StatusSnapshot;
          this.emit({ kind: 'status', status: this.status, now: Date.now() });
        }
      } while (this.again && this.running);
    } catch (err) {
      this.setError(err instanceof Error && err.message !== '' ? err.message : String(err));
    } finally {
      this.polling = false;
    }
  }

  private followEvents(): void {
    if (!this.running) return;
    const stream = this.client.follow(`/v3/events?follow=1&limit=${KEPT_EVENTS}`, (line) => {
      let event: StoredEvent;
      try {
        event = JSON.parse(line) as StoredEvent;
      } catch {
        return;
      }
      // After a reconnection the server sends its recent past again: skip what was seen.
      const last = this.events[this.events.length - 1];
      if (last && (event.boot < last.boot || (event.boot === last.boot && event.seq <= last.seq))) return;
      this.events.push(event);
      if (this.events.length > KEPT_EVENTS) this.events.splice(0, this.events.length - KEPT_EVENTS);
      this.emit({ kind: 'event', event });
      void this.refresh();
    });
    this.eventStream = stream;
    // The stream ends when the supervisor goes (or has no history): try again a bit later.
    void stream.done
      .catch(() => {})
      .then(() => {
        if (this.running) this.retry = setTimeout(() => this.followEvents(), RETRY_MS);
      });
  }

  private setError(error: string | null): void {
    if (error === this.error) return;
    this.error = error;
    if (error !== null) this.lastJson = ''; // the next good status is news again
    this.emit({ kind: 'error', error });
  }

  private emit(m: FeedMessage): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(m);
      } catch {
        // a view's failure is its own
      }
    }
  }
}
