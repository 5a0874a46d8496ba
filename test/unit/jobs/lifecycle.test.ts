/**
 * The task lifecycle of docs/configuration.md/§2.3/§5 with real processes: dependsOn gating,
 * setup before readiness, failure propagation, ordered teardown and the main job.
 * Assertions are on the bus's event order and on job snapshots, never on timing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DependencyConfig, JobConfig } from '../../../src/config/types.js';
import { at, config, HEALTH_DEFAULTS, harness, job } from '../../support/jobs.js';

const sh = (script: string): string[] => ['sh', '-c', script];
const dep = (name: string, condition: DependencyConfig['condition']): DependencyConfig => ({ job: name, condition });
/** A long-running job that stays up until stopped. */
const server = (name: string, fields: Partial<JobConfig> = {}): JobConfig =>
  job(name, { exec: sh('exec sleep 60'), restarts: 0, ...fields });
/** A health check that passes at once. */
const passing = { exec: ['true'], interval: 20, ttl: 1000, timeout: 2000, logging: { raw: false }, ...HEALTH_DEFAULTS };

describe('dependsOn', () => {
  it('healthy: the dependent starts only after the dependency is ready; succeeded: after it exited 0', async () => {
    const h = harness(
      config([
        server('db', { health: passing }),
        job('migrate', { exec: sh('echo migrating') }),
        job('app', { exec: sh('echo app-ran'), dependsOn: [dep('db', 'healthy'), dep('migrate', 'succeeded')] }),
      ]),
    );
    void h.run();
    await h.waitFor('exitSuccess', 'app');
    const t = h.trace();
    expect(at(t, 'ready:db')).toBeLessThan(at(t, 'ready:app'));
    expect(at(t, 'exitSuccess:migrate')).toBeLessThan(at(t, 'ready:app'));
    expect(at(t, 'healthy:db')).toBeLessThan(at(t, 'ready:app'));
    expect(h.supervisor.job('app')!.snapshot().dependencies).toEqual([
      { job: 'db', condition: 'healthy', met: true },
      { job: 'migrate', condition: 'succeeded', met: true },
    ]);
    expect(await h.supervisor.shutdown('test')).toBe(0);
  });

  it('started: a dependency without health check is met once its process runs', async () => {
    const h = harness(
      config([server('cache'), job('app', { exec: sh('exit 0'), dependsOn: [dep('cache', 'started')] })]),
    );
    void h.run();
    await h.waitFor('exitSuccess', 'app');
    const t = h.trace();
    expect(at(t, 'ready:cache')).toBeLessThan(at(t, 'ready:app'));
    await h.supervisor.shutdown('test');
  });

  it('combines with when: both must hold, in either order', async () => {
    const h = harness(
      config([
        job('slow', { exec: sh('sleep 0.2') }),
        job('trigger', { exec: sh('exit 0') }),
        job('app', {
          exec: sh('exit 0'),
          when: { kind: 'event', source: 'trigger', code: 'exitSuccess', mode: 'once' },
          dependsOn: [dep('slow', 'succeeded')],
        }),
      ]),
    );
    expect(await h.run()).toBe(0);
    const t = h.trace();
    expect(at(t, 'exitSuccess:trigger')).toBeLessThan(at(t, 'exitSuccess:slow'));
    expect(at(t, 'exitSuccess:slow')).toBeLessThan(at(t, 'ready:app'));
    expect(h.supervisor.job('app')!.snapshot()).toMatchObject({ state: 'completed', runs: 1 });
  });
});

