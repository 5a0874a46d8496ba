/**
 * The control socket of the built binary (docs/control-api.md, README.md), driven by real clients: curl
 * over the unix socket, and pidpilot's own CLI. ContainerPilot's endpoints, reload,
 * maintenance, job actions, bad input that must change nothing, and the socket's life.
 */
import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { curl, eventually } from './control-support.js';
import { type Pidpilot, until, useHarness, withArg } from './support.js';

const h = useHarness();

interface JobStatus {
  name: string;
  state: string;
  pid: number | null;
}

async function jobs(): Promise<Map<string, JobStatus>> {
  const r = await curl(h().socketPath, 'GET', '/v3/status');
  expect(r.status, r.body).toBe(200);
  return new Map((r.json.jobs as JobStatus[]).map((j) => [j.name, j]));
}

async function pidOf(name: string): Promise<number> {
  return eventually(async () => (await jobs()).get(name)?.pid ?? null, `a pid for ${name}`);
}

async function started(p: Pidpilot): Promise<void> {
  await p.waitForLine(/started: pid/);
}

async function stop(p: Pidpilot): Promise<void> {
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
}

describe('ContainerPilot endpoints over curl', () => {
  it('ping, a 0600 socket, and /v3/env changing the environment of later children (set and unset)', async () => {
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [
        { name: 'keeper', exec: ['sleep', h().uniqueArg()] },
        { name: 'echo-env', exec: ['sh', '-c', 'echo "foo=[$FOO]"'], when: { source: 'SIGHUP' } },
      ],
    });
    await started(p);
    expect(p.matching(new RegExp(`control socket ${h().socketPath}$`))).toHaveLength(1);
    expect(statSync(h().socketPath).mode & 0o777).toBe(0o600);
    const ping = await curl(h().socketPath, 'GET', '/v3/ping');
    expect(ping.status).toBe(200);

    expect((await curl(h().socketPath, 'POST', '/v3/env', '{"FOO":"bar"}')).status).toBe(200);
    p.signal('SIGHUP');
    await p.waitForLine(/ echo-env foo=\[bar\]$/);
    // ContainerPilot's own client posts to /v3/environ.
    expect((await curl(h().socketPath, 'POST', '/v3/environ', '{"FOO":null}')).status).toBe(200);
    await p.waitForLine(/echo-env .*exited with code 0$/);
    p.signal('SIGHUP');
    await p.waitForLine(/ echo-env foo=\[\]$/);
    await stop(p);
  });

  it('maintenance: enable stops health checks and publishes enterMaintenance, idempotently; disable resumes them', async () => {
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [
        { name: 'web', exec: ['sleep', h().uniqueArg()], health: { exec: ['true'], interval: '100ms', ttl: '10s' } },
      ],
    });
    await p.waitForLine(/event exitSuccess check\.web$/);
    const on = await curl(h().socketPath, 'POST', '/v3/maintenance/enable');
    expect([on.status, on.json]).toEqual([200, { updated: true }]);
    expect((await curl(h().socketPath, 'POST', '/v3/maintenance/enable')).json).toEqual({ updated: false });
    await eventually(async () => (await jobs()).get('web')?.state === 'maintenance', 'web in maintenance');
    const status = await curl(h().socketPath, 'GET', '/v3/status');
    expect(status.json.maintenance).toBe(true);
    // Let several check intervals go by: none may run while in maintenance.
    await new Promise((r) => setTimeout(r, 1_000));
    const off = await curl(h().socketPath, 'POST', '/v3/maintenance/disable');
    expect(off.json).toEqual({ updated: true });
    await p.waitForLine(/ event exitMaintenance global$/);
    const lines = p.lines;
    const enter = lines.findIndex((l) => / event enterMaintenance global$/.test(l));
    const exit = lines.findIndex((l) => / event exitMaintenance global$/.test(l));
    expect(enter, p.transcript()).toBeGreaterThan(0);
    expect(exit, p.transcript()).toBeGreaterThan(enter);
    // A check already running when maintenance began may still report; no new one starts.
    const checksDuring = lines.slice(enter, exit).filter((l) => /event exitSuccess check\.web$/.test(l));
    expect(checksDuring.length, p.transcript()).toBeLessThanOrEqual(1);
    // Checks resume after disable.
    const before = p.matching(/event exitSuccess check\.web$/).length;
    await p.waitForLine(/event exitSuccess check\.web$/, { nth: before + 1 });
    expect(p.matching(/event exitMaintenance global$/)).toHaveLength(1);
    expect(p.matching(/event enterMaintenance global$/)).toHaveLength(1);
    await stop(p);
  });
});

