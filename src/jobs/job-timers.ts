/**
 * A job's timers as effects: at most one of each kind armed, each a long timer (delays come
 * from the configuration and may exceed what one Node timer holds); a timer that fires is
 * pushed onto the job's queue as a `timer` input, which knows whether the timer was armed again
 * or cleared since (each arming and clearing starts a new generation of that timer).
 */
import { type LongTimer, setLongTimeout } from '../events/long-timer.js';
import type { InputSink, Timer } from './effects.js';

export class JobTimers {
  private readonly timers = new Map<Timer, LongTimer>();
  private readonly generations = new Map<Timer, number>();

  constructor(private readonly push: InputSink) {}

  set(timer: Timer, ms: number): void {
    this.clear(timer);
    const generation = this.next(timer);
    this.timers.set(
      timer,
      setLongTimeout(() => {
        this.timers.delete(timer);
        this.push({ kind: 'timer', timer, stale: () => this.generations.get(timer) !== generation });
      }, ms),
    );
  }

  /**
   * Arms `timer` for the wall-clock time `at` (epoch ms: a cron tick). The wait runs on the
   * monotonic clock; if the wall clock was set back meanwhile, the wait ends before `at` and is
   * armed again for the rest, so a tick never comes early. If the wall clock jumped ahead (or
   * the machine slept), it comes late, once.
   */
  setAt(timer: Timer, at: number, now: () => number = Date.now): void {
    this.clear(timer);
    const generation = this.next(timer);
    const arm = (): void => {
      this.timers.set(
        timer,
        setLongTimeout(() => {
          this.timers.delete(timer);
          if (now() < at) return arm();
          this.push({ kind: 'timer', timer, stale: () => this.generations.get(timer) !== generation });
        }, at - now()),
      );
    };
    arm();
  }

  /**
   * Disarms `timer`; a firing of it already queued becomes stale. A timer never armed has
   * nothing to disarm and no firing to make stale: a stop clears every kind of timer, of
   * which a job has usually armed none or one.
   */
  clear(timer: Timer): void {
    if (!this.generations.has(timer)) return;
    this.next(timer);
    const handle = this.timers.get(timer);
    if (handle === undefined) return;
    handle.clear();
    this.timers.delete(timer);
  }

  private next(timer: Timer): number {
    const generation = (this.generations.get(timer) ?? 0) + 1;
    this.generations.set(timer, generation);
    return generation;
  }
}
