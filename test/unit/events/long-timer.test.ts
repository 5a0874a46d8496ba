import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  clearLongTimeout,
  MAX_TIMER_STEP_MS,
  setLongInterval,
  setLongTimeout,
} from '../../../src/events/long-timer.js';

const HOUR = 3_600_000;
const MONTH = 720 * HOUR; // "720h", above what one Node timer holds

describe('long timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits a month, not 1 ms (setTimeout alone fires at once above 2^31-1 ms)', () => {
    expect(MONTH).toBeGreaterThan(MAX_TIMER_STEP_MS);
    const fn = vi.fn();
    setLongTimeout(fn, MONTH);
    vi.advanceTimersByTime(10_000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_STEP_MS); // first step over, still waiting
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MONTH - MAX_TIMER_STEP_MS - 10_001);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10 * MONTH);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("waits ~292 years (Go's largest duration) without firing early", () => {
    const fn = vi.fn();
    const t = setLongTimeout(fn, 9_223_372_036_854.775);
    for (let i = 0; i < 50; i++) vi.advanceTimersByTime(MAX_TIMER_STEP_MS);
    expect(fn).not.toHaveBeenCalled();
    expect(t.active).toBe(true);
    t.clear();
    expect(t.active).toBe(false);
  });

  it('short delays behave as setTimeout', () => {
    const fn = vi.fn();
    setLongTimeout(fn, 50);
    vi.advanceTimersByTime(49);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clears between steps', () => {
    const fn = vi.fn();
    const t = setLongTimeout(fn, MONTH);
    vi.advanceTimersByTime(MAX_TIMER_STEP_MS + 5);
    clearLongTimeout(t);
    vi.advanceTimersByTime(MONTH);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an interval of a month runs once a month', () => {
    const fn = vi.fn();
    const i = setLongInterval(fn, MONTH);
    vi.advanceTimersByTime(MONTH - 1);
    expect(fn).toHaveBeenCalledTimes(0);
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(MONTH);
    expect(fn).toHaveBeenCalledTimes(2);
    i.clear();
    vi.advanceTimersByTime(5 * MONTH);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});
