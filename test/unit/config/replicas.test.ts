/** `replicas`: validation rules and the expansion into instances (config/replicas.ts). */
import { describe, expect, it } from 'vitest';
import { withReplicas } from '../../../src/config/replicas.js';
import { dependencyWarnings } from '../../../src/config/validate/dependencies.js';
import { check, errorsOf, expectError, oneJob } from './helpers.js';

const HEALTH = 'health: { exec: "check", interval: 5, ttl: 10 }';

describe('replicas', () => {
  it('expands a job into name-1 … name-N in its place, each with PIDPILOT_REPLICA', () => {
    const cfg = check(`{ jobs: [
      { name: "db", exec: "db" },
      { name: "worker", exec: "work", replicas: 3, env: { A: "1" } },
      { name: "web", exec: "serve", dependsOn: ["worker"] },
    ] }`);
    expect(cfg.jobs.map((j) => j.name)).toEqual(['db', 'worker-1', 'worker-2', 'worker-3', 'web']);
    expect(cfg.jobs.slice(1, 4).map((j) => j.env)).toEqual([
      { A: '1', PIDPILOT_REPLICA: '1' },
      { A: '1', PIDPILOT_REPLICA: '2' },
      { A: '1', PIDPILOT_REPLICA: '3' },
    ]);
    expect(cfg.jobs[2]!.replica).toEqual({ of: 'worker', index: 2 });
    // Dependents name the job, not its instances.
    expect(cfg.jobs[4]!.dependsOn).toEqual([{ job: 'worker', condition: 'succeeded' }]);
    expect(cfg.replicated?.worker?.replicas).toBe(3);
    expect(cfg.replicated?.worker?.job.name).toBe('worker');
  });

  it('gives replica i port + i − 1, advertised and as PORT', () => {
    const cfg = check(oneJob(`name: "web", exec: "serve", port: 8080, replicas: 2, ${HEALTH}`));
    expect(cfg.jobs.map((j) => [j.name, j.port, j.env.PORT])).toEqual([
      ['web-1', 8080, '8080'],
      ['web-2', 8081, '8081'],
    ]);
  });

  it('follows a numeric PORT in env as foreman does (what init -from Procfile writes)', () => {
    const cfg = check(oneJob('name: "web", exec: "serve", env: { PORT: "5000" }, replicas: 2'));
    expect(cfg.jobs.map((j) => j.env.PORT)).toEqual(['5000', '5001']);
    const plain = check(oneJob('name: "web", exec: "serve", env: { PORT: "x" }, replicas: 2'));
    expect(plain.jobs.map((j) => j.env.PORT)).toEqual(['x', 'x']);
  });

  it('leaves a job without replicas as it was (no PIDPILOT_REPLICA, no PORT)', () => {
    const cfg = check(oneJob(`name: "web", exec: "serve", port: 8080, ${HEALTH}`));
    expect(cfg.jobs[0]!.name).toBe('web');
    expect(cfg.jobs[0]!.env).toEqual({});
    expect(cfg.jobs[0]!.replica).toBeUndefined();
    expect(cfg.replicated).toBeUndefined();
  });

  it.each([0, -1, 1.5, 101, '"x"', true])('must be an integer from 1 to 100: %s', (n) => {
    expectError(oneJob(`name: "w", exec: "x", replicas: ${n}`), {
      path: 'jobs[0].replicas',
      message: /^expected an integer from 1 to 100, got /,
    });
  });

  it('needs exec (a registration-only job has nothing to copy)', () => {
    const errors = errorsOf(
      oneJob('name: "w", port: 80, replicas: 2, health: { exec: "check", interval: 5, ttl: 10 }'),
    );
    expect(errors.find((e) => e.path === 'jobs[0].replicas')?.message).toMatch(/^`replicas` needs `exec`/);
  });

  it('keeps every port within 65535', () => {
    expectError(oneJob(`name: "web", exec: "x", port: 65535, replicas: 2, ${HEALTH}`), {
      path: 'jobs[0].replicas',
      message: /^replica 2 would use port 65536/,
    });
  });

  it('refuses a job named like an instance, naming both', () => {
    const text = `{ jobs: [
      { name: "web", exec: "x", replicas: 2 },
      { name: "web-1", exec: "y" },
    ] }`;
    expectError(text, {
      path: 'jobs[1].name',
      at: '"web-1"',
      message:
        'job "web-1" clashes with instance web-1 of "web" (jobs[0], replicas: 2): a replicated job\'s instances are named web-1 … web-100 (with `scale`)',
    });
    // Beyond the count too (scale may get there), and by CONTAINERPILOT_{NAME}_PID.
    expect(errorsOf(text.replace('"web-1"', '"web-7"'))[0]!.message).toMatch(
      /^job "web-7" clashes with instance web-7/,
    );
    expect(errorsOf(text.replace('"web-1"', '"web_2"'))[0]!.message).toMatch(
      /^job "web_2" clashes with instance web-2/,
    );
    // Not a number in range: no clash.
    expect(check(text.replace('"web-1"', '"web-101"')).jobs.map((j) => j.name)).toEqual(['web-1', 'web-2', 'web-101']);
    expect(check(text.replace('"web-1"', '"web-01"')).jobs).toHaveLength(3);
  });

  it('cannot be on a job whose name another entry also has (a ContainerPilot-only duplicate)', () => {
    const text = `{ jobs: [
      { name: "web", exec: "x" },
      { name: "web", exec: "y", replicas: 2 },
    ] }`;
    expectError(text, {
      path: 'jobs[1].replicas',
      message:
        '`replicas` cannot be used on a job whose name another job also has (jobs[0] and jobs[1] are both named "web", which only ContainerPilot compatibility allows)',
    });
    expect(
      errorsOf(text.replace('"x" }', '"x", replicas: 2 }').replace(', replicas: 2 },\n    ]', ' },\n    ]'))[0]!.path,
    ).toBe('jobs[0].replicas');
  });

  it('cannot be main', () => {
    expectError(`{ main: "web", jobs: [{ name: "web", exec: "x", replicas: 2 }] }`, {
      path: 'main',
      message: /^main cannot be "web": it has replicas/,
    });
  });

  it('is a dependency by its name; its instances are not', () => {
    const text = `{ jobs: [
      { name: "web", exec: "x", replicas: 2 },
      { name: "after", exec: "y", dependsOn: ["web-1"] },
    ] }`;
    expectError(text, {
      path: 'jobs[1].dependsOn[0]',
      message: 'no job named "web-1"; did you mean "web"?',
      suggestion: 'web',
    });
  });

  it('is warned about once when a dependency cannot be met', () => {
    const cfg = check(`{ jobs: [
      { name: "web", exec: "x", replicas: 3, restarts: "unlimited" },
      { name: "after", exec: "y", replicas: 2, dependsOn: [{ job: "web", condition: "succeeded" }] },
    ] }`);
    expect(dependencyWarnings(cfg)).toEqual([
      'job "after" waits for "web" to have succeeded, but it has restarts: "unlimited", so it never ends with a success: "after" will never start (use condition "started"?)',
    ]);
  });

  it('scales: withReplicas rebuilds the instances in place', () => {
    const cfg = check(`{ jobs: [
      { name: "a", exec: "a" },
      { name: "w", exec: "w", replicas: 2 },
      { name: "z", exec: "z" },
    ] }`);
    const up = withReplicas(cfg, 'w', 4);
    expect(up.jobs.map((j) => j.name)).toEqual(['a', 'w-1', 'w-2', 'w-3', 'w-4', 'z']);
    expect(up.jobs[1]).toEqual(cfg.jobs[1]);
    expect(up.replicated?.w?.replicas).toBe(4);
    const down = withReplicas(up, 'w', 1);
    expect(down.jobs.map((j) => j.name)).toEqual(['a', 'w-1', 'z']);
    expect(cfg.replicated?.w?.replicas).toBe(2);
  });
});
