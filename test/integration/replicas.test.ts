/**
 * `replicas` and `pidpilot scale` end to end (docs/configuration.md#replicas, docs/control-api.md#scale):
 * the built binary, real processes, its own socket and state dir per test.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../src/jobs/state.js';
import { type ConsulUnderTest, startConsul } from '../support/consul-agent/index.js';
import { curl, eventually } from './control-support.js';
import { type Harness, useHarness } from './support.js';

const h = useHarness();

async function jobs(harness: Harness): Promise<JobSnapshot[]> {
  const r = await curl(harness.socketPath, 'GET', '/v3/status');
  return r.status === 200 ? (r.json.jobs as JobSnapshot[]) : [];
}

/** Resolves with the jobs once `ok` holds for them. */
function jobsWhen(what: string, ok: (jobs: JobSnapshot[]) => boolean): Promise<JobSnapshot[]> {
  return eventually(async () => {
    const list = await jobs(h());
    return ok(list) ? list : null;
  }, what);
}

const byName = (list: JobSnapshot[], name: string): JobSnapshot | undefined => list.find((j) => j.name === name);
const running = (list: JobSnapshot[], names: string[]): boolean =>
  names.every((n) => byName(list, n)?.state === 'running');

describe('replicas', () => {
  it('runs N instances, each its own row, PID, PIDPILOT_REPLICA, PORT and log', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'worker',
          replicas: 3,
          env: { PORT: '7000' },
          exec: [
            'sh',
            '-c',
            `echo "replica=$PIDPILOT_REPLICA port=$PORT job=$PIDPILOT_JOB"; exec sleep ${h().uniqueArg()}`,
          ],
        },
      ],
    });
    for (const i of [1, 2, 3])
      await p.waitForLine(new RegExp(`worker-${i} replica=${i} port=${6999 + i} job=worker-${i}$`));
    const list = await jobsWhen('three running instances', (l) => running(l, ['worker-1', 'worker-2', 'worker-3']));
    expect(list.map((j) => j.name)).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(new Set(list.map((j) => j.pid)).size).toBe(3);
    // The CLI's table and JSON follow from status.
    const table = await h().cli(['status']);
    for (const i of [1, 2, 3]) expect(table.stdout).toMatch(new RegExp(`^worker-${i}\\s+running`, 'm'));
    // Each instance has its own history.
    const logs = await eventually(async () => {
      const r = await h().cli(['logs', 'worker-2']);
      return r.stdout.includes('replica=2') ? r.stdout : null;
    }, 'the log of worker-2');
    expect(logs).not.toMatch(/replica=[13]/);
    // The job's own name stands for its instances where several jobs can be named (logs) …
    const all = (await h().cli(['logs', 'worker'])).stdout;
    for (const i of [1, 2, 3]) expect(all).toMatch(new RegExp(`^worker-${i} \\| replica=${i} `, 'm'));
    // … and where one job must be named, the refusal says which names to use.
    const stop = await h().cli(['stop', 'worker']);
    expect([stop.code, stop.stderr]).toEqual([
      1,
      expect.stringContaining(
        'no such job: worker runs as 3 instances (worker-1 … worker-3): name one of them, or scale worker with pidpilot scale worker N',
      ),
    ]);
    expect((await jobs(h())).every((j) => j.state === 'running')).toBe(true);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('scale up starts new instances; scale down stops the highest numbers with their cleanup; bad input changes nothing', async () => {
    const cleaned = h().path('cleaned');
    const config = (replicas: number): object => ({
      jobs: [
        {
          name: 'worker',
          replicas,
          exec: ['sleep', h().uniqueArg()],
          cleanup: [['sh', '-c', `echo "$PIDPILOT_JOB" >> ${cleaned}`]],
        },
        { name: 'plain', exec: ['sleep', h().uniqueArg()] },
      ],
    });
    const p = h().run(config(2));
    const before = await jobsWhen('two instances', (l) => running(l, ['worker-1', 'worker-2', 'plain']));
    const pid1 = byName(before, 'worker-1')!.pid;

    const up = await h().cli(['scale', 'worker', '4']);
    expect([up.code, up.stdout]).toEqual([0, 'worker: 4 replicas (started worker-3, started worker-4)\n']);
    await jobsWhen('four instances', (l) => running(l, ['worker-1', 'worker-2', 'worker-3', 'worker-4']));

    const down = await h().cli(['scale', 'worker', '1']);
    expect([down.code, down.stdout]).toEqual([
      0,
      'worker: 1 replica (stopped worker-2, stopped worker-3, stopped worker-4)\n',
    ]);
    const after = await jobs(h());
    expect(after.map((j) => j.name)).toEqual(['worker-1', 'plain']);
    expect(byName(after, 'worker-1')!.pid).toBe(pid1); // untouched
    // The ordinary teardown: the stopped instances' cleanup ran (the scale answers once they have stopped).
    expect(readFileSync(cleaned, 'utf8').split('\n').filter(Boolean).sort()).toEqual([
      'worker-2',
      'worker-3',
      'worker-4',
    ]);
    await p.waitForLine(/worker-4 .*stopped/i);

    // Bad input: a clear error, nothing changed.
    const refusals: Array<[string[], number, RegExp]> = [
      [['scale', 'worker', '0'], 1, /replicas of worker must be a whole number from 1 to 100, not 0/],
      [['scale', 'worker', '101'], 1, /from 1 to 100, not 101/],
      [['scale', 'worker', 'many'], 2, /scale needs a whole number of replicas, got "many"/],
      [['scale', 'nope', '2'], 1, /no such job: nope/],
      [['scale', 'plain', '2'], 1, /job plain has no replicas/],
      [['scale', 'worker-1', '2'], 1, /worker-1 is an instance of worker: scale worker/],
    ];
    for (const [args, code, message] of refusals) {
      const r = await h().cli(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([code, expect.stringMatching(message)]);
    }
    for (const body of ['{"replicas":2.5}', '{"replicas":"2"}', '{}']) {
      const r = await curl(h().socketPath, 'POST', '/v3/jobs/worker/scale', body);
      expect([r.status, typeof r.json?.error], body).toEqual([422, 'string']);
    }
    expect((await jobs(h())).map((j) => j.name)).toEqual(['worker-1', 'plain']);

    // A reload that leaves the file's `replicas` as it was keeps the scale; a new value in the file wins.
    const kept = await curl(h().socketPath, 'POST', '/v3/reload');
    expect([kept.status, kept.json.started, kept.json.stopped, kept.json.unchanged]).toEqual([
      200,
      [],
      [],
      ['worker-1', 'plain'],
    ]);
    h().writeConfig(config(3));
    const changed = await curl(h().socketPath, 'POST', '/v3/reload');
    expect([changed.status, changed.json.started]).toEqual([200, ['worker-2', 'worker-3']]);
    await jobsWhen('three instances after the reload', (l) => running(l, ['worker-1', 'worker-2', 'worker-3']));
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('dependsOn waits for every instance; the job name publishes healthy once all are', async () => {
    const dir = h().dir;
    const p = h().run({
      jobs: [
        {
          name: 'workers',
          replicas: 3,
          exec: ['sleep', h().uniqueArg()],
          health: { exec: ['sh', '-c', `test -e ${dir}/ok-$PIDPILOT_REPLICA`], interval: '100ms', ttl: '10s' },
        },
        { name: 'after', exec: ['sh', '-c', `echo after ran; exec sleep ${h().uniqueArg()}`], dependsOn: ['workers'] },
        { name: 'hook', exec: ['echo', 'all healthy'], when: { source: 'workers', once: 'healthy' } },
      ],
    });
    writeFileSync(`${dir}/ok-1`, '');
    writeFileSync(`${dir}/ok-3`, '');
    const two = await jobsWhen('worker 1 and 3 healthy', (l) =>
      ['workers-1', 'workers-3'].every((n) => byName(l, n)?.ready),
    );
    expect(byName(two, 'workers-2')!.health).not.toBe('healthy');
    expect(byName(two, 'after')!.state).toBe('waiting');
    expect(byName(two, 'after')!.dependencies).toEqual([{ job: 'workers', condition: 'healthy', met: false }]);
    expect(byName(two, 'hook')!.runs).toBe(0);
    expect(p.matching(/after ran|all healthy/)).toEqual([]);
    writeFileSync(`${dir}/ok-2`, '');
    await p.waitForLine(/after after ran$/);
    await p.waitForLine(/hook all healthy$/);
    const done = await jobs(h());
    expect(['workers-1', 'workers-2', 'workers-3'].every((n) => byName(done, n)!.ready)).toBe(true);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('a pre-stop hook of the job runs before any instance gets its stop signal; scale down does not run it', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'w',
          replicas: 3,
          exec: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; echo up; while :; do sleep 0.1; done'],
        },
        {
          name: 'drain',
          exec: ['sh', '-c', 'echo draining; sleep 0.3; echo drained'],
          when: { source: 'w', once: 'stopping' },
        },
      ],
    });
    for (const i of [1, 2, 3]) await p.waitForLine(new RegExp(`w-${i} up$`));
    expect((await h().cli(['scale', 'w', '2'])).code).toBe(0);
    await p.waitForLine(/w-3 got TERM$/);
    expect(p.matching(/draining/)).toEqual([]);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    const at = (re: RegExp): number => p.lines.findIndex((l) => re.test(l));
    expect(at(/drain drained$/)).toBeGreaterThan(-1);
    for (const i of [1, 2])
      expect(at(/drain drained$/), p.transcript()).toBeLessThan(at(new RegExp(`w-${i} got TERM$`)));
    expect(p.matching(/draining/)).toHaveLength(1);
  });

  it('a failed instance fails its dependents', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'setup',
          replicas: 2,
          exec: ['sh', '-c', 'exit $((PIDPILOT_REPLICA - 1))'],
        },
        { name: 'after', exec: ['echo', 'never'], dependsOn: ['setup'] },
      ],
    });
    // Every job has ended then, so pidpilot ends by itself: the log tells.
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    expect(p.matching(/setup-2 failed|after failed/)).toEqual([
      expect.stringMatching(/setup-2 failed: last run failed: exit code 1$/),
      expect.stringMatching(/after failed: dependency "setup" failed$/),
    ]);
    expect(p.matching(/never/)).toEqual([]);
  });
});

