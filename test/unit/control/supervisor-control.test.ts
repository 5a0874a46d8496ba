/**
 * The supervisor's side of the control plane, in-process with real children: maintenance
 * through the registry and the bus, putenv reaching later children, and job actions that
 * replace a job instance without the supervisor taking the old one's end for the job's.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runModeConfig } from '../../../src/cli/run.js';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { MAX_ENV_BYTES, MAX_ENV_ENTRY_BYTES } from '../../../src/control/env-limits.js';
import { HttpError } from '../../../src/control/http.js';
import { createLogger } from '../../../src/log/logger.js';
import { relayLines } from '../../../src/log/relay.js';
import { Supervisor } from '../../../src/supervisor.js';
import { config, job, MemorySink } from '../../support/jobs.js';
import { MemoryRegistry } from '../../support/registry.js';

const running: Supervisor[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.shutdown('test end');
});

function start(cfg: ReturnType<typeof config>, registry?: MemoryRegistry, narrow?: (c: Config) => Config) {
  const sink = new MemorySink();
  const { logger, lineWriter } = createLogger(cfg.logging, sink);
  const supervisor = new Supervisor(cfg, {
    log: logger,
    relay: (stream, source, name) => relayLines(stream, { job: source, stream: name, writer: lineWriter }),
    ...(narrow ? { narrow } : {}),
  });
  // Discovery attaches from outside; here only its maintenance hook, on a registry in memory.
  if (registry) supervisor.attach({ maintenance: (on) => registry.setMaintenance(on) });
  const events: string[] = [];
  supervisor.bus.observe((e) => events.push(`${e.code}:${e.source}`));
  const done = supervisor.run();
  running.push(supervisor);
  return { supervisor, sink, events, done };
}

async function until<T>(fn: () => T | null | undefined | false, what: string): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('maintenance', () => {
  it('goes through the registry and publishes enter/exitMaintenance once per change', () => {
    const registry = new MemoryRegistry();
    const { supervisor, events } = start(config([job('web', { exec: ['sleep', '30'] })]), registry);
    expect([
      supervisor.setMaintenance(true),
      supervisor.setMaintenance(true),
      supervisor.setMaintenance(false),
    ]).toEqual([true, false, true]);
    expect(registry.calls.filter((c) => c.startsWith('maintenance'))).toEqual([
      'maintenance true',
      'maintenance false',
    ]);
    expect(events.filter((e) => /Maintenance/.test(e))).toEqual(['enterMaintenance:global', 'exitMaintenance:global']);
    expect(supervisor.status().maintenance).toBe(false);
  });
});

describe('putEnv', () => {
  it('changes the environment of children started afterwards', async () => {
    const { supervisor, sink } = start(
      config([
        job('keeper', { exec: ['sleep', '30'] }),
        job('echo', {
          exec: ['sh', '-c', 'echo "v=[$V]"'],
          when: { kind: 'event', source: 'SIGHUP', code: 'signal', mode: 'each' },
        }),
      ]),
    );
    supervisor.putEnv({ V: 'one' });
    supervisor.signalEvent('SIGHUP');
    await until(() => /v=\[one\]/.test(sink.text), 'the first echo');
    await until(() => supervisor.job('echo')!.currentState === 'pending', 'echo to finish');
    supervisor.putEnv({ V: null });
    supervisor.signalEvent('SIGHUP');
    await until(() => /v=\[\]/.test(sink.text), 'the second echo');
  });

  it('refuses to grow the environment past MAX_ENV_BYTES (changing nothing); children still spawn; shrinking is allowed', async () => {
    const { supervisor, sink } = start(
      config([
        job('keeper', { exec: ['sleep', '30'] }),
        job('echo', {
          exec: ['sh', '-c', 'echo "n=[${#BIG0}] w=[$W]"'],
          when: { kind: 'event', source: 'SIGHUP', code: 'signal', mode: 'each' },
        }),
      ]),
    );
    const value = 'x'.repeat(MAX_ENV_ENTRY_BYTES - 100);
    let refused: unknown = null;
    for (let i = 0; i < 20 && refused === null; i++) {
      try {
        supervisor.putEnv({ [`BIG${i}`]: value, W: String(i) });
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).status).toBe(422);
    expect((refused as HttpError).message).toMatch(/over the 1048576 bytes .*nothing was changed/);
    supervisor.signalEvent('SIGHUP');
    // W is the value of the last accepted request: the refused one changed nothing; and the spawn works (no E2BIG).
    const accepted = Math.floor(MAX_ENV_BYTES / MAX_ENV_ENTRY_BYTES) - 1;
    await until(() => new RegExp(`n=\\[${value.length}\\] w=\\[(\\d+)\\]`).exec(sink.text), 'the echo');
    const w = Number(/w=\[(\d+)\]/.exec(sink.text)![1]);
    expect(w).toBeGreaterThanOrEqual(accepted - 1);
    expect(() => supervisor.putEnv({ BIG0: null })).not.toThrow();
  });

  it('cannot take CONTAINERPILOT_PID away from children', async () => {
    const { supervisor, sink } = start(
      config([
        job('keeper', { exec: ['sleep', '30'] }),
        job('echo', {
          exec: ['sh', '-c', 'echo "pid=[$CONTAINERPILOT_PID]"'],
          when: { kind: 'event', source: 'SIGHUP', code: 'signal', mode: 'each' },
        }),
      ]),
    );
    supervisor.putEnv({ CONTAINERPILOT_PID: null });
    supervisor.signalEvent('SIGHUP');
    await until(() => sink.text.includes(`pid=[${process.pid}]`), 'the echo with pidpilot’s pid');
  });
});

describe('reload', () => {
  const write = (file: string, v: number, jobs: string) =>
    writeFileSync(file, `{ jobs: [${jobs.replaceAll('@V@', String(v))}] }`);

  it('a dependent listed before its dependency, both changed, starts again instead of failing on the old instance', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pidpilot-reload-')), 'pidpilot.json5');
    const jobs = `{ name: "app", exec: ["sleep", "30"], env: { V: "@V@" }, dependsOn: [{ job: "db", condition: "started" }] },
                  { name: "db", exec: ["sleep", "30"], env: { V: "@V@" } }`;
    write(file, 1, jobs);
    const { supervisor } = start(loadConfig(file, {}));
    const before = await until(() => supervisor.job('app')!.snapshot().pid, 'app running');
    write(file, 2, jobs);
    expect(await supervisor.reload()).toMatchObject({ ok: true, restarted: ['app', 'db'] });
    const after = await until(() => supervisor.job('app')!.snapshot().pid, 'the new app running');
    expect(after).not.toBe(before);
    expect(supervisor.job('app')!.currentState).toBe('running');
  });

  it('in run mode, a reload keeps to the target and what it needs', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pidpilot-reload-')), 'pidpilot.json5');
    const jobs = `{ name: "target", exec: ["sleep", "30"], env: { V: "@V@" } }, { name: "other", exec: ["sleep", "30"] }`;
    write(file, 1, jobs);
    const narrow = (c: Config) => runModeConfig(c, 'target');
    const { supervisor } = start(narrow(loadConfig(file, {})), undefined, narrow);
    write(file, 2, jobs);
    expect(await supervisor.reload()).toMatchObject({ ok: true, restarted: ['target'], started: [] });
    expect(supervisor.status().jobs.map((j) => j.name)).toEqual(['target']);
    expect(supervisor.config.main).toBe('target');
  });

  it('a reload that leaves nothing to run lets pidpilot end', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pidpilot-reload-')), 'pidpilot.json5');
    write(file, 1, '{ name: "web", exec: ["sleep", "30"] }');
    const { supervisor, done } = start(loadConfig(file, {}));
    await until(() => supervisor.job('web')!.snapshot().pid, 'web running');
    write(file, 1, '{ name: "once", exec: ["true"], when: { source: "web", once: "stopped" } }');
    expect(await supervisor.reload()).toMatchObject({ ok: true, stopped: ['web'], started: ['once'] });
    expect(await done).toBe(0);
  });
});

describe('job actions', () => {
  it('restarting the main job gives it a new process and does not end the supervisor', async () => {
    const { supervisor } = start(
      config([job('web', { exec: ['sleep', '30'] }), job('side', { exec: ['sleep', '30'] })], { main: 'web' }),
    );
    const before = await until(() => supervisor.job('web')!.snapshot().pid, 'web running');
    const r = await supervisor.jobAction('web', 'restart');
    expect(r.ok).toBe(true);
    const after = await until(() => supervisor.job('web')!.snapshot().pid, 'web running again');
    expect(after).not.toBe(before);
    expect(supervisor.status().shuttingDown).toBe(false);
    expect(await supervisor.jobAction('web', 'start')).toEqual({
      ok: false,
      status: 409,
      error: expect.stringMatching(/web is running/),
    });
    expect(await supervisor.jobAction('nope', 'stop')).toEqual({ ok: false, status: 404, error: 'no such job: nope' });
  });

  it('a stop timeout kills a job that ignores its stop signal', async () => {
    const { supervisor, sink } = start(
      config([
        job('stubborn', {
          exec: ['sh', '-c', 'trap "" TERM; echo trapped; while :; do sleep 0.1; done'],
          stopTimeout: 3_600_000,
        }),
        job('side', { exec: ['sleep', '30'] }),
      ]),
    );
    await until(() => /trapped/.test(sink.text), 'the trap to be set');
    const r = await supervisor.jobAction('stubborn', 'stop', { timeoutMs: 200 });
    expect(r).toEqual({ ok: true, job: 'stubborn', action: 'stop', state: 'stopped' });
    expect(supervisor.job('stubborn')!.snapshot().lastRun?.signal).toBe('SIGKILL');
  });
});
