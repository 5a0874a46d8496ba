/**
 * The supervisor's side of the control plane, in-process with real children: maintenance
 * through the registry and the bus, putenv reaching later children, and job actions that
 * replace a job instance without the supervisor taking the old one's end for the job's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';
import { relayLines } from '../../../src/log/relay.js';
import { Supervisor } from '../../../src/supervisor.js';
import { config, job, MemorySink } from '../../support/jobs.js';
import { MemoryRegistry } from '../../support/registry.js';

const running: Supervisor[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.shutdown('test end');
});

function start(cfg: ReturnType<typeof config>, registry?: MemoryRegistry) {
  const sink = new MemorySink();
  const { logger, lineWriter } = createLogger(cfg.logging, sink);
  const supervisor = new Supervisor(cfg, {
    log: logger,
    relay: (stream, source, name) => relayLines(stream, { job: source, stream: name, writer: lineWriter }),
    registry: registry ?? null,
  });
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
    expect([supervisor.setMaintenance(true), supervisor.setMaintenance(true), supervisor.setMaintenance(false)]).toEqual([true, false, true]);
    expect(registry.calls.filter((c) => c.startsWith('maintenance'))).toEqual(['maintenance true', 'maintenance false']);
    expect(events.filter((e) => /Maintenance/.test(e))).toEqual(['enterMaintenance:global', 'exitMaintenance:global']);
    expect(supervisor.status().maintenance).toBe(false);
  });
});

describe('putEnv', () => {
  it('changes the environment of children started afterwards', async () => {
    const { supervisor, sink } = start(
      config([job('keeper', { exec: ['sleep', '30'] }), job('echo', { exec: ['sh', '-c', 'echo "v=[$V]"'], when: { kind: 'event', source: 'SIGHUP', code: 'signal', mode: 'each' } })]),
    );
    supervisor.putEnv({ V: 'one' });
    supervisor.signalEvent('SIGHUP');
    await until(() => /v=\[one\]/.test(sink.text), 'the first echo');
    await until(() => supervisor.job('echo')!.currentState === 'pending', 'echo to finish');
    supervisor.putEnv({ V: null });
    supervisor.signalEvent('SIGHUP');
    await until(() => /v=\[\]/.test(sink.text), 'the second echo');
  });
});

describe('job actions', () => {
  it('restarting the main job gives it a new process and does not end the supervisor', async () => {
    const { supervisor } = start(config([job('web', { exec: ['sleep', '30'] }), job('side', { exec: ['sleep', '30'] })], { main: 'web' }));
    const before = await until(() => supervisor.job('web')!.snapshot().pid, 'web running');
    const r = await supervisor.jobAction('web', 'restart');
    expect(r.ok).toBe(true);
    const after = await until(() => supervisor.job('web')!.snapshot().pid, 'web running again');
    expect(after).not.toBe(before);
    expect(supervisor.status().shuttingDown).toBe(false);
    expect(await supervisor.jobAction('web', 'start')).toEqual({ ok: false, status: 409, error: expect.stringMatching(/web is running/) });
    expect(await supervisor.jobAction('nope', 'stop')).toEqual({ ok: false, status: 404, error: 'no such job: nope' });
  });

  it('a stop timeout kills a job that ignores its stop signal', async () => {
    const { supervisor, sink } = start(
      config([
        job('stubborn', { exec: ['sh', '-c', 'trap "" TERM; echo trapped; while :; do sleep 0.1; done'], stopTimeout: 3_600_000 }),
        job('side', { exec: ['sleep', '30'] }),
      ]),
    );
    await until(() => /trapped/.test(sink.text), 'the trap to be set');
    const r = await supervisor.jobAction('stubborn', 'stop', { timeoutMs: 200 });
    expect(r).toEqual({ ok: true, job: 'stubborn', action: 'stop', state: 'stopped' });
    expect(supervisor.job('stubborn')!.snapshot().lastRun?.signal).toBe('SIGKILL');
  });
});
