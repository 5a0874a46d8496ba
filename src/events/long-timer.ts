/**
 * A timeout that may be longer than Node's timers allow. `setTimeout` keeps its delay in a
 * signed 32-bit millisecond count: anything above 2^31−1 ms (~24.8 days) fires after 1 ms
 * instead (with a TimeoutOverflowWarning), so a monthly `interval` would run in a tight loop.
 * A long wait is chained here from steps of at most that size; a step never fires early, so
 * the whole wait is never shorter than asked. Every timer whose delay comes from the
 * configuration goes through this.
 */

/** The longest delay one Node timer can hold. */
export const MAX_TIMER_STEP_MS = 2 ** 31 - 1;

export class LongTimer {
  private handle: NodeJS.Timeout | undefined;
  private remaining: number;
  private referenced = true;
  private done = false;

  constructor(
    private readonly fn: () => void,
    ms: number,
  ) {
    // NaN, negative and non-finite delays mean "as soon as possible", as setTimeout reads them;
    // Infinity means never (config validation keeps it out, but a bound must not wrap to 1 ms).
    this.remaining = Number.isNaN(ms) || ms < 0 ? 0 : ms;
    this.arm();
  }

  /** Pending: neither fired nor cleared. */
  get active(): boolean {
    return !this.done;
  }

  clear(): void {
    this.done = true;
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
  }

  /** Does not keep the process alive on its own (applies to every later step too). */
  unref(): this {
    this.referenced = false;
    this.handle?.unref();
    return this;
  }

  ref(): this {
    this.referenced = true;
    this.handle?.ref();
    return this;
  }

  private arm(): void {
    if (this.remaining === Infinity) return;
    const step = Math.min(this.remaining, MAX_TIMER_STEP_MS);
    this.handle = setTimeout(() => this.tick(step), step);
    if (!this.referenced) this.handle.unref();
  }

  private tick(step: number): void {
    this.handle = undefined;
    if (this.done) return;
    this.remaining -= step;
    if (this.remaining > 0) {
      this.arm();
      return;
    }
    this.done = true;
    this.fn();
  }
}

/** Calls `fn` once after `ms` milliseconds, however long that is. */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  return new LongTimer(fn, ms);
}

/** Clears a LongTimer; `undefined`/`null` are ignored, like clearTimeout. */
export function clearLongTimeout(timer: LongTimer | undefined | null): void {
  timer?.clear();
}

/**
 * Calls `fn` every `ms` milliseconds, however long that is (each period is one LongTimer, so a
 * slow `fn` does not pile up calls). Returns a handle whose clear() stops it.
 */
export function setLongInterval(fn: () => void, ms: number): { clear(): void; unref(): void } {
  let current: LongTimer;
  let referenced = true;
  let stopped = false;
  const schedule = (): void => {
    current = new LongTimer(
      () => {
        if (stopped) return;
        schedule();
        fn();
      },
      Math.max(1, ms),
    );
    if (!referenced) current.unref();
  };
  schedule();
  return {
    clear() {
      stopped = true;
      current.clear();
    },
    unref() {
      referenced = false;
      current.unref();
    },
  };
}
