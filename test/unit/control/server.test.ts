/**
 * The control server against a test-double target: ContainerPilot's endpoints and
 * answers, pidpilot's own, request validation, the body limit, follow streams without
 * gaps or duplicates, and the socket's life (mode 0600, stale replaced, live refused).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricType } from '../../../src/config/types.js';
import { connectionCap, MAX_CONNECTIONS } from '../../../src/control/admission.js';
import { DEFAULT_HISTORY_LIMIT, MAX_FOLLOWERS } from '../../../src/control/routes.js';
import { ControlServer, ControlSocketInUse } from '../../../src/control/server.js';
import type {
  ControlTarget,
  EnvChanges,
  JobAction,
  JobActionResult,
  MetricRecorder,
  ReloadResult,
  ScaleResult,
  StatusSnapshot,
} from '../../../src/control/target.js';
import type { JobGraph } from '../../../src/jobs/graph-model.js';
import { createLogger } from '../../../src/log/logger.js';
import { budget } from '../../integration/support.js';
import { MemoryHistory } from '../../support/history.js';
import { MemorySink } from '../../support/jobs.js';

/** A control target that records what it is asked (a test double of the supervisor). */
class FakeTarget implements ControlTarget {
  env: Record<string, string> = {};
  envCalls = 0;
  maintenance = false;
  recorded: Array<[string, number]> = [];
  actions: Array<{ job: string; action: JobAction; timeoutMs?: number }> = [];
  reloadResult: ReloadResult = { ok: true, unchanged: ['a'], restarted: [], started: [], stopped: [], notApplied: [] };
  history: MemoryHistory | null = new MemoryHistory();
  metrics: MetricRecorder | null = {
    resolve: (key) => {
      const known: Record<string, MetricType> = { gauge_x: 'gauge', hits: 'counter' };
      const name = key.startsWith('__') ? key.slice(2) : key;
      const type = known[name];
      return type ? { name, type } : undefined;
    },
    record: (name, value) => void this.recorded.push([name, value]),
  };

  putEnv(changes: EnvChanges): void {
    this.envCalls++;
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete this.env[k];
      else this.env[k] = v;
    }
  }
  reload(): Promise<ReloadResult> {
    return Promise.resolve(this.reloadResult);
  }
  setMaintenance(on: boolean): boolean {
    const changed = this.maintenance !== on;
    this.maintenance = on;
    return changed;
  }
  status(): StatusSnapshot {
    return {
      version: 't',
      pid: 1,
      startedAt: 0,
      maintenance: this.maintenance,
      shuttingDown: false,
      jobs: [],
      watches: [],
    };
  }
  jobGraph(): JobGraph {
    return { nodes: [{ id: 'n0', label: 'web', kind: 'job' }], edges: [] };
  }
  jobExists(name: string): boolean {
    return name === 'web' || name === 'a b';
  }
  instancesOf(name: string): string[] {
    return name === 'workers' ? ['workers-1', 'workers-2', 'workers-3'] : [];
  }
  scales: Array<[string, number]> = [];
  scale(job: string, replicas: number): Promise<ScaleResult> {
    this.scales.push([job, replicas]);
    if (job !== 'workers') return Promise.resolve({ ok: false, status: 404, error: `no such job: ${job}` });
    return Promise.resolve({ ok: true, job, replicas, started: [], stopped: [] });
  }
  jobAction(job: string, action: JobAction, opts: { timeoutMs?: number } = {}): Promise<JobActionResult> {
    this.actions.push({ job, action, ...opts });
    if (action === 'start') return Promise.resolve({ ok: false, status: 409, error: 'job web is running' });
    return Promise.resolve({ ok: true, job, action, state: 'stopped' });
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

function call(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a follow stream; `lines` fills as records arrive. */
function follow(socketPath: string, path: string, headers: Record<string, string> = {}) {
  const lines: string[] = [];
  let buf = '';
  let status = 0;
  const req = request({ socketPath, path, headers }, (res) => {
    status = res.statusCode ?? 0;
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      buf += c;
      const parts = buf.split('\n');
      buf = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l !== ''));
    });
  });
  req.end();
  return { lines, status: () => status, close: () => req.destroy() };
}

