/**
 * The task lifecycle through the built binary: `pidpilot run JOB` (README.md) on the
 * dev-stack example and on small configs, ordered teardown of a diamond read from the
 * DEBUG event log, and `pidpilot graph`.
 */
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, settleArg, until, useHarness, withArg } from './support.js';

const h = useHarness();

/** A port free right now (bound, then released). */
function freePort(): Promise<number> {
  const s = createServer();
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    }),
  );
}

/** Index of the first stdout line matching `re`; fails when absent. */
function lineIndex(lines: string[], re: RegExp): number {
  const i = lines.findIndex((l) => re.test(l));
  if (i === -1) throw new Error(`no line matches ${re}:\n${lines.join('\n')}`);
  return i;
}

it('run test on examples/dev-stack.json5: db, migrate, app (setup, ready), test; exits 0; app stops before db', async () => {
  const env = { DB_PORT: String(await freePort()), APP_PORT: String(await freePort()) };
  const r = await h().cli(['run', 'test', '-config', join(ROOT, 'examples', 'dev-stack.json5')], { env });
  expect(r.code, r.p.transcript()).toBe(0);
  const lines = r.stdout.split('\n');
  expect(lineIndex(lines, / migrate migrated, db says db ok$/)).toBeLessThan(lineIndex(lines, / app app listening/));
  expect(lineIndex(lines, / app setup: seeding the app$/)).toBeLessThan(
    lineIndex(lines, / app setup: app answers "hello from app"$/),
  );
  expect(lineIndex(lines, / app setup: app answers/)).toBeLessThan(
    lineIndex(lines, / test test: got "hello from app"$/),
  );
  expect(lineIndex(lines, / app \d+ stopped \(shutdown\)$/)).toBeLessThan(
    lineIndex(lines, / db \d+ stopped \(shutdown\)$/),
  );
  expect(lines.some((l) => / pidpilot exiting with status 0$/.test(l))).toBe(true);
});

it('run starts only the target and what it needs, and exits with the target’s status', async () => {
  const unrelated = h().uniqueArg();
  const file = h().writeConfig({
    jobs: [
      { name: 'db', exec: ['sleep', h().uniqueArg()] },
      { name: 'seed', exec: ['sh', '-c', 'echo seeding'], when: { source: 'db', once: 'ready' } },
      {
        name: 'target',
        exec: ['sh', '-c', 'echo target-ran; exit 7'],
        dependsOn: [{ job: 'db', condition: 'started' }],
        when: { source: 'seed', once: 'exitSuccess' },
      },
      { name: 'unrelated', exec: ['sleep', unrelated] },
    ],
  });
  const p = h().start(['run', 'target', '-config', file]);
  const r = await p.waitExit();
  expect(r, p.transcript()).toEqual({ code: 7, signal: null });
  expect(p.matching(/ seed seeding$/)).toHaveLength(1);
  expect(p.matching(/ target target-ran$/)).toHaveLength(1);
  expect(p.matching(/3 jobs from/)).toHaveLength(1);
  expect(withArg(unrelated)).toEqual([]);
  await h().expectNoLeftovers();
});

it('run exits 128+signal when the target is killed', async () => {
  const file = h().writeConfig({ jobs: [{ name: 'target', exec: ['sh', '-c', 'kill -TERM $$'] }] });
  const r = await h().cli(['run', 'target', '-config', file]);
  expect(r.code, r.p.transcript()).toBe(128 + constants.signals.SIGTERM);
});