describe('replicas in Consul', () => {
  const agents: ConsulUnderTest[] = [];
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.close();
  });

  it('registers one service with an ID and a port per instance; scale down deregisters the removed ones', async () => {
    const c = await startConsul();
    agents.push(c);
    const services = async (): Promise<Record<string, { Service: string; Port: number }>> => {
      const r = await c.call('GET', '/v1/agent/services');
      return r.status === 200 ? (r.json as Record<string, { Service: string; Port: number }>) : {};
    };
    const id = (i: number): string => `web-${i}-${hostname()}`;
    const p = h().run({
      consul: c.address,
      jobs: [
        {
          name: 'web',
          replicas: 3,
          exec: ['sleep', h().uniqueArg()],
          port: 8080,
          interfaces: ['static:10.9.8.7'],
          health: { exec: ['true'], interval: '200ms', ttl: '10s' },
        },
      ],
    });
    const all = await eventually(async () => {
      const s = await services();
      return Object.keys(s).length === 3 ? s : null;
    }, 'three registrations');
    expect(Object.fromEntries(Object.entries(all).map(([k, v]) => [k, [v.Service, v.Port]]))).toEqual({
      [id(1)]: ['web', 8080],
      [id(2)]: ['web', 8081],
      [id(3)]: ['web', 8082],
    });
    expect((await h().cli(['scale', 'web', '1'])).code).toBe(0);
    await eventually(async () => Object.keys(await services()).join() === id(1), 'web-2 and web-3 deregistered');
    expect((await h().cli(['scale', 'web', '2'])).code).toBe(0);
    await eventually(async () => Object.keys(await services()).length === 2, 'web-2 registered again');
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    expect(await services()).toEqual({});
  });
});