async function until(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let dir: string;
let socketPath: string;
let target: FakeTarget;
let server: ControlServer;
const requests: Array<[string, number]> = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pidpilot-control-'));
  socketPath = join(dir, 'sub', 'control.sock');
  target = new FakeTarget();
  const { logger } = createLogger({ level: 'info', format: 'default', output: 'stdout' }, new MemorySink());
  requests.length = 0;
  server = new ControlServer(socketPath, target, logger, (path, status) => requests.push([path, status]));
  await server.listen();
});

afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the socket', () => {
  it('is created with mode 0600 (in a directory it creates) and removed on close', async () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    await server.close();
    expect(existsSync(socketPath)).toBe(false);
  });

  it('refuses a socket a live process serves, replaces a stale one, and never deletes a non-socket file', async () => {
    const { logger } = createLogger({ level: 'info', format: 'default', output: 'stdout' }, new MemorySink());
    const second = new ControlServer(socketPath, new FakeTarget(), logger);
    await expect(second.listen()).rejects.toThrow(ControlSocketInUse);
    expect((await call(socketPath, 'GET', '/v3/ping')).status).toBe(200); // the first still serves

    // A stale socket: its server was killed, so nobody unlinked it.
    const stalePath = join(dir, 'stale.sock');
    const script = `require('net').createServer().listen(${JSON.stringify(stalePath)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    expect(statSync(stalePath).isSocket()).toBe(true);
    const fresh = new ControlServer(stalePath, new FakeTarget(), logger);
    await fresh.listen();
    expect((await call(stalePath, 'GET', '/v3/ping')).status).toBe(200);
    await fresh.close();

    const plain = join(dir, 'plain');
    writeFileSync(plain, 'precious');
    await expect(new ControlServer(plain, new FakeTarget(), logger).listen()).rejects.toThrow(/not a socket/);
    expect(existsSync(plain)).toBe(true);
  });
});

describe("ContainerPilot's endpoints", () => {
  it('GET /v3/ping answers 200 with an empty line', async () => {
    const r = await call(socketPath, 'GET', '/v3/ping');
    expect([r.status, r.body]).toEqual([200, '\n']);
  });

  it('POST /v3/env (and /v3/environ) sets and unsets; bad names or values are 422 and change nothing', async () => {
    expect((await call(socketPath, 'POST', '/v3/env', '{"A":"1","B":"two"}')).status).toBe(200);
    expect((await call(socketPath, 'POST', '/v3/environ', '{"B":"", "C":"3"}')).status).toBe(200);
    expect((await call(socketPath, 'POST', '/v3/env', '{"C":null}')).status).toBe(200);
    expect(target.env).toEqual({ A: '1' });
    const calls = target.envCalls;
    for (const body of [
      '{"1BAD":"x","OK":"y"}',
      '{"A B":"x"}',
      '{"OK":5}',
      '{"OK":"a\\u0000b"}',
      '["A"]',
      '"A=1"',
      '{not json',
      '',
    ]) {
      const r = await call(socketPath, 'POST', '/v3/env', body);
      expect(r.status, body).toBe(422);
      expect(typeof r.json.error, body).toBe('string');
    }
    expect(target.envCalls).toBe(calls);
    expect(target.env).toEqual({ A: '1' });
  });

  it('POST /v3/env refuses a variable the kernel cannot pass (over 128 KiB) and "__proto__", with a message, changing nothing', async () => {
    const calls = target.envCalls;
    const big = JSON.stringify({ OK: 'y', BIG: 'x'.repeat(128 * 1024) });
    const r = await call(socketPath, 'POST', '/v3/env', big);
    expect([r.status, r.json.error]).toEqual([422, expect.stringMatching(/BIG is \d+ bytes, over the 131072 bytes/)]);
    const proto = await call(socketPath, 'POST', '/v3/env', '{"__proto__":"x"}');
    expect([proto.status, proto.json.error]).toEqual([422, expect.stringMatching(/__proto__/)]);
    expect(target.envCalls).toBe(calls);
    expect(target.env).toEqual({});
    // Just under the bound is fine.
    const fits = 'x'.repeat(128 * 1024 - 'FITS'.length - 2);
    expect((await call(socketPath, 'POST', '/v3/env', JSON.stringify({ FITS: fits }))).status).toBe(200);
    expect(target.env.FITS).toBe(fits);
  });

  it('POST /v3/metric records known metrics by exposed or legacy name; unknown or non-numeric is 422 and records nothing', async () => {
    expect((await call(socketPath, 'POST', '/v3/metric', '{"gauge_x": 2.5, "__hits": "3"}')).status).toBe(200);
    expect(target.recorded).toEqual([
      ['gauge_x', 2.5],
      ['hits', 3],
    ]);
    for (const body of [
      '{"gauge_x": 1, "nope": 1}',
      '{"gauge_x": "abc"}',
      '{"gauge_x": null}',
      '{"hits": -1}',
      '{"gauge_x": 1e999}',
      '[1]',
      '{',
    ]) {
      const r = await call(socketPath, 'POST', '/v3/metric', body);
      expect(r.status, body).toBe(422);
    }
    expect(target.recorded).toHaveLength(2);
    target.metrics = null;
    const r = await call(socketPath, 'POST', '/v3/metric', '{"gauge_x": 1}');
    expect([r.status, r.json.error]).toEqual([422, expect.stringMatching(/telemetry is not configured/)]);
  });

  it('POST /v3/maintenance/enable|disable is idempotent and says whether it changed anything', async () => {
    const answers = [];
    for (const path of ['enable', 'enable', 'disable', 'disable'])
      answers.push((await call(socketPath, 'POST', `/v3/maintenance/${path}`)).json);
    expect(answers).toEqual([{ updated: true }, { updated: false }, { updated: true }, { updated: false }]);
  });

  it('POST /v3/reload answers the plan, or 422 with every error when the file is invalid', async () => {
    const ok = await call(socketPath, 'POST', '/v3/reload');
    expect([ok.status, ok.json.unchanged]).toEqual([200, ['a']]);
    target.reloadResult = { ok: false, errors: [{ file: 'f', path: 'jobs[0].name', message: 'bad' }] };
    const bad = await call(socketPath, 'POST', '/v3/reload');
    expect(bad.status).toBe(422);
    expect(bad.json.errors).toEqual([{ file: 'f', path: 'jobs[0].name', message: 'bad' }]);
  });

  it('wrong methods are 405 with Allow; unknown paths 404; every answer is counted by path and status', async () => {
    const r = await call(socketPath, 'GET', '/v3/reload');
    expect([r.status, r.headers.allow]).toEqual([405, 'POST']);
    expect((await call(socketPath, 'DELETE', '/v3/ping')).status).toBe(405);
    expect((await call(socketPath, 'GET', '/v3/nope')).status).toBe(404);
    expect((await call(socketPath, 'GET', '/../../etc/passwd')).status).toBe(404);
    expect(requests).toEqual([
      ['/v3/reload', 405],
      ['/v3/ping', 405],
      // Unknown paths share one label: a client cannot add series at will.
      ['(unknown)', 404],
      ['(unknown)', 404],
    ]);
  });

  it('a body over 1 MiB is refused with 413 and the connection closed; nothing is applied', async () => {
    const big = `{"A":"${'x'.repeat(1024 * 1024)}"}`;
    const r = await call(socketPath, 'POST', '/v3/env', big);
    expect(r.status).toBe(413);
    expect(target.envCalls).toBe(0);
    // Without a content-length (chunked), the limit still holds.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath, method: 'POST', path: '/v3/env' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write('x'.repeat(100 * 1024));
      req.end();
    }).catch(() => 413); // the server may close before the client finished sending
    expect(chunked).toBe(413);
    expect(target.envCalls).toBe(0);
    expect((await call(socketPath, 'GET', '/v3/ping')).status).toBe(200);
  });

  it('garbage that is not HTTP gets a 400 and a closed connection', async () => {
    const answer = await new Promise<string>((resolve) => {
      const c = connect(socketPath);
      let text = '';
      c.on('data', (d) => (text += d.toString()));
      c.on('close', () => resolve(text));
      c.write('\x00\x01 hello there\r\n\r\n');
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });
});

/** Sends `parts` (a number is a pause in ms) on a raw connection; resolves with all it read once the server closes it. */
function rawExchange(socketPath: string, parts: Array<string | number>): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socketPath);
    let text = '';
    c.on('data', (d: Buffer) => (text += d.toString('latin1')));
    c.on('error', () => {}); // a reset after the answer is still "closed"
    c.on('close', () => {
      clearTimeout(bound);
      resolve(text);
    });
    // Only a broken server gets here: the connection must be closed after a framing error.
    const bound = setTimeout(() => {
      c.destroy();
      reject(new Error(`the connection was left open after: ${JSON.stringify(text)}`));
    }, budget(10_000));
    void (async () => {
      for (const p of parts) {
        if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
        else if (!c.destroyed) c.write(p);
      }
    })();
  });
}

describe('framing errors get exactly one answer (issue 14 defect 12)', () => {
  const chunked = (path: string, keepAlive: boolean): string =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\n${keepAlive ? 'Connection: keep-alive\r\n' : ''}Transfer-Encoding: chunked\r\n\r\n`;
  const ping = 'GET /v3/ping HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n';
  const statusLines = (text: string): string[] => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];

  it('a bad chunk, before or after the handler reads the body, answered or not, kept alive or not, pipelined: one status line, then the connection is closed', async () => {
    // POST /v3/ping and /v3/status are answered (405) before their body is read: the bad chunk
    // that follows used to get a second answer, a raw 400.
    for (const path of [
      '/v3/env',
      '/v3/metric',
      '/v3/reload',
      '/v3/jobs/web/stop',
      '/v3/ping',
      '/v3/status',
      '/nowhere',
    ]) {
      for (const keepAlive of [false, true]) {
        const head = chunked(path, keepAlive);
        const cases: Record<string, Array<string | number>> = {
          'in the same packet': [`${head}ZZZ\r\n`],
          'after the handler started': [head, 30, 'ZZZ\r\n'],
          'after a good chunk': [head, 30, '2\r\n{"\r\n', 30, 'ZZZ\r\n'],
          'bad chunk data': [`${head}2\r\n{}ZZ\r\n`],
          'a request pipelined behind': [`${head}ZZZ\r\n${ping}`],
          'behind a pipelined ping': [`${ping}${head}ZZZ\r\n`],
        };
        for (const [name, parts] of Object.entries(cases)) {
          const answer = await rawExchange(socketPath, parts);
          const what = `${path} keep-alive=${keepAlive} ${name}: ${JSON.stringify(answer)}`;
          expect(statusLines(answer), what).toHaveLength(1);
          if (!name.startsWith('behind')) {
            expect(answer, what).toMatch(/^HTTP\/1\.1 4\d\d /);
            expect(answer, what).toMatch(/\r\n\r\n\{"error":"[^"]+"/);
          }
        }
      }
    }
    expect(target.envCalls).toBe(0);
    expect(target.recorded).toEqual([]);
    expect(target.actions).toEqual([]);
    expect((await call(socketPath, 'GET', '/v3/ping')).status).toBe(200);
  });

  it('a whole request followed by garbage is answered by its handler (and applied), once; the garbage is not answered', async () => {
    const body = '{"FROM_WHOLE":"yes"}';
    const answer = await rawExchange(socketPath, [
      `POST /v3/env HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}\x00garbage\r\n\r\n`,
    ]);
    expect(statusLines(answer), answer).toEqual(['HTTP/1.1 200']);
    expect(target.env).toEqual({ FROM_WHOLE: 'yes' });
  });

  it('a request that is not HTTP, or headers too large, get one answer with a message and a closed connection', async () => {
    for (const text of ['\x00\x01 hello\r\n\r\n', `GET /v3/ping HTTP/1.1\r\nX: ${'a'.repeat(64 * 1024)}\r\n\r\n`]) {
      const answer = await rawExchange(socketPath, [text]);
      expect(statusLines(answer), answer).toHaveLength(1);
      expect(answer).toMatch(/^HTTP\/1\.1 (400|431) [\s\S]*\r\n\r\n\{"error":"[^"]+"\}\n$/);
    }
  });
});

describe("pidpilot's endpoints", () => {
  it('GET /v3/status is the target snapshot', async () => {
    const r = await call(socketPath, 'GET', '/v3/status');
    expect([r.status, r.json.version, r.json.jobs]).toEqual([200, 't', []]);
  });

  it('jobs: unknown job 404, start/stop/restart with a timeout from the query or the body, bad timeouts 400', async () => {
    expect((await call(socketPath, 'POST', '/v3/jobs/nope/stop')).status).toBe(404);
    expect((await call(socketPath, 'POST', '/v3/jobs/web/frobnicate')).status).toBe(404);
    expect((await call(socketPath, 'POST', '/v3/jobs/web/start')).status).toBe(409);
    expect((await call(socketPath, 'POST', '/v3/jobs/web/stop?timeout=2s')).json).toEqual({
      ok: true,
      job: 'web',
      action: 'stop',
      state: 'stopped',
    });
    await call(socketPath, 'POST', '/v3/jobs/web/restart', '{"timeout":"1500ms"}');
    await call(socketPath, 'POST', '/v3/jobs/a%20b/stop', '{"timeout":3}');
    expect(target.actions).toEqual([
      { job: 'web', action: 'start' },
      { job: 'web', action: 'stop', timeoutMs: 2000 },
      { job: 'web', action: 'restart', timeoutMs: 1500 },
      { job: 'a b', action: 'stop', timeoutMs: 3000 },
    ]);
    for (const [path, body] of [
      ['/v3/jobs/web/stop?timeout=soon', undefined],
      ['/v3/jobs/web/stop?timeout=-5s', undefined],
      ['/v3/jobs/web/stop?timeout=1000h', undefined], // past what a timer can hold: it would fire at once
      ['/v3/jobs/web/stop', '{"timeout":"-"}'],
      ['/v3/jobs/web/stop', '[1]'],
      ['/v3/jobs/web/stop', '{oops'],
    ] as const) {
      expect((await call(socketPath, 'POST', path, body)).status, `${path} ${body}`).toBe(400);
    }
    expect((await call(socketPath, 'POST', '/v3/jobs/%E0%A4%A/stop')).status).toBe(400);
    expect(target.actions).toHaveLength(4);
  });

  it('scale: {"replicas": N} with a whole number reaches the target (which answers for the name); anything else is 422', async () => {
    const ok = await call(socketPath, 'POST', '/v3/jobs/workers/scale', '{"replicas":3}');
    expect([ok.status, ok.json]).toEqual([200, { ok: true, job: 'workers', replicas: 3, started: [], stopped: [] }]);
    const unknown = await call(socketPath, 'POST', '/v3/jobs/nope/scale', '{"replicas":3}');
    expect([unknown.status, unknown.json.error]).toEqual([404, 'no such job: nope']);
    for (const body of [
      undefined,
      '{}',
      '{"replicas":"3"}',
      '{"replicas":2.5}',
      '{"replicas":1e300}',
      '[3]',
      '{oops',
    ]) {
      const r = await call(socketPath, 'POST', '/v3/jobs/workers/scale', body);
      expect([r.status, typeof r.json.error], String(body)).toEqual([422, 'string']);
    }
    expect(target.scales).toEqual([
      ['workers', 3],
      ['nope', 3],
    ]);
    expect((await call(socketPath, 'GET', '/v3/jobs/workers/scale')).status).toBe(405);
  });

  it('events, runs and logs answer 503 when no history is wired in', async () => {
    target.history = null;
    for (const path of ['/v3/events', '/v3/jobs/web/runs', '/v3/jobs/web/logs']) {
      const r = await call(socketPath, 'GET', path);
      expect([r.status, r.json.error], path).toEqual([503, expect.stringMatching(/history/)]);
    }
  });

  it('GET /v3/events gives the history as NDJSON, with ?limit', async () => {
    const h = target.history!;
    h.addEvent('startup', 'global');
    h.addEvent('failed', 'db', 'last run failed');
    const r = await call(socketPath, 'GET', '/v3/events');
    expect(r.headers['content-type']).toBe('application/x-ndjson');
    expect(
      r.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).code),
    ).toEqual(['startup', 'failed']);
    const last = await call(socketPath, 'GET', '/v3/events?limit=1');
    expect(JSON.parse(last.body).reason).toBe('last run failed');
    expect((await call(socketPath, 'GET', '/v3/events?limit=-1')).status).toBe(400);
  });

  it('without ?limit, answers the last DEFAULT_HISTORY_LIMIT events, not the whole log', async () => {
    const h = target.history!;
    for (let i = 0; i < DEFAULT_HISTORY_LIMIT + 5; i++) h.addEvent('healthy', `j${i}`);
    const lines = (await call(socketPath, 'GET', '/v3/events')).body.trim().split('\n');
    expect(lines).toHaveLength(DEFAULT_HISTORY_LIMIT);
    expect(JSON.parse(lines.at(-1)!).source).toBe(`j${DEFAULT_HISTORY_LIMIT + 4}`);
  });

  it('?follow=1 sends the past, then new events as they come: no gap and no duplicate around the switch', async () => {
    const h = target.history!;
    h.addEvent('startup', 'global');
    // An event recorded while the past is being read reaches the follower and is in the past too.
    h.onRead = () => {
      h.onRead = null;
      h.addEvent('healthy', 'web');
    };
    const f = follow(socketPath, '/v3/events?follow=1');
    await until(() => f.lines.length >= 2, 'the past');
    h.addEvent('stopping', 'web');
    await until(() => f.lines.length >= 3, 'a new event');
    expect(f.lines.map((l) => JSON.parse(l).code)).toEqual(['startup', 'healthy', 'stopping']);
    expect(h.followerCount).toBe(1);
    f.close();
    await until(() => h.followerCount === 0, 'the follower to be dropped');
  });

  it('follow as server-sent events when the client asks for text/event-stream; server close ends follow streams', async () => {
    const h = target.history!;
    h.addEvent('startup', 'global');
    const f = follow(socketPath, '/v3/events?follow=1', { accept: 'text/event-stream' });
    await until(() => f.lines.length >= 1, 'the first event');
    expect(f.lines[0]).toMatch(/^data: \{.*"code":"startup"/);
    await server.close();
    expect(h.followerCount).toBe(0);
  });

  it('logs of a job, and runs', async () => {
    const h = target.history!;
    h.addLog('web', 'one');
    h.storedRuns.set('web', [
      {
        job: 'web',
        run: 1,
        pid: 5,
        startedAt: 1,
        endedAt: 2,
        durationMs: 1,
        code: 0,
        signal: null,
        outcome: 'succeeded',
      },
    ]);
    const f = follow(socketPath, '/v3/jobs/web/logs?follow=1');
    await until(() => f.lines.length >= 1, 'the first line');
    h.addLog('other', 'not mine');
    h.addLog('web', 'two', 'stderr');
    await until(() => f.lines.length >= 2, 'the second line');
    expect(f.lines.map((l) => JSON.parse(l).line)).toEqual(['one', 'two']);
    f.close();
    const runs = await call(socketPath, 'GET', '/v3/jobs/web/runs');
    expect(runs.json.runs).toHaveLength(1);
  });
});

