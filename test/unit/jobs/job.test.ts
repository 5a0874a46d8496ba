/**
 * The job state machine, driven end to end through a real Supervisor, a real bus and
 * real child processes. Assertions are on the event order, states and run records,
 * never on how long anything took.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { at, config, HEALTH_DEFAULTS, harness, job } from '../../support/jobs.js';

const sh = (script: string): string[] => ['sh', '-c', script];

describe('job lifecycle', () => {
  it('a startup job runs once, completes, and the supervisor exits 0 by itself', async () => {
    const h = harness(config([job('a', { exec: sh('echo hello from a') })]));
    expect(await h.run()).toBe(0);
    const t = h.trace();
    expect(t[0]).toBe('startup:global');
    expect(at(t, 'exitSuccess:a')).toBeLessThan(at(t, 'stopping:a'));
    expect(at(t, 'stopping:a')).toBeLessThan(at(t, 'stopped:a'));
    const a = h.supervisor.job('a')!.snapshot();
    expect(a.state).toBe('completed');
    expect(a.lastRun).toMatchObject({ run: 1, code: 0, signal: null, outcome: 'succeeded' });
    expect(h.sink.text).toMatch(/ a .*hello from a/);
  });

  it('chains jobs with when once exitSuccess, in order', async () => {
    const h = harness(
      config([
        job('first', { exec: sh('exit 0') }),
        job('second', {
          exec: sh('exit 0'),
          when: { kind: 'event', source: 'first', code: 'exitSuccess', mode: 'once' },
        }),
        job('third', {
          exec: sh('exit 0'),
          when: { kind: 'event', source: 'second', code: 'exitSuccess', mode: 'once' },
        }),
      ]),
    );
    expect(await h.run()).toBe(0);
    const t = h.trace();
    expect(at(t, 'exitSuccess:first')).toBeLessThan(at(t, 'exitSuccess:second'));
    expect(at(t, 'exitSuccess:second')).toBeLessThan(at(t, 'exitSuccess:third'));
    for (const name of ['first', 'second', 'third']) expect(h.supervisor.job(name)!.snapshot().state).toBe('completed');
  });

  it('restarts a failing job N times with backoff, then fails terminally', async () => {
    const h = harness(config([job('crash', { exec: sh('exit 3'), restarts: 2 })]));
    expect(await h.run()).toBe(0);
    const snap = h.supervisor.job('crash')!.snapshot();
    expect(snap.runs).toBe(3);
    expect(snap.restarts).toBe(2);
    expect(snap.state).toBe('failed');
    expect(snap.reason).toMatch(/exit code 3/);
    expect(h.trace().filter((e) => e === 'exitFailed:crash')).toHaveLength(3);
    expect(h.trace()).toContain('failed:crash');
    expect(h.sink.text).toMatch(/restarting in 100ms/);
  });

  it('an interval job runs restarts+1 times, never twice at once', async () => {
    const h = harness(
      config([
        job('tick', { exec: sh('echo tick'), when: { kind: 'interval', interval: 20, overlap: 'queue' }, restarts: 2 }),
      ]),
    );
    expect(await h.run()).toBe(0);
    const snap = h.supervisor.job('tick')!.snapshot();
    expect(snap.runs).toBe(3);
    expect(snap.state).toBe('completed');
  });

  it('an interval tick that comes while the run is still going does not start it twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-interval-'));
    const script = `if [ -e ${dir}/lock ]; then echo overlap >> ${dir}/log; fi; touch ${dir}/lock; sleep 0.3; rm ${dir}/lock; echo run >> ${dir}/log`;
    const h = harness(
      config([
        job('slow', {
          exec: sh(script),
          when: { kind: 'interval', interval: 50, overlap: 'queue' },
          restarts: 2,
          timeout: 5000,
        }),
      ]),
    );
    expect(await h.run()).toBe(0);
    const log = readFileSync(join(dir, 'log'), 'utf8');
    expect(log).not.toMatch(/overlap/);
    expect(log.trim().split('\n')).toEqual(['run', 'run', 'run']);
  });

  it('when.timeout: the trigger never came, so timerExpired, failed, never run', async () => {
    const h = harness(
      config([
        job('never', {
          exec: sh('exit 0'),
          when: { kind: 'event', source: 'nobody', code: 'healthy', mode: 'once', timeout: 50 },
        }),
      ]),
    );
    expect(await h.run()).toBe(0);
    const snap = h.supervisor.job('never')!.snapshot();
    expect(snap).toMatchObject({
      state: 'failed',
      reason: 'when.timeout: no healthy from nobody within 50ms',
      runs: 0,
    });
    expect(h.trace()).toContain('timerExpired:never');
  });

  it('a child exit status 124 is a plain failure, a timeout is errored with reason timeout', async () => {
    const h = harness(
      config([job('exits124', { exec: sh('exit 124') }), job('slow', { exec: sh('sleep 30'), timeout: 100 })]),
    );
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('exits124')!.snapshot().lastRun).toMatchObject({ outcome: 'failed', code: 124 });
    const slow = h.supervisor.job('slow')!.snapshot().lastRun!;
    expect(slow.outcome).toBe('errored');
    expect(slow.reason).toBe('timeout');
  });

  it('a missing executable is an errored run with a clear reason, not a crash', async () => {
    const h = harness(config([job('ghost', { exec: ['/nonexistent/program', 'x'] })]));
    expect(await h.run()).toBe(0);
    const snap = h.supervisor.job('ghost')!.snapshot();
    expect(snap.state).toBe('failed');
    expect(snap.lastRun).toMatchObject({ outcome: 'errored', pid: null });
    expect(snap.lastRun!.reason).toMatch(/ENOENT/);
    expect(h.trace()).toContain('exitFailed:ghost');
    expect(h.sink.text).toMatch(/could not run/);
  });

  it('health checks publish check.<job> exits and healthy, which triggers dependents', async () => {
    const h = harness(
      config([
        job('db', {
          exec: sh('sleep 30'),
          health: {
            exec: sh('exit 0'),
            interval: 20,
            ttl: 1000,
            timeout: 1000,
            logging: { raw: false },
            ...HEALTH_DEFAULTS,
          },
        }),
        job('app', {
          exec: sh('echo app started'),
          when: { kind: 'event', source: 'db', code: 'healthy', mode: 'once' },
        }),
      ]),
    );
    void h.run();
    await h.waitFor('exitSuccess', 'app');
    const t = h.trace();
    expect(at(t, 'exitSuccess:check.db')).toBeLessThan(at(t, 'healthy:db'));
    expect(at(t, 'healthy:db')).toBeLessThan(at(t, 'exitSuccess:app'));
    expect(h.supervisor.job('db')!.snapshot()).toMatchObject({ state: 'running', health: 'healthy', ready: true });
    expect(await h.supervisor.shutdown('test')).toBe(0);
    expect(h.supervisor.job('db')!.snapshot().state).toBe('stopped');
  });

  it('a failing health check makes the job unhealthy', async () => {
    const h = harness(
      config([
        job('svc', {
          exec: sh('sleep 30'),
          health: {
            exec: sh('exit 1'),
            interval: 20,
            ttl: 1000,
            timeout: 1000,
            logging: { raw: false },
            ...HEALTH_DEFAULTS,
          },
        }),
      ]),
    );
    void h.run();
    await h.waitFor('unhealthy', 'svc');
    expect(h.supervisor.job('svc')!.snapshot()).toMatchObject({ state: 'running', health: 'unhealthy', ready: false });
    await h.supervisor.shutdown('test');
  });

  it("turning unhealthy is a WARN with the check's exit and last output line, once per change", async () => {
    const h = harness(
      config([
        job('svc', {
          exec: sh('sleep 30'),
          health: {
            exec: sh('echo checking; echo "connection refused" >&2; exit 7'),
            interval: 20,
            ttl: 1000,
            timeout: 1000,
            logging: { raw: false },
            ...HEALTH_DEFAULTS,
          },
        }),
      ]),
    );
    void h.run();
    await h.waitFor('unhealthy', 'svc');
    await h.waitFor('exitFailed', 'check.svc');
    await h.waitForOutput(
      /WARN.*unhealthy: health check failed: exit code 7: connection refused|unhealthy: health check failed: exit code 7: connection refused/,
    );
    await h.supervisor.shutdown('test');
    expect(h.sink.text.match(/unhealthy: health check failed/g)).toHaveLength(1);
    expect(h.supervisor.job('svc')!.snapshot().reason).toBe('shutdown');
  });

  it('SIGHUP/SIGUSR2 become events that trigger jobs each time', async () => {
    const h = harness(
      config([
        job('daemon', { exec: sh('sleep 30') }),
        job('on-hup', { exec: sh('exit 0'), when: { kind: 'event', source: 'SIGHUP', code: 'signal', mode: 'each' } }),
      ]),
    );
    void h.run();
    h.supervisor.signalEvent('SIGHUP');
    await h.waitFor('exitSuccess', 'on-hup');
    h.supervisor.signalEvent('SIGHUP');
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (h.trace().filter((e) => e === 'exitSuccess:on-hup').length === 2) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
    expect(h.supervisor.job('on-hup')!.snapshot().state).toBe('pending');
    await h.supervisor.shutdown('test');
  });

  it('each-triggers that arrive during a run are coalesced into one more run', async () => {
    const h = harness(
      config([
        job('daemon', { exec: sh('sleep 30') }),
        job('worker', {
          exec: sh('sleep 0.2'),
          when: { kind: 'event', source: 'SIGUSR2', code: 'signal', mode: 'each' },
        }),
      ]),
    );
    void h.run();
    h.supervisor.signalEvent('SIGUSR2');
    h.supervisor.signalEvent('SIGUSR2');
    h.supervisor.signalEvent('SIGUSR2');
    await h.waitFor('exitSuccess', 'worker');
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (h.trace().filter((e) => e === 'exitSuccess:worker').length === 2 && !h.supervisor.job('worker')!.busy)
          resolve();
        else setTimeout(check, 10);
      };
      check();
    });
    expect(h.supervisor.job('worker')!.snapshot().runs).toBe(2);
    await h.supervisor.shutdown('test');
  });
});

describe('shutdown', () => {
  it('runs pre-stop hooks between stopping and the stop signal, and post-stop hooks after stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-hooks-'));
    const h = harness(
      config([
        // The service records whether the pre-stop hook had run when it got SIGTERM.
        job('svc', {
          exec: sh(
            `trap 'test -e ${dir}/prestop && echo yes > ${dir}/seen; exit 0' TERM; echo trap-set; while :; do sleep 0.05; done`,
          ),
        }),
        job('prestop', {
          exec: sh(`touch ${dir}/prestop`),
          when: { kind: 'event', source: 'svc', code: 'stopping', mode: 'once' },
        }),
        job('poststop', {
          exec: sh(`touch ${dir}/poststop`),
          when: { kind: 'event', source: 'svc', code: 'stopped', mode: 'once' },
        }),
      ]),
    );
    void h.run();
    await h.waitForOutput(/trap-set/); // a stop signal before the trap would kill sh outright
    expect(await h.supervisor.shutdown('SIGTERM')).toBe(0);
    const t = h.trace();
    expect(at(t, 'shutdown:global')).toBeLessThan(at(t, 'stopping:svc'));
    expect(at(t, 'stopping:svc')).toBeLessThan(at(t, 'exitSuccess:prestop'));
    expect(at(t, 'exitSuccess:prestop')).toBeLessThan(at(t, 'stopped:svc'));
    expect(at(t, 'stopped:svc')).toBeLessThan(at(t, 'exitSuccess:poststop'));
    expect(readFileSync(join(dir, 'seen'), 'utf8').trim()).toBe('yes');
    expect(existsSync(join(dir, 'poststop'))).toBe(true);
    expect(h.supervisor.job('svc')!.snapshot().lastRun).toMatchObject({
      outcome: 'aborted',
      reason: 'shutdown',
      code: 0,
    });
  });

  it('a child that ignores its stop signal is killed after its stopTimeout', async () => {
    const h = harness(
      config([
        job('stubborn', { exec: sh(`trap '' TERM; echo trap-set; while :; do sleep 0.05; done`), stopTimeout: 200 }),
      ]),
    );
    void h.run();
    await h.waitForOutput(/trap-set/); // a stop signal before the trap would kill sh outright
    expect(await h.supervisor.shutdown('SIGTERM')).toBe(0);
    expect(h.supervisor.job('stubborn')!.snapshot().lastRun).toMatchObject({ outcome: 'aborted', signal: 'SIGKILL' });
  });

  it('the global stop bound kills what is left', async () => {
    const h = harness(
      config(
        [
          job('stubborn', {
            exec: sh(`trap '' TERM; echo trap-set; while :; do sleep 0.05; done`),
            stopTimeout: 60_000,
          }),
        ],
        { stopTimeout: 200 },
      ),
    );
    void h.run();
    await h.waitForOutput(/trap-set/); // a stop signal before the trap would kill sh outright
    expect(await h.supervisor.shutdown('SIGTERM')).toBe(0);
    expect(h.supervisor.job('stubborn')!.snapshot().lastRun?.signal).toBe('SIGKILL');
    expect(h.sink.text).toMatch(/longer than stopTimeout/);
  });

  it('a second shutdown request escalates to SIGKILL at once', async () => {
    const h = harness(
      config(
        [
          job('stubborn', {
            exec: sh(`trap '' TERM; echo trap-set; while :; do sleep 0.05; done`),
            stopTimeout: 60_000,
          }),
        ],
        { stopTimeout: 60_000 },
      ),
    );
    void h.run();
    await h.waitForOutput(/trap-set/); // a stop signal before the trap would kill sh outright
    const first = h.supervisor.shutdown('SIGTERM');
    await h.waitFor('stopping', 'stubborn');
    void h.supervisor.shutdown('SIGTERM');
    expect(await first).toBe(0);
    expect(h.supervisor.job('stubborn')!.snapshot().lastRun?.signal).toBe('SIGKILL');
  });

  it('the main job decides the exit status', async () => {
    const h = harness(
      config([job('daemon', { exec: sh('sleep 30') }), job('task', { exec: sh('exit 7') })], { main: 'task' }),
    );
    expect(await h.run()).toBe(7);
    expect(h.supervisor.job('daemon')!.snapshot().state).toBe('stopped');
  });

  it('a main job killed by a signal exits 128+signal', async () => {
    const h = harness(config([job('task', { exec: sh('kill -TERM $$') })], { main: 'task' }));
    expect(await h.run()).toBe(128 + 15);
  });

  it('a pending job whose trigger source has ended does not keep the supervisor alive', async () => {
    const h = harness(
      config([
        job('a', { exec: sh('exit 0') }),
        job('on-fail', { exec: sh('exit 0'), when: { kind: 'event', source: 'a', code: 'exitFailed', mode: 'once' } }),
      ]),
    );
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('on-fail')!.snapshot()).toMatchObject({ state: 'stopped', runs: 0 });
  });
});

describe('main job and shutdown', () => {
  it('a main job stopped by a SIGTERM shutdown gives its own status: 128+SIGTERM when it dies of it (as tini)', async () => {
    const h = harness(config([job('server', { exec: sh('sleep 30') })], { main: 'server' }));
    void h.run();
    await h.waitFor('ready', 'server');
    expect(await h.supervisor.shutdown('SIGTERM', { kind: 'signal', signal: 'SIGTERM' })).toBe(143);
    expect(h.supervisor.job('server')!.snapshot().lastRun).toMatchObject({ outcome: 'aborted', signal: 'SIGTERM' });
  });
});
