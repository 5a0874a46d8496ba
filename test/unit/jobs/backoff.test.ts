import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/jobs/backoff.js';

const defaults = { initial: 0, max: 10_000, factor: 2, resetAfter: 10_000 };

describe('Backoff', () => {
  it('restarts at once, then 100ms, 200ms, 400ms … up to max for quick exits', () => {
    const b = new Backoff(defaults);
    const delays = Array.from({ length: 10 }, () => b.next(5));
    expect(delays).toEqual([0, 100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
  });

  it('a run that lived at least resetAfter resets the sequence', () => {
    const b = new Backoff(defaults);
    b.next(1);
    b.next(1);
    expect(b.next(1)).toBe(200);
    expect(b.next(10_000)).toBe(0);
    expect(b.next(1)).toBe(100);
  });

  it('honours a non-zero initial delay and the factor', () => {
    const b = new Backoff({ initial: 1000, max: 5000, factor: 3, resetAfter: 60_000 });
    expect([b.next(0), b.next(0), b.next(0), b.next(0)]).toEqual([1000, 3000, 5000, 5000]);
  });

  it('a factor of 1 keeps a constant delay', () => {
    const b = new Backoff({ initial: 500, max: 5000, factor: 1, resetAfter: 60_000 });
    expect([b.next(0), b.next(0), b.next(0)]).toEqual([500, 500, 500]);
  });

  it('max below initial caps the first delay too', () => {
    const b = new Backoff({ initial: 2000, max: 1000, factor: 2, resetAfter: 60_000 });
    expect(b.next(0)).toBe(1000);
  });
});