describe('slow and abandoned clients', () => {
  it('a client that sends half its headers and waits is disconnected; others are served meanwhile', async () => {
    const closed = new Promise<string>((resolve) => {
      const c = connect(socketPath);
      let text = '';
      c.on('data', (d) => (text += d.toString()));
      c.on('close', () => resolve(text));
      c.on('error', () => {});
      c.write('POST /v3/env HTTP/1.1\r\nHost: x\r\n');
    });
    const abandoned = connect(socketPath);
    abandoned.on('error', () => {});
    abandoned.write('POST /v3/env HTTP/1.1\r\ncontent-length: 100\r\n\r\n{"A":');
    abandoned.destroy();
    expect((await call(socketPath, 'GET', '/v3/ping')).status).toBe(200);
    expect(await closed).toMatch(/^(HTTP\/1\.1 408|$)/);
    expect(target.envCalls).toBe(0);
  }, 30_000);
});

/** One ping on a raw connection: the status line, or 'reset'/'closed' when no answer came. */
function rawPing(path: string, opened?: (c: ReturnType<typeof connect>) => void): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(path);
    let text = '';
    c.on('data', (d) => (text += d.toString()));
    c.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    c.on('close', () => resolve(text.split('\r\n')[0] || 'closed'));
    c.on('connect', () => {
      opened?.(c);
      c.write('GET /v3/ping HTTP/1.1\r\nHost: x\r\n\r\n');
    });
  });
}