describe('setup', () => {
  it('runs its commands in order after healthy; only then ready, and only then do dependents start', async () => {
    const h = harness(
      config([
        server('db', { health: passing, setup: [sh('echo setup-one'), sh('echo setup-two')] }),
        job('app', { exec: sh('echo app-ran'), dependsOn: [dep('db', 'healthy')] }),
      ]),
    );
    void h.run();
    await h.waitFor('exitSuccess', 'app');
    const out = h.sink.text;
    expect(out.indexOf('setup-one')).toBeGreaterThan(-1);
    expect(out.indexOf('setup-one')).toBeLessThan(out.indexOf('setup-two'));
    expect(out.indexOf('setup-two')).toBeLessThan(out.indexOf('app-ran'));
    const t = h.trace();
    expect(at(t, 'healthy:db')).toBeLessThan(at(t, 'ready:db'));
    expect(at(t, 'ready:db')).toBeLessThan(at(t, 'ready:app'));
    await h.supervisor.shutdown('test');
  });

  it('a failing setup command fails the job, stops its process, and fails its dependents (cascading)', async () => {
    const h = harness(
      config([
        server('db', {
          setup: [sh('exit 0'), sh('echo broken >&2; exit 4'), sh('echo never-run')],
          restarts: Infinity,
        }),
        job('app', { exec: sh('echo app-ran'), dependsOn: [dep('db', 'started')] }),
        job('web', { exec: sh('echo web-ran'), dependsOn: [dep('app', 'succeeded')] }),
      ]),
    );
    expect(await h.run()).toBe(0);
    const db = h.supervisor.job('db')!.snapshot();
    expect(db.state).toBe('failed');
    expect(db.reason).toMatch(/^setup command 2 \(sh -c echo broken >&2; exit 4\) failed: exit code 4$/);
    expect(db.runs).toBe(1); // no restart after a setup failure
    expect(db.lastRun).toMatchObject({ outcome: 'aborted' });
    expect(h.supervisor.job('app')!.snapshot()).toMatchObject({
      state: 'failed',
      reason: 'dependency "db" failed',
      runs: 0,
    });
    expect(h.supervisor.job('web')!.snapshot()).toMatchObject({
      state: 'failed',
      reason: 'dependency "app" failed',
      runs: 0,
    });
    const t = h.trace();
    expect(t).not.toContain('ready:db');
    expect(at(t, 'failed:db')).toBeLessThan(at(t, 'failed:app'));
    expect(at(t, 'failed:app')).toBeLessThan(at(t, 'failed:web'));
    expect(h.sink.text).not.toMatch(/never-run|app-ran|web-ran/);
  });

  it('a setup command that outlives setupTimeout fails the job with reason timeout', async () => {
    const h = harness(config([server('db', { setup: [sh('exec sleep 30')], setupTimeout: 100 })]));
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('db')!.snapshot().reason).toMatch(/^setup command 1 .* errored: timeout$/);
  });
});

describe('failure propagation', () => {
  it('restarts exhausted after a failure: every dependent fails and never starts', async () => {
    const h = harness(
      config([
        job('db', { exec: sh('exit 3'), restarts: 1, health: passing }),
        job('a', { exec: sh('echo a-ran'), dependsOn: [dep('db', 'healthy')] }),
        job('b', { exec: sh('echo b-ran'), dependsOn: [dep('a', 'succeeded'), dep('db', 'healthy')] }),
        job('free', { exec: sh('echo free-ran') }),
      ]),
    );
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('db')!.snapshot()).toMatchObject({ state: 'failed', runs: 2 });
    for (const name of ['a', 'b']) {
      const s = h.supervisor.job(name)!.snapshot();
      expect(s.state).toBe('failed');
      expect(s.runs).toBe(0);
      expect(s.reason).toMatch(/^dependency "(db|a)" failed$/);
      expect(h.trace()).toContain(`failed:${name}`);
    }
    expect(h.supervisor.job('free')!.snapshot().state).toBe('completed');
    expect(h.sink.text).not.toMatch(/a-ran|b-ran/);
  });

  it('when.timeout of a dependency fails its dependents', async () => {
    const h = harness(
      config([
        job('gate', {
          exec: sh('exit 0'),
          when: { kind: 'event', source: 'nobody', code: 'healthy', mode: 'once', timeout: 50 },
        }),
        job('after', { exec: sh('exit 0'), dependsOn: [dep('gate', 'succeeded')] }),
      ]),
    );
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('gate')!.snapshot()).toMatchObject({
      state: 'failed',
      reason: 'when.timeout: no healthy from nobody within 50ms',
    });
    expect(h.supervisor.job('after')!.snapshot()).toMatchObject({
      state: 'failed',
      reason: 'dependency "gate" failed',
    });
  });

  it('a dependent of a job that stopped before meeting the condition never starts, and the supervisor still ends', async () => {
    const h = harness(
      config([
        job('flaky', { exec: sh('exit 0'), health: { ...passing, exec: ['false'] } }),
        job('app', { exec: sh('echo app-ran'), dependsOn: [dep('flaky', 'healthy')] }),
      ]),
    );
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('app')!.snapshot()).toMatchObject({ state: 'failed', runs: 0 });
    expect(h.supervisor.job('app')!.snapshot().reason).toBe('dependency "flaky" completed before it was healthy');
  });
});

