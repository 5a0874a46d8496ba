/** pidpilot's lifecycle fields of docs/configuration.md: dependsOn, setup, setupTimeout, workdir, env, user. */
import { describe, expect, it } from 'vitest';
import { dependencyWarnings } from '../../../src/config/validate/dependencies.js';
import { check, errorOf, expectError, job, oneJob } from './helpers.js';

const jobs = (...bodies: string[]): string => `{ jobs: [\n${bodies.map((b) => `  { ${b} },`).join('\n')}\n] }`;

describe('dependsOn', () => {
  it('fills in the default condition from the dependency (docs/configuration.md)', () => {
    const cfg = check(
      jobs(
        'name: "db", exec: "db", health: { exec: "ping", interval: 1, ttl: 5 }',
        'name: "migrate", exec: "m"',
        'name: "cache", exec: "c", restarts: "unlimited"',
        'name: "tick", exec: "t", when: { interval: "1s" }',
        'name: "app", exec: "a", dependsOn: ["db", "migrate", "cache", { job: "tick" }]',
      ),
    );
    expect(cfg.jobs[4]!.dependsOn).toEqual([
      { job: 'db', condition: 'healthy' },
      { job: 'migrate', condition: 'succeeded' },
      { job: 'cache', condition: 'started' },
      { job: 'tick', condition: 'started' },
    ]);
    expect(cfg.jobs[0]!.dependsOn).toEqual([]);
  });

  it('a job with setup is a service too: started (and set up), not succeeded, by default', () => {
    const cfg = check(
      jobs('name: "app", exec: "server", setup: ["seed"]', 'name: "target", exec: "t", dependsOn: ["app"]'),
    );
    expect(cfg.jobs[1]!.dependsOn).toEqual([{ job: 'app', condition: 'started' }]);
    expect(dependencyWarnings(cfg)).toEqual([]);
  });

  it('warns of a condition that can never be met as configured', () => {
    const cfg = check(
      jobs(
        'name: "cache", exec: "c", restarts: "unlimited"',
        'name: "noop"',
        'name: "app", exec: "a", dependsOn: [{ job: "cache", condition: "succeeded" }, { job: "noop", condition: "succeeded" }]',
      ),
    );
    expect(dependencyWarnings(cfg)).toEqual([
      'job "app" waits for "cache" to have succeeded, but it has restarts: "unlimited", so it never ends with a success: "app" will never start (use condition "started"?)',
      'job "app" waits for "noop" to have succeeded, but it has no exec, so it never exits: "app" will never start (use condition "started"?)',
    ]);
  });

  it('takes an explicit condition and a single name', () => {
    const cfg = check(
      jobs(
        'name: "db", exec: "db"',
        'name: "app", exec: "a", dependsOn: [{ job: "db", condition: "started" }]',
        'name: "b", dependsOn: "db"',
      ),
    );
    expect(cfg.jobs[1]!.dependsOn).toEqual([{ job: 'db', condition: 'started' }]);
    expect(cfg.jobs[2]!.dependsOn).toEqual([{ job: 'db', condition: 'succeeded' }]);
  });

  it('refuses an unknown condition, with a suggestion', () => {
    const text = jobs('name: "db", exec: "db"', 'name: "app", dependsOn: [{ job: "db", condition: "healty" }]');
    expectError(text, {
      path: 'jobs[1].dependsOn[0].condition',
      at: '"healty"',
      message: 'expected one of "healthy", "succeeded", "started", got "healty"; did you mean "healthy"?',
      suggestion: 'healthy',
    });
  });

  it('names an existing job, not itself, once', () => {
    expectError(jobs('name: "db", exec: "db"', 'name: "app", dependsOn: ["dv"]'), {
      path: 'jobs[1].dependsOn[0]',
      at: '"dv"',
      message: 'no job named "dv"; did you mean "db"?',
      suggestion: 'db',
    });
    expectError(jobs('name: "app", dependsOn: ["app"]'), {
      path: 'jobs[0].dependsOn[0]',
      at: '"app"]',
      message: 'job "app" cannot depend on itself',
    });
    expectError(jobs('name: "db"', 'name: "app", dependsOn: ["db", "db"]'), {
      path: 'jobs[1].dependsOn[1]',
      at: '"db"]',
      message: '"db" is listed twice',
    });
  });

  it('refuses a cycle and names it', () => {
    const text = jobs(
      'name: "a", dependsOn: ["c"]',
      'name: "b", dependsOn: ["a"]',
      'name: "c", dependsOn: ["b"]',
      'name: "d", dependsOn: ["a"]',
    );
    const e = errorOf(text);
    expect(e.path).toBe('jobs[0].dependsOn');
    expect(e.message).toBe('dependsOn forms a cycle: a -> c -> b -> a');
  });

  it('refuses a bad shape', () => {
    expectError(oneJob('name: "a", dependsOn: 5'), {
      path: 'jobs[0].dependsOn',
      at: '5',
      message: 'expected a list of job names or {job, condition}, got 5',
    });
    expectError(oneJob('name: "a", dependsOn: [{ condition: "started" }]'), {
      path: 'jobs[0].dependsOn[0].job',
      at: '{ condition',
      message: 'missing required field `job`',
    });
  });
});

