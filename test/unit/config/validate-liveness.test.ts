/** The liveness, readiness and teardown fields of issue 17: thresholds, onUnhealthy, restartLimit, notify, watchdog, cleanup. */
import { describe, expect, it } from 'vitest';
import { errorsOf, expectError, job, oneJob } from './helpers.js';

const CHECK = 'health: { exec: "true", interval: 1, ttl: 5';

describe('health thresholds, start period and onUnhealthy', () => {
  it('default to ContainerPilot’s behaviour: 1, 1, no start period, no action', () => {
    expect(job(`name: "a", exec: "x", ${CHECK} }`).health).toMatchObject({
      failureThreshold: 1,
      successThreshold: 1,
      startPeriod: 0,
      onUnhealthy: 'none',
    });
  });

  it('reads them', () => {
    const h = job(
      `name: "a", exec: "x", ${CHECK}, failureThreshold: 3, successThreshold: "2", startPeriod: "30s", onUnhealthy: "restart" }`,
    ).health;
    expect(h).toMatchObject({ failureThreshold: 3, successThreshold: 2, startPeriod: 30_000, onUnhealthy: 'restart' });
    expect(job(`name: "a", ${CHECK}, onUnhealthy: "stop" }`).health?.onUnhealthy).toBe('stop');
  });

  it('refuses thresholds below 1 and unknown actions, with the nearest name', () => {
    expectError(oneJob(`name: "a", exec: "x", ${CHECK}, failureThreshold: 0 }`), {
      path: 'jobs[0].health.failureThreshold',
      at: '0 }',
      message: 'expected a whole number from 1 to 1000, got 0',
    });
    const [e] = errorsOf(oneJob(`name: "a", exec: "x", ${CHECK}, onUnhealthy: "restrat" }`));
    expect(e!.path).toBe('jobs[0].health.onUnhealthy');
    expect(e!.message).toMatch(/did you mean "restart"/);
    expect(errorsOf(oneJob(`name: "a", exec: "x", ${CHECK}, startPeriod: "soon" }`))[0]!.path).toBe(
      'jobs[0].health.startPeriod',
    );
  });

  it('a restart needs a process to restart', () => {
    expectError(oneJob(`name: "a", ${CHECK}, onUnhealthy: "restart" }`), {
      path: 'jobs[0].health.onUnhealthy',
      message: '`onUnhealthy: "restart"` needs `exec`: there is no process to restart',
    });
  });
});

describe('restartLimit', () => {
  it('reads {burst, interval}; absent by default', () => {
    expect(job('name: "a", exec: "x", restartLimit: { burst: 5, interval: "1m" }').restartLimit).toEqual({
      burst: 5,
      interval: 60_000,
    });
    expect(job('name: "a", exec: "x"').restartLimit).toBeUndefined();
  });

  it('needs both, and sensible values', () => {
    expectError(oneJob('name: "a", exec: "x", restartLimit: { burst: 5 }'), {
      path: 'jobs[0].restartLimit.interval',
      message: /missing required field `interval`/,
    });
    expectError(oneJob('name: "a", exec: "x", restartLimit: { burst: 0, interval: 10 }'), {
      path: 'jobs[0].restartLimit.burst',
      message: 'expected a whole number ≥ 1, got 0',
    });
    expectError(oneJob('name: "a", exec: "x", restartLimit: 5'), {
      path: 'jobs[0].restartLimit',
      message: 'expected an object like { burst: 5, interval: "1m" }, got 5',
    });
  });
});

describe('notify and watchdog', () => {
  it('reads them; off by default', () => {
    const j = job('name: "a", exec: "x", notify: true, watchdog: "10s"');
    expect(j.notify).toBe(true);
    expect(j.watchdog).toBe(10_000);
    expect(job('name: "a", exec: "x"')).toMatchObject({ notify: false });
    expect(job('name: "a", exec: "x"').watchdog).toBeUndefined();
  });

  it('a watchdog is fed through sd_notify: it needs notify', () => {
    expectError(oneJob('name: "a", exec: "x", watchdog: "10s"'), {
      path: 'jobs[0].watchdog',
      message: '`watchdog` needs `notify: true`: the job feeds the watchdog by sending WATCHDOG=1 to $NOTIFY_SOCKET',
    });
  });

  it('notifyTimeout bounds the wait for READY=1: read as a duration, none by default, needs notify', () => {
    expect(job('name: "a", exec: "x", notify: true, notifyTimeout: "30s"').notifyTimeout).toBe(30_000);
    expect(job('name: "a", exec: "x", notify: true').notifyTimeout).toBeUndefined();
    expectError(oneJob('name: "a", exec: "x", notifyTimeout: "30s"'), {
      path: 'jobs[0].notifyTimeout',
      message: '`notifyTimeout` needs `notify: true`: it bounds the wait for READY=1',
    });
  });

  it('notify needs a process', () => {
    expectError(oneJob('name: "a", notify: true'), { path: 'jobs[0].notify', message: /`notify` needs `exec`/ });
  });
});

describe('cleanup and cleanupTimeout', () => {
  it('reads a list of commands; cleanupTimeout defaults to 10s', () => {
    const j = job(
      'name: "a", exec: "x", cleanup: ["rm -f /tmp/a.pid", ["sh", "-c", "echo bye"]], cleanupTimeout: "3s"',
    );
    expect(j.cleanup).toEqual([
      ['rm', '-f', '/tmp/a.pid'],
      ['sh', '-c', 'echo bye'],
    ]);
    expect(j.cleanupTimeout).toBe(3000);
    expect(job('name: "a"')).toMatchObject({ cleanup: [], cleanupTimeout: 10_000 });
  });

  it('refuses a bad command', () => {
    expectError(oneJob('name: "a", cleanup: ["ok", ""]'), {
      path: 'jobs[0].cleanup[1]',
      message: /expected a command string or a non-empty array/,
    });
  });
});