describe('bad input', () => {
  it('a stream of bad requests gets 4xx (or a closed connection); the supervisor still serves ping and its jobs are untouched', async () => {
    const p = h().run({ jobs: [{ name: 'keeper', exec: ['sleep', h().uniqueArg()] }] });
    await started(p);
    const sock = h().socketPath;
    const pid = await pidOf('keeper');

    const bad: Array<[string, string, string | undefined, number]> = [
      ['POST', '/v3/env', '{"FOO": "bar"', 422],
      ['POST', '/v3/env', '{"1FOO": "bar"}', 422],
      ['POST', '/v3/env', '{"FOO=": "bar"}', 422],
      ['POST', '/v3/env', '[1,2,3]', 422],
      ['POST', '/v3/metric', '{"nope": 1}', 422],
      ['POST', '/v3/metric', 'not json', 422],
      ['GET', '/v3/env', undefined, 405],
      ['PUT', '/v3/reload', '{}', 405],
      ['GET', '/v3/maintenance/enable', undefined, 405],
      ['POST', '/v3/ping', undefined, 405],
      ['GET', '/v3/nowhere', undefined, 404],
      ['GET', '/', undefined, 404],
      ['POST', '/v3/jobs/ghost/stop', undefined, 404],
      ['POST', '/v3/jobs/keeper/explode', undefined, 404],
      ['POST', '/v3/jobs/keeper/stop?timeout=never', undefined, 400],
      ['POST', '/v3/jobs/keeper/restart', '{"timeout": {}}', 400],
      ['GET', '/v3/events?limit=lots', undefined, 400],
      ['POST', '/v3/env', `{"BIG":"${'x'.repeat(1024 * 1024 + 10)}"}`, 413],
    ];
    for (const [method, path, body, status] of bad) {
      const r = await curl(sock, method, path, body);
      expect(r.status, `${method} ${path}: ${r.body.slice(0, 200)}`).toBe(status);
      if (status !== 405 || r.body) expect(typeof r.json?.error, `${method} ${path}`).toBe('string');
    }
    // Raw sockets: garbage, a request cut short, a client that goes silent, one that leaves mid-body.
    const raw = (text: string, end: 'close' | 'wait' | 'destroy'): Promise<void> =>
      new Promise((resolve) => {
        const c = connect(sock);
        c.on('error', () => resolve());
        c.on('close', () => resolve());
        c.resume(); // read (and drop) the answer, so the end of the connection is seen
        c.write(text, () => {
          if (end === 'destroy') c.destroy();
          else if (end === 'close') c.end();
          else resolve(); // left open: the server's timeouts deal with it
        });
      });
    await raw('\x16\x03\x01\x02\x00 not http at all\r\n\r\n', 'close');
    await raw('GET /v3/ping HTTP/1.1\r\nHost: x\r\n', 'wait');
    await raw('POST /v3/env HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"A":', 'destroy');
    await raw(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 'close');

    expect((await curl(sock, 'GET', '/v3/ping')).status).toBe(200);
    expect(await pidOf('keeper')).toBe(pid);
    expect((await jobs()).get('keeper')?.state).toBe('running');
    expect(p.running).toBe(true);
    expect(p.matching(/internal error|environment changed/, 'any'), p.transcript()).toEqual([]);
    await stop(p);
  });
});

