/** A job's timers (src/jobs/job-timers.ts): a tick armed for a wall-clock time never comes before it. */
import { describe, expect, it } from 'vitest';
import type { JobInput } from '../../../src/jobs/effects.js';
import { JobTimers } from '../../../src/jobs/job-timers.js';

describe('JobTimers.setAt', () => {
  it('fires at its wall-clock time, and waits on when the clock was set back meanwhile', async () => {
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const fired: Array<{ input: JobInput; at: number }> = [];
    let done!: () => void;
    const pushed = new Promise<void>((resolve) => (done = resolve));
    const timers = new JobTimers((input) => {
      fired.push({ input, at: now() });
      done();
    });
    const at = now() + 40;
    timers.setAt('cron', at, now);
    // The wall clock goes back 150 ms right after arming: the monotonic wait ends ~150 ms "early".
    offset = -150;
    await pushed;
    expect(fired).toHaveLength(1);
    expect(fired[0]!.input).toEqual({ kind: 'timer', timer: 'cron' });
    expect(fired[0]!.at).toBeGreaterThanOrEqual(at);
  });

  it('clear() cancels a tick armed for a wall-clock time, re-armed or not', async () => {
    const fired: JobInput[] = [];
    const timers = new JobTimers((input) => fired.push(input));
    timers.setAt('cron', Date.now() + 20);
    timers.clear('cron');
    // Another timer armed later than the cleared one has fired: the cleared one had its chance.
    await new Promise<void>((resolve) => {
      const t = new JobTimers(() => resolve());
      t.setAt('cron', Date.now() + 60);
    });
    expect(fired).toEqual([]);
  });
});
