/**
 * A job's timers as effects: at most one of each kind armed, each a long timer (delays come
 * from the configuration and may exceed what one Node timer holds); a timer that fires is
 * pushed onto the job's queue as a `timer` input.
 */
import { type LongTimer, setLongTimeout } from '../events/long-timer.js';
import type { InputSink, Timer } from './effects.js';

export class JobTimers {
  private readonly timers = new Map<Timer, LongTimer>();

  constructor(private readonly push: InputSink) {}

  set(timer: Timer, ms: number): void {
    this.clear(timer);
    this.timers.set(
      timer,
      setLongTimeout(() => {
        this.timers.delete(timer);
        this.push({ kind: 'timer', timer });
      }, ms),
    );
  }

  clear(timer: Timer): void {
    const handle = this.timers.get(timer);
    if (handle === undefined) return;
    handle.clear();
    this.timers.delete(timer);
  }
}
