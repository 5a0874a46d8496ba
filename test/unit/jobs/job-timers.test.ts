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
    expect(fired[0]!.input).toMatchObject({ kind: 'timer', timer: 'cron' });
    expect(fired[0]!.at).toBeGreaterThanOrEqual(at);
  });

  it('a firing not yet handled turns stale when its timer is armed again or cleared, and only then', async () => {
    const fired: JobInput[] = [];
    let got: () => void = () => {};
    const timers = new JobTimers((input) => {
      fired.push(input);
      got();
    });
    const next = () => new Promise<void>((resolve) => (got = resolve));
    const stale = (i: number) => (fired[i] as Extract<JobInput, { kind: 'timer' }>).stale?.();

    let pushed = next();
    timers.set('ready', 5);
    await pushed;
    expect(stale(0)).toBe(false);
    timers.set('health', 1_000); // another timer: no effect on this one
    expect(stale(0)).toBe(false);
    timers.set('ready', 60_000); // the next run arms its own
    expect(stale(0)).toBe(true);

    pushed = next();
    timers.set('watchdog', 5);
    await pushed;
    timers.clear('watchdog');
    expect(stale(1)).toBe(true);

    pushed = next();
    timers.setAt('cron', Date.now() + 5);
    await pushed;
    expect(stale(2)).toBe(false);
    timers.clear('cron');
    expect(stale(2)).toBe(true);
    timers.clear('ready');
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
