/**
 * The event bus: the only way the parts of pidpilot tell each other what happened.
 *
 * - `publish()` is synchronous and cheap: it stamps the event with the next global
 *   sequence number, calls the synchronous observers (history, metrics, debug log),
 *   and pushes it onto the queue of every subscriber whose filter accepts it.
 * - Each subscriber consumes its own queue at its own pace (one job loop each), so
 *   every subscriber sees the events it receives in global sequence order, and a
 *   slow subscriber never delays the publisher or the others.
 */

import type { BusEvent, EventCode } from './event.js';
import { AsyncQueue } from './queue.js';

export type EventFilter = (code: EventCode, source: string) => boolean;
export type EventObserver = (event: BusEvent) => void;

/** Anything events can be pushed into: a subscription's own queue, or a job's input queue. */
export interface EventTarget {
  push(event: BusEvent): void;
}

export class Subscription {
  /** The subscription's own queue, used when no target was given. */
  readonly queue = new AsyncQueue<BusEvent>();
  readonly target: EventTarget;
  constructor(
    readonly name: string,
    readonly accepts: EventFilter,
    private readonly detach: (s: Subscription) => void,
    target?: EventTarget,
  ) {
    this.target = target ?? this.queue;
  }

  next(): Promise<IteratorResult<BusEvent>> {
    return this.queue.next();
  }

  /** Stop receiving; events already queued are still delivered. */
  close(): void {
    this.detach(this);
    this.queue.close();
  }
}

export class Bus {
  private seq = 0;
  /** Subscriptions offered every event. */
  private subscriptions: Subscription[] = [];
  /** Subscriptions offered only events from given sources, indexed by source: with many jobs, each event wakes only the few that name its source. */
  private bySource = new Map<string, Subscription[]>();
  private observers: EventObserver[] = [];
  /** Set while observers run, to turn re-entrant publishing into a queue instead of recursion. */
  private publishing = false;
  private pending: BusEvent[] = [];

  /** The sequence number of the last published event. */
  get lastSeq(): number {
    return this.seq;
  }

  publish(code: EventCode, source: string): BusEvent {
    const event = this.stamp(code, source);
    if (this.publishing) {
      // An observer published from inside an observer: keep the global order
      // strict by delivering it after the current event has reached everyone.
      this.pending.push(event);
      return event;
    }
    this.deliver(event);
    while (this.pending.length > 0) this.deliver(this.pending.shift() as BusEvent);
    return event;
  }

  /**
   * Receive every event `accepts` lets through, in global order. Events go to the
   * subscription's own queue (read it with `next()`), or to `target` when given.
   * `sources`, when given, limits the events offered to `accepts` to those sources.
   */
  subscribe(
    name: string,
    accepts: EventFilter = () => true,
    target?: EventTarget,
    sources?: readonly string[],
  ): Subscription {
    const sub = new Subscription(name, accepts, (s) => this.detach(s, sources), target);
    if (sources === undefined) {
      this.subscriptions.push(sub);
    } else {
      for (const source of new Set(sources)) {
        const list = this.bySource.get(source);
        if (list) list.push(sub);
        else this.bySource.set(source, [sub]);
      }
    }
    return sub;
  }

  private detach(sub: Subscription, sources: readonly string[] | undefined): void {
    if (sources === undefined) {
      this.subscriptions = this.subscriptions.filter((x) => x !== sub);
      return;
    }
    for (const source of sources) {
      const rest = (this.bySource.get(source) ?? []).filter((x) => x !== sub);
      if (rest.length > 0) this.bySource.set(source, rest);
      else this.bySource.delete(source);
    }
  }

  /** Synchronous observers see every event, in order, at publish time. They must be fast and must not throw. */
  observe(observer: EventObserver): () => void {
    this.observers.push(observer);
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  private stamp(code: EventCode, source: string): BusEvent {
    return Object.freeze({ seq: ++this.seq, time: Date.now(), code, source });
  }

  private deliver(event: BusEvent): void {
    this.publishing = true;
    try {
      for (const observer of this.observers) {
        try {
          observer(event);
        } catch {
          // An observer's failure (say, a full disk under the history writer)
          // must never stop the event from reaching the jobs.
        }
      }
    } finally {
      this.publishing = false;
    }
    for (const sub of this.subscriptions) {
      if (sub.accepts(event.code, event.source)) sub.target.push(event);
    }
    const bySource = this.bySource.get(event.source);
    if (bySource) {
      for (const sub of bySource) if (sub.accepts(event.code, event.source)) sub.target.push(event);
    }
  }
}