describe('the supervisor’s “nothing left to run” check', () => {
  it('a job pending on a dependency that can still start keeps the supervisor alive', async () => {
    const h = harness(
      config([
        job('dep', {
          exec: sh('echo dep-ran'),
          when: { kind: 'event', source: 'SIGHUP', code: 'signal', mode: 'each' },
          restarts: 0,
        }),
        job('app', { exec: sh('echo app-ran'), dependsOn: [dep('dep', 'succeeded')] }),
        job('quick', { exec: sh('exit 0') }),
      ]),
    );
    const status = h.run();
    await h.waitFor('stopped', 'quick');
    // Everything else is pending; dep can still be triggered by SIGHUP, so pidpilot waits.
    h.supervisor.signalEvent('SIGHUP');
    await h.waitFor('stopped', 'app');
    expect(h.supervisor.job('app')!.snapshot()).toMatchObject({ state: 'completed', runs: 1 });
    await h.supervisor.shutdown('test');
    expect(await status).toBe(0);
  });

  it('a job pending on a dependency that can never start does not', async () => {
    const h = harness(
      config([
        job('first', { exec: sh('exit 0') }),
        job('dep', { exec: sh('exit 0'), when: { kind: 'event', source: 'first', code: 'exitFailed', mode: 'once' } }),
        job('app', { exec: sh('echo app-ran'), dependsOn: [dep('dep', 'succeeded')] }),
      ]),
    );
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('app')!.snapshot()).toMatchObject({ state: 'stopped', runs: 0 });
    expect(h.sink.text).toMatch(/shutting down \(every job has completed\)/);
  });
});

describe('ordered teardown', () => {
  it('diamond: a job stops only after every job depending on it has stopped; independent ones concurrently', async () => {
    // web -> (api, worker) -> db
    const h = harness(
      config([
        server('db', { health: passing }),
        server('api', { dependsOn: [dep('db', 'healthy')] }),
        server('worker', { dependsOn: [dep('db', 'healthy')] }),
        server('web', { dependsOn: [dep('api', 'started'), dep('worker', 'started')] }),
      ]),
    );
    void h.run();
    await h.waitFor('ready', 'web');
    expect(await h.supervisor.shutdown('test')).toBe(0);
    const t = h.trace();
    const stop = (name: string): number => at(t, `stopping:${name}`);
    const stopped = (name: string): number => at(t, `stopped:${name}`);
    expect(stopped('web')).toBeLessThan(stop('api'));
    expect(stopped('web')).toBeLessThan(stop('worker'));
    expect(stopped('api')).toBeLessThan(stop('db'));
    expect(stopped('worker')).toBeLessThan(stop('db'));
    // api and worker do not wait for each other: both are stopping before either has stopped.
    expect(Math.max(stop('api'), stop('worker'))).toBeLessThan(Math.min(stopped('api'), stopped('worker')));
    for (const name of ['db', 'api', 'worker', 'web']) expect(h.supervisor.job(name)!.snapshot().state).toBe('stopped');
  });

  it('the main job ending tears the rest down in order and gives the exit status', async () => {
    const h = harness(
      config(
        [
          server('db', { health: passing }),
          server('api', { dependsOn: [dep('db', 'healthy')] }),
          job('test', { exec: sh('exit 5'), dependsOn: [dep('api', 'started')] }),
        ],
        { main: 'test' },
      ),
    );
    expect(await h.run()).toBe(5);
    const t = h.trace();
    expect(at(t, 'exitFailed:test')).toBeLessThan(at(t, 'shutdown:global'));
    expect(at(t, 'stopped:api')).toBeLessThan(at(t, 'stopping:db'));
  });

  it("a main job that crashed once and was restarted gives its last run's status on a SIGTERM shutdown, not the crash's", async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'pidpilot-main-')), 'ran-once');
    const h = harness(
      config(
        [job('app', { exec: sh(`if [ -e ${marker} ]; then exec sleep 60; fi; touch ${marker}; exit 3`), restarts: 1 })],
        { main: 'app' },
      ),
    );
    const exit = h.run();
    await h.waitFor('exitFailed', 'app');
    const app = h.supervisor.job('app')!;
    while (!(app.snapshot().runs === 2 && app.snapshot().pid !== null)) await new Promise((r) => setTimeout(r, 20));
    void h.supervisor.shutdown('SIGTERM', { kind: 'signal', signal: 'SIGTERM' });
    expect(await exit).toBe(143);
  });

  it('a main job whose dependency failed exits non-zero', async () => {
    const h = harness(
      config(
        [job('db', { exec: sh('exit 1') }), job('test', { exec: sh('exit 0'), dependsOn: [dep('db', 'succeeded')] })],
        { main: 'test' },
      ),
    );
    expect(await h.run()).toBe(1);
    expect(h.supervisor.job('test')!.snapshot()).toMatchObject({ state: 'failed', reason: 'dependency "db" failed' });
  });
});