describe('setup and setupTimeout', () => {
  it('reads a list of commands; setupTimeout defaults to 60s', () => {
    const j = job('name: "a", exec: "x", setup: ["echo one", ["sh", "-c", "echo two"]]');
    expect(j.setup).toEqual([
      ['echo', 'one'],
      ['sh', '-c', 'echo two'],
    ]);
    expect(j.setupTimeout).toBe(60_000);
    expect(job('name: "a", setupTimeout: "2s"').setupTimeout).toBe(2000);
    expect(job('name: "a"').setup).toEqual([]);
  });

  it('refuses a bad command', () => {
    expectError(oneJob('name: "a", setup: ["ok", ""]'), {
      path: 'jobs[0].setup[1]',
      at: '""]',
      message: 'expected a command string or a non-empty array of arguments, got an empty string',
    });
    expectError(oneJob('name: "a", setup: "x"'), {
      path: 'jobs[0].setup',
      at: '"x"',
      message: 'expected a list of commands, got "x"',
    });
  });
});

describe('workdir, env, user', () => {
  it('reads them', () => {
    const j = job('name: "a", workdir: "/srv", env: { A: "1", B_2: 3, C: true }, user: "app:staff"');
    expect(j.workdir).toBe('/srv');
    expect(j.env).toEqual({ A: '1', B_2: '3', C: 'true' });
    expect(j.user).toEqual({ name: 'app', group: 'staff' });
    expect(job('name: "a", user: 1000').user).toEqual({ uid: 1000 });
    expect(job('name: "a", user: "1000:50"').user).toEqual({ uid: 1000, gid: 50 });
    expect(job('name: "a"').env).toEqual({});
  });

  it('refuses bad values', () => {
    expectError(oneJob('name: "a", env: { "A-B": "x" }'), {
      path: 'jobs[0].env["A-B"]',
      at: '"A-B"',
      message: '"A-B" is not a valid environment variable name',
    });
    expectError(oneJob('name: "a", env: { A: {} }'), {
      path: 'jobs[0].env.A',
      at: '{} }',
      message: 'expected a string, got an object',
    });
    expectError(oneJob('name: "a", user: "a:b:c"'), {
      path: 'jobs[0].user',
      at: '"a:b:c"',
      message: 'expected a user name, "name:group", a uid, or "uid:gid", got "a:b:c"',
    });
    expectError(oneJob('name: "a", workdir: ""'), {
      path: 'jobs[0].workdir',
      at: '""',
      message: 'expected a non-empty string, got ""',
    });
  });
});
