/**
 * Durations above what one Node timer holds (2^31-1 ms, ~24.8 days): setTimeout fires those
 * after 1 ms. Each case runs next to a "clock" job that ticks a few times on a short interval;
 * when the clock is done, the long-duration job must not have acted more than once. With
 * plain setTimeout each of these acts hundreds of times (or at once) in the same span,
 * however loaded the machine is, so the counts are decisive without timing assertions.
 */
import { describe, expect, it } from 'vitest';
import { config, HEALTH_DEFAULTS, harness, job } from '../../support/jobs.js';

const sh = (script: string): string[] => ['sh', '-c', script];
const MONTH = 720 * 3_600_000; // "720h"

/** A job that runs 6 times, 50 ms apart, then completes. */
const clock = () =>
  job('clock', { exec: sh('exit 0'), when: { kind: 'interval', interval: 50, overlap: 'queue' }, restarts: 5 });

function count(trace: string[], entry: string): number {
  return trace.filter((e) => e === entry).length;
}

describe('durations longer than a Node timer', () => {
  it('when.interval "720h" (with timeout "720h") runs once, not in a loop', async () => {
    const h = harness(
      config([
        clock(),
        job('monthly', {
          exec: sh('exit 0'),
          when: { kind: 'interval', interval: MONTH, overlap: 'queue' },
          timeout: MONTH,
          restarts: Infinity,
        }),
      ]),
    );
    void h.run();
    await h.waitFor('stopped', 'clock');
    expect(count(h.trace(), 'exitSuccess:monthly')).toBe(1);
    expect(h.supervisor.job('monthly')!.snapshot().runs).toBe(1);
    expect(await h.supervisor.shutdown('test')).toBe(0);
  });

  it('when.timeout "720h" does not expire at once', async () => {
    const h = harness(
      config([
        clock(),
        job('waiting', {
          exec: sh('exit 0'),
          when: { kind: 'event', source: 'nobody', code: 'healthy', mode: 'once', timeout: MONTH },
        }),
      ]),
    );
    void h.run();
    await h.waitFor('stopped', 'clock');
    expect(h.trace()).not.toContain('timerExpired:waiting');
    expect(h.supervisor.job('waiting')!.snapshot().state).toBe('pending');
    expect(await h.supervisor.shutdown('test')).toBe(0);
  });

  it('health.interval "720h" does not check in a loop (the first check comes after one interval)', async () => {
    const h = harness(
      config([
        clock(),
        job('svc', {
          exec: sh('sleep 30'),
          health: {
            exec: sh('exit 0'),
            interval: MONTH,
            ttl: MONTH,
            timeout: MONTH,
            logging: { raw: false },
            ...HEALTH_DEFAULTS,
          },
        }),
      ]),
    );
    void h.run();
    await h.waitFor('stopped', 'clock');
    expect(count(h.trace(), 'exitSuccess:check.svc')).toBe(0);
    expect(await h.supervisor.shutdown('test')).toBe(0);
  });

  it('stopTimeout "720h" lets a job that traps its stop signal finish, no SIGKILL', async () => {
    const h = harness(
      config(
        [
          job('trapper', {
            exec: sh(`trap 'sleep 0.3; exit 0' TERM; echo trap-set; while :; do sleep 0.05; done`),
            stopTimeout: MONTH,
          }),
        ],
        { stopTimeout: MONTH },
      ),
    );
    void h.run();
    await h.waitForOutput(/trap-set/); // a stop signal before the trap would kill sh outright
    expect(await h.supervisor.shutdown('SIGTERM')).toBe(0);
    expect(h.supervisor.job('trapper')!.snapshot().lastRun).toMatchObject({
      outcome: 'aborted',
      code: 0,
      signal: null,
    });
    expect(h.sink.text).not.toMatch(/longer than stopTimeout/);
  });
});