it('run works next to a live supervisor on the same control socket (without a socket of its own)', async () => {
  const live = h().run({ jobs: [{ name: 'holder', exec: ['sleep', h().uniqueArg()] }] });
  await live.waitForLine(/control socket \//);
  const file = h().writeConfig({ jobs: [{ name: 'target', exec: ['sh', '-c', 'exit 3'] }] }, 'run.json5');
  const r = await h().cli(['run', 'target', '-config', file]);
  expect(r.code, r.p.transcript()).toBe(3);
  expect(r.p.matching(/running without a control socket: .*is pidpilot already running/)).toHaveLength(1);
  // And the supervisor kept its socket.
  expect((await h().cli(['-ping', '-config', file])).code).toBe(0);
  live.signal('SIGTERM');
  expect(await live.waitExit()).toEqual({ code: 0, signal: null });
});

it('run exits non-zero with a clear message when a dependency failed', async () => {
  const file = h().writeConfig({
    jobs: [
      { name: 'db', exec: ['sh', '-c', 'exit 3'] },
      { name: 'target', exec: ['sh', '-c', 'echo target-ran'], dependsOn: ['db'] },
    ],
  });
  const r = await h().cli(['run', 'target', '-config', file]);
  expect(r.code, r.p.transcript()).toBe(1);
  expect(r.stdout).toMatch(/main job target failed: dependency "db" failed/);
  expect(r.stdout).not.toMatch(/target-ran/);
});

it('run with an unknown job is a usage error (exit 2) that suggests the nearest name', async () => {
  const file = h().writeConfig({ jobs: [{ name: 'target', exec: 'true' }] });
  const r = await h().cli(['run', 'targte', '-config', file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/no job named "targte" in .*; did you mean "target"\?/);
  const none = await h().cli(['run', '-config', file]);
  expect(none.code).toBe(2);
  expect(none.stderr).toMatch(/run needs JOB: pidpilot run JOB/);
});

it('diamond teardown on SIGTERM, read from the DEBUG event log: dependents stop first, siblings concurrently', async () => {
  const args = Object.fromEntries(['db', 'api', 'worker', 'web'].map((n) => [n, h().uniqueArg()]));
  // `started`: a job without health check and restarts is one-shot, whose default would be `succeeded`.
  const server = (name: string, dependsOn: string[]) => ({
    name,
    exec: ['sleep', args[name]],
    dependsOn: dependsOn.map((job) => ({ job, condition: 'started' })),
  });
  const p = h().run({
    logging: { level: 'DEBUG' },
    jobs: [server('db', []), server('api', ['db']), server('worker', ['db']), server('web', ['api', 'worker'])],
  });
  await p.waitForLine(/event ready web$/);
  await until(() => withArg(args.web!).length === 1, 'web running');
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  const lines = p.lines;
  const ev = (code: string, job: string): number => lineIndex(lines, new RegExp(`event ${code} ${job}$`));
  expect(ev('stopped', 'web')).toBeLessThan(ev('stopping', 'api'));
  expect(ev('stopped', 'web')).toBeLessThan(ev('stopping', 'worker'));
  expect(ev('stopped', 'api')).toBeLessThan(ev('stopping', 'db'));
  expect(ev('stopped', 'worker')).toBeLessThan(ev('stopping', 'db'));
  expect(Math.max(ev('stopping', 'api'), ev('stopping', 'worker'))).toBeLessThan(
    Math.min(ev('stopped', 'api'), ev('stopped', 'worker')),
  );
  for (const a of Object.values(args)) expect(await settleArg(a)).toEqual([]);
});

it('graph draws dependencies, triggers and watches as Mermaid and DOT', async () => {
  const file = h().writeConfig({
    watches: [{ name: 'backend', interval: 5 }],
    jobs: [
      { name: 'db', exec: 'true', health: { tcp: '127.0.0.1:5432', interval: 1, ttl: 5 } },
      { name: 'app', exec: 'true', dependsOn: ['db'] },
      { name: 'reload', exec: 'true', when: { source: 'watch.backend', each: 'changed' } },
      { name: 'on-hup', exec: 'true', when: { source: 'SIGHUP' } },
      { name: 'notify', exec: 'true', when: { source: 'check.db', once: 'exitSuccess' } },
    ],
  });
  const m = await h().cli(['graph', '-config', file]);
  expect(m.code, m.stderr).toBe(0);
  expect(m.stdout).toBe(
    [
      'flowchart LR',
      '  n0["db"]',
      '  n1["app"]',
      '  n2["reload"]',
      '  n3["on-hup"]',
      '  n4["notify"]',
      '  n5[("watch.backend")]',
      '  n6{{"SIGHUP"}}',
      '  n0 -->|"healthy"| n1',
      '  n5 -.->|"each changed"| n2',
      '  n6 -.->|"signal"| n3',
      '  n0 -.->|"check once exitSuccess"| n4',
      '',
    ].join('\n'),
  );
  const d = await h().cli(['graph', '-config', file, '-format', 'dot']);
  expect(d.code).toBe(0);
  expect(d.stdout).toMatch(/^digraph pidpilot \{\n {2}rankdir=LR;\n/);
  expect(d.stdout).toContain('n0 -> n1 [label="healthy"];');
  expect(d.stdout).toContain('n5 -> n2 [label="each changed", style=dashed];');
  const bad = await h().cli(['graph', '-config', file, '-format', 'svg']);
  expect(bad.code).toBe(2);
});