/** `n` connections that send half a request line and then nothing (slowloris). */
async function slowClients(path: string, n: number): Promise<Array<ReturnType<typeof connect>>> {
  const conns = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof connect>>((resolve) => {
          const c = connect(path, () => {
            c.write('GET /v3/pi');
            resolve(c);
          });
          c.on('error', () => resolve(c));
        }),
    ),
  );
  return conns;
}

describe('lock-out (issue 14 defect 6): ping stays reachable', () => {
  it('1,000 concurrent pings are all answered, none reset', async () => {
    const answers = await Promise.all(Array.from({ length: 1000 }, () => rawPing(socketPath)));
    const counts: Record<string, number> = {};
    for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
    expect(counts).toEqual({ 'HTTP/1.1 200 OK': 1000 });
  }, 120_000);

  it('past the connection bound, silent clients are evicted oldest first to let a ping in', async () => {
    const slow = await slowClients(socketPath, MAX_CONNECTIONS + 20);
    try {
      expect(await rawPing(socketPath)).toBe('HTTP/1.1 200 OK');
      await until(
        () => slow.slice(0, 20).every((c) => c.destroyed || c.readableEnded),
        'the oldest slow clients to be closed',
      );
    } finally {
      for (const c of slow) c.destroy();
    }
  }, 120_000);

  it('follow streams have a bound of their own: the one past it gets a 503 with a message, and ping still works', async () => {
    const streams = Array.from({ length: MAX_FOLLOWERS }, () => follow(socketPath, '/v3/events?follow=1'));
    try {
      await until(() => streams.every((s) => s.status() === 200), 'every stream to start');
      const extra = await call(socketPath, 'GET', '/v3/events?follow=1');
      expect([extra.status, extra.json.error]).toEqual([503, expect.stringMatching(/too many follow streams/)]);
      for (let i = 0; i < 20; i++) expect(await rawPing(socketPath)).toBe('HTTP/1.1 200 OK');
      expect((await call(socketPath, 'GET', '/v3/status')).status).toBe(200);
    } finally {
      for (const s of streams) s.close();
    }
  }, 120_000);
});

describe('connectionCap', () => {
  it('is MAX_CONNECTIONS, or a quarter of a smaller descriptor limit, never under 64', () => {
    expect([connectionCap(null), connectionCap(Infinity), connectionCap(1024), connectionCap(100)]).toEqual([
      MAX_CONNECTIONS,
      MAX_CONNECTIONS,
      256,
      64,
    ]);
  });
});