describe('replicas in run mode', () => {
  it('runs a target that depends on a replicated job with all its instances; the job itself is no target', async () => {
    const file = h().writeConfig({
      jobs: [
        { name: 'w', replicas: 2, exec: ['sh', '-c', 'echo hi $PIDPILOT_REPLICA'] },
        { name: 't', exec: ['echo', 't ran'], dependsOn: ['w'] },
        { name: 'other', exec: ['echo', 'not needed'] },
      ],
    });
    const ok = await h().cli(['run', 't', '-config', file]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/w-1 hi 1\n[\s\S]*t t ran/);
    expect(ok.stdout).toMatch(/w-2 hi 2\n[\s\S]*t t ran/);
    expect(ok.stdout).not.toMatch(/not needed/);
    const refused = await h().cli(['run', 'w', '-config', file]);
    expect([refused.code, refused.stderr]).toEqual([
      2,
      expect.stringContaining('"w" has replicas, and run waits for one process: run one of its instances (w-1 … w-2)'),
    ]);
  });
});

describe('replicas in validate', () => {
  it('names both jobs of a name clash, and the field of a bad count', async () => {
    const file = h().writeConfig(`{
  jobs: [
    { name: "web", exec: "serve", replicas: 2 },
    { name: "web-1", exec: "other" },
    { name: "many", exec: "x", replicas: 500 },
  ],
}`);
    const r = await h().cli(['validate', '-config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /pidpilot\.json5:4:\d+: jobs\[1\]\.name: job "web-1" clashes with instance web-1 of "web" \(jobs\[0\], replicas: 2\)/,
    );
    expect(r.stderr).toMatch(/pidpilot\.json5:5:\d+: jobs\[2\]\.replicas: expected an integer from 1 to 100, got 500/);
    expect(existsSync(h().socketPath)).toBe(false);
  });
});