describe('early answers', () => {
  it('an early answer to a request whose big body is still coming reaches the client (lingering close)', async () => {
    // Closed at once, the server made the client's write fail (EPIPE) while the answer was on
    // its way, and the client lost it: 1 to 3 in 10 here. Now the rest of the body is read and dropped.
    const p = h().run({ jobs: [{ name: 'keeper', exec: ['sleep', h().uniqueArg()] }] });
    await started(p);
    const big = (head: string) => Buffer.concat([Buffer.from(head), Buffer.alloc(2 * 1024 * 1024, 120)]);
    const cases = [
      big('POST /v3/ping HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n'),
      big('POST /v3/env HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n'),
      big('GET /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n'),
      big(`GET /v3/ping HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(40_000)}\r\nContent-Length: 2097152\r\n\r\n`),
    ];
    for (const bytes of cases) {
      for (let i = 0; i < 15; i++) {
        const answer = await new Promise<string>((resolve) => {
          const c = connect(h().socketPath);
          let text = '';
          c.on('data', (d: Buffer) => (text += d.toString('latin1')));
          c.on('error', () => {});
          c.on('close', () => resolve(text));
          c.write(bytes);
        });
        expect(answer, bytes.subarray(0, 40).toString()).toMatch(/^HTTP\/1\.1 4\d\d [\s\S]*\{"error":"[^"]+"/);
      }
    }
    expect(p.matching(/environment changed/, 'any')).toEqual([]);
    await stop(p);
  });
});

describe('the socket file', () => {
  it('a second supervisor on a live socket refuses to start with a clear error; a stale one is replaced', async () => {
    const first = h().run({ jobs: [{ name: 'keeper', exec: ['sleep', h().uniqueArg()] }] });
    await started(first);
    const second = h().start(['-config', h().path('pidpilot.json5')]);
    const r = await second.waitExit();
    expect(r.code, second.transcript()).toBe(1);
    expect(
      second.matching(/another process is serving the control socket .*is pidpilot already running/, 'any'),
      second.transcript(),
    ).toHaveLength(1);
    expect(second.matching(/started: pid/)).toEqual([]);
    expect((await curl(h().socketPath, 'GET', '/v3/ping')).status).toBe(200);

    // SIGKILL leaves the socket file behind; the next supervisor replaces it.
    first.signal('SIGKILL');
    await first.waitExit();
    expect(statSync(h().socketPath).isSocket()).toBe(true);
    const third = h().start(['-config', h().path('pidpilot.json5')]);
    await started(third);
    expect((await curl(h().socketPath, 'GET', '/v3/ping')).status).toBe(200);
    await stop(third);
  });
});

describe('reload', () => {
  it('keeps unchanged jobs (same pid), restarts changed ones, stops removed ones, starts new ones; an invalid file changes nothing; SIGHUP is only an event', async () => {
    const [keepArg, changeArg, changedArg, removeArg, newArg] = [1, 2, 3, 4, 5].map(() => h().uniqueArg());
    const v1 = {
      jobs: [
        { name: 'keep', exec: ['sleep', keepArg] },
        { name: 'change', exec: ['sleep', changeArg] },
        { name: 'remove', exec: ['sleep', removeArg] },
        { name: 'on-hup', exec: ['sh', '-c', 'echo hup'], when: { source: 'SIGHUP' } },
      ],
    };
    const p = h().run(v1);
    await started(p);
    const keepPid = await pidOf('keep');
    await pidOf('change');
    await pidOf('remove');

    const v2 = {
      jobs: [
        { name: 'new-one', exec: ['sleep', newArg] },
        { name: 'on-hup', when: { source: 'SIGHUP' }, exec: ['sh', '-c', 'echo hup'] }, // same, other key order
        { name: 'change', exec: ['sleep', changedArg] },
        { name: 'keep', exec: ['sleep', keepArg] },
      ],
    };
    h().writeConfig(v2);
    const r = await curl(h().socketPath, 'POST', '/v3/reload');
    expect(r.status, r.body).toBe(200);
    expect(r.json).toEqual({
      ok: true,
      unchanged: ['on-hup', 'keep'],
      restarted: ['change'],
      started: ['new-one'],
      stopped: ['remove'],
      notApplied: [],
    });

    expect(await pidOf('keep')).toBe(keepPid);
    expect(withArg(keepArg).map((x) => x.pid)).toEqual([keepPid]);
    await until(
      () => withArg(changedArg).length === 1 && withArg(changeArg).length === 0,
      'change restarted with its new definition',
    );
    await until(() => withArg(removeArg).length === 0, 'remove stopped');
    await until(() => withArg(newArg).length === 1, 'new-one started');
    const after = await jobs();
    expect([...after.keys()]).toEqual(['new-one', 'on-hup', 'change', 'keep']);

    // An invalid file: 422 with the errors, and nothing changes.
    h().writeConfig('{ jobs: [ { name: "keep", exec: ["sleep", "1"], restarts: "often" } ] }');
    const bad = await curl(h().socketPath, 'POST', '/v3/reload');
    expect(bad.status).toBe(422);
    expect(bad.json.errors[0].path).toBe('jobs[0].restarts');
    expect(bad.json.errors[0].line).toBe(1);
    expect(await pidOf('keep')).toBe(keepPid);
    expect(withArg(newArg)).toHaveLength(1);
    expect(withArg(changedArg)).toHaveLength(1);

    // SIGHUP stays an event (as in ContainerPilot): it triggers its job and reloads nothing.
    h().writeConfig(v1);
    p.signal('SIGHUP');
    await p.waitForLine(/ on-hup hup$/);
    expect([...(await jobs()).keys()]).toEqual(['new-one', 'on-hup', 'change', 'keep']);
    expect(withArg(removeArg)).toHaveLength(0);
    await stop(p);
    await h().expectNoLeftovers();
  });
});

describe('the CLI', () => {
  it('-ping, -putenv, -putmetric, -maintenance, -reload, status, start/stop/restart, all through the socket the config names', async () => {
    const trapArg = h().uniqueArg();
    const file = h().writeConfig({
      control: { socket: h().path('own.sock') },
      jobs: [
        { name: 'web', exec: ['sleep', h().uniqueArg()] },
        // Ignores SIGTERM: only the stop timeout's SIGKILL ends it.
        {
          name: 'stubborn',
          exec: ['sh', '-c', `trap "" TERM; echo trapped; exec sleep ${trapArg}`],
          stopTimeout: '1h',
        },
        { name: 'echo-env', exec: ['sh', '-c', 'echo "colour=[$COLOUR]"'], when: { source: 'SIGHUP' } },
      ],
    });
    const p = h().start(['-config', file]);
    await p.waitForLine(/ stubborn trapped$/);
    const cli = (...args: string[]) => h().cli([...args, '-config', file]);

    expect(await cli('-ping')).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect(await cli('-putenv', 'COLOUR=blue', '-putenv', 'UNUSED=1')).toMatchObject({ code: 0 });
    p.signal('SIGHUP');
    await p.waitForLine(/ echo-env colour=\[blue\]$/);

    const metric = await cli('-putmetric', 'x=1');
    expect(metric.code).toBe(1);
    expect(metric.stderr).toMatch(/unknown metric .*telemetry is not configured/);
    const badEnv = await cli('-putenv', 'NO-DASHES=1');
    expect([badEnv.code, badEnv.stderr]).toEqual([
      1,
      expect.stringMatching(/invalid environment variable name: "NO-DASHES"/),
    ]);

    expect((await cli('-maintenance', 'enable')).stdout).toBe('maintenance mode on\n');
    expect((await cli('-maintenance', 'enable')).stdout).toBe('maintenance mode was already on\n');
    expect((await cli('-maintenance', 'disable')).stdout).toBe('maintenance mode off\n');
    expect((await cli('-maintenance', 'sideways')).code).toBe(2);

    const table = await cli('status');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^JOB +STATE +PID +UPTIME +RESTARTS +LAST EXIT +HEALTH +READY +REASON$/m);
    expect(table.stdout).toMatch(/^web +running +\d+ +\d+s +0 +- +unknown +yes +run 1$/m);
    const json = JSON.parse((await cli('status', '--json')).stdout);
    expect(json.jobs.map((j: JobStatus) => j.name)).toEqual(['web', 'stubborn', 'echo-env']);

    const stubbornPid = json.jobs[1].pid as number;
    const stopped = await cli('stop', 'stubborn', '-timeout', '500ms');
    expect([stopped.code, stopped.stdout], stopped.stderr).toEqual([0, 'stubborn: stop done (now stopped)\n']);
    expect(withArg(trapArg)).toEqual([]);
    const again = await cli('stop', 'stubborn');
    expect(again.code).toBe(0);
    const startedAgain = await cli('start', 'stubborn');
    expect(startedAgain.code, startedAgain.stderr).toBe(0);
    await p.waitForLine(/ stubborn trapped$/, { nth: 2 });
    const busy = await cli('start', 'web');
    expect([busy.code, busy.stderr]).toEqual([1, expect.stringMatching(/job web is running/)]);

    const webPid = JSON.parse((await cli('status', '--json')).stdout).jobs[0].pid as number;
    expect((await cli('restart', 'web')).code).toBe(0);
    const restarted = await eventually(async () => {
      const s = JSON.parse((await cli('status', '--json')).stdout);
      return s.jobs[0].pid !== null && s.jobs[0].pid !== webPid ? s.jobs[0].pid : null;
    }, 'web running again');
    expect(restarted).not.toBe(webPid);
    expect(stubbornPid).toBeGreaterThan(0);

    expect((await cli('stop', 'ghost')).stderr).toMatch(/no such job: ghost/);
    expect((await cli('logs', '-n', 'x')).code).toBe(2);
    const reload = await cli('-reload');
    expect([reload.code, reload.stdout]).toEqual([
      0,
      'reloaded: restarted -; started -; stopped -; unchanged web, stubborn, echo-env\n',
    ]);

    p.signal('SIGTERM');
    // stubborn ignores SIGTERM and has a long stopTimeout: the global bound ends it.
    await p.waitExit();
  });

  it('a clear error and a non-zero status when no supervisor is running', async () => {
    const file = h().writeConfig({
      control: { socket: h().path('nobody.sock') },
      jobs: [{ name: 'x', exec: ['true'] }],
    });
    for (const args of [['-ping'], ['status'], ['-reload'], ['stop', 'x']]) {
      const r = await h().cli([...args, '-config', file]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `the supervisor is not running \\(nothing answers on the control socket ${h().path('nobody.sock')}\\)`,
        ),
      );
    }
    const viaFlag = await h().cli(['status', '--socket', h().path('other.sock')]);
    expect([viaFlag.code, viaFlag.stderr]).toEqual([1, expect.stringMatching(/other\.sock/)]);
  });
});