describe('user', () => {
  it.skipIf(process.getuid?.() !== 0)('an unknown user makes the run errored and the job failed', async () => {
    const h = harness(config([job('a', { exec: sh('exit 0'), user: { name: 'no-such-user-xyz' } })]));
    expect(await h.run()).toBe(0);
    const a = h.supervisor.job('a')!.snapshot();
    expect(a.state).toBe('failed');
    expect(a.lastRun).toMatchObject({
      outcome: 'errored',
      reason: 'EINVAL: unknown user "no-such-user-xyz" (not in /etc/passwd or /etc/group)',
    });
  });

  it.skipIf(process.getuid?.() !== 0)('a job, its setup and its health check run as the user', async () => {
    const h = harness(
      config([
        job('a', {
          exec: sh('echo "exec-uid=$(id -u)"; exec sleep 60'),
          user: { name: 'nobody' },
          health: { ...passing, exec: sh('test "$(id -u)" = 65534') },
          setup: [sh('echo "setup-uid=$(id -u)"')],
        }),
      ]),
    );
    void h.run();
    await h.waitFor('ready', 'a');
    expect(h.sink.text).toMatch(/exec-uid=65534/);
    expect(h.sink.text).toMatch(/setup-uid=65534/);
    await h.supervisor.shutdown('test');
  });
});

describe('workdir and env', () => {
  it('a job runs in its workdir with its env on top of pidpilot’s', async () => {
    const h = harness(
      config([
        job('a', {
          exec: sh('echo "cwd=$(pwd) foo=$FOO pid=${CONTAINERPILOT_PID:+set}"'),
          workdir: '/tmp',
          env: { FOO: 'bar' },
        }),
      ]),
    );
    expect(await h.run()).toBe(0);
    expect(h.sink.text).toMatch(/cwd=\/tmp foo=bar pid=set/);
  });

  it('a missing workdir is an errored run', async () => {
    const h = harness(config([job('a', { exec: sh('exit 0'), workdir: '/does/not/exist' })]));
    expect(await h.run()).toBe(0);
    expect(h.supervisor.job('a')!.snapshot().lastRun).toMatchObject({ outcome: 'errored' });
  });
});

describe('the main job that can never start', () => {
  it('exits 1 when the main job waits for something that can no longer happen', async () => {
    const h = harness(
      config(
        [
          job('first', { exec: sh('exit 0') }),
          job('app', {
            exec: sh('exit 0'),
            when: { kind: 'event', source: 'first', code: 'exitFailed', mode: 'once' },
          }),
        ],
        { main: 'app' },
      ),
    );
    expect(await h.run()).toBe(1);
    expect(h.sink.text).toMatch(/main job app can no longer start/);
  });
});
