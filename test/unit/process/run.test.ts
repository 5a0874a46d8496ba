/**
 * ProcessRun: outcomes, timeout, stop and kill (docs/lifecycle.md, docs/processes.md), against both spawn
 * implementations.
 */
import { describe, expect, it } from 'vitest';
import { killAllGroups, numberedRun, ProcessRun, type RunOptions, type RunResult } from '../../../src/process/run.js';
import { BACKENDS, collect, firstLine, isDead, PATH, spawner, waitFor } from './helpers.js';

describe.each(BACKENDS)('ProcessRun (%s)', (kind) => {
  const start = (argv: string[], more: Partial<RunOptions> = {}): ProcessRun =>
    ProcessRun.start({
      argv,
      env: { PATH },
      stdout: 'pipe',
      stderr: 'pipe',
      stopSignal: 'SIGTERM',
      spawn: spawner(kind),
      ...more,
    });

  it('records a successful run', async () => {
    const before = Date.now();
    const run = start(['true'], { stdout: 'ignore', stderr: 'ignore' });
    expect(run.pid).toBeGreaterThan(0);
    expect(run.child?.pid).toBe(run.pid);
    const r = await run.result;
    expect(r).toMatchObject({ pid: run.pid, code: 0, signal: null, outcome: 'succeeded' });
    expect(r.reason).toBeUndefined();
    expect(r.startedAt).toBeGreaterThanOrEqual(before);
    expect(r.endedAt).toBeGreaterThanOrEqual(r.startedAt);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(run.running).toBe(false);
  });

  it('records a non-zero exit as failed', async () => {
    const r = await start(['sh', '-c', 'exit 7'], { stdout: 'ignore', stderr: 'ignore' }).result;
    expect(r).toMatchObject({ code: 7, signal: null, outcome: 'failed' });
  });

  it('records death by a signal as failed, with the signal', async () => {
    const r = await start(['sh', '-c', 'kill -KILL $$'], { stdout: 'ignore', stderr: 'ignore' }).result;
    expect(r).toMatchObject({ code: null, signal: 'SIGKILL', outcome: 'failed' });
  });

  it('records a spawn failure as errored, without a pid, and never throws', async () => {
    const run = start(['no-such-program-xyz']);
    expect(run.pid).toBeNull();
    expect(run.child).toBeNull();
    const r = await run.result;
    expect(r).toMatchObject({ pid: null, code: null, signal: null, outcome: 'errored' });
    expect(r.reason).toBe(`ENOENT: exec "no-such-program-xyz": not found in PATH (${PATH})`);
    await run.stop(100, 'stop'); // harmless
    run.kill();
  });

  it('records a timeout as errored with reason timeout, after stopSignal', async () => {
    const run = start(['sh', '-c', 'echo ready; exec sleep 30'], { timeout: 300 });
    const r = await run.result;
    expect(r).toMatchObject({ outcome: 'errored', reason: 'timeout', signal: 'SIGTERM', code: null });
  });

  it('escalates a timeout to SIGKILL when stopSignal is ignored', async () => {
    // Generous: the trap must be set before the timeout fires, even on a loaded machine.
    const run = start(['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done'], { timeout: 3000 });
    const r = await run.result;
    expect(r).toMatchObject({ outcome: 'errored', reason: 'timeout', signal: 'SIGKILL' });
  });

  it('does not confuse a child exiting 124 with a timeout', async () => {
    const r = await start(['sh', '-c', 'exit 124'], { timeout: 20_000 }).result;
    expect(r).toMatchObject({ outcome: 'failed', code: 124, signal: null });
    expect(r.reason).toBeUndefined();
  });

  it('stop(): stopSignal to the group, then SIGKILL after the grace; recorded aborted', async () => {
    const run = start(['sh', '-c', 'trap "echo got TERM" TERM; echo ready; while :; do sleep 0.05; done'], {
      stopSignal: 'SIGTERM',
    });
    const out = collect(run.child?.stdout ?? null);
    // The trap is set once "ready" is printed.
    const lines: string[] = [];
    run.child?.stdout?.on('data', (c: Buffer) => lines.push(c.toString()));
    await waitFor('ready', () => lines.join('').includes('ready'));
    // The trap runs between two sleeps and the loop goes on, so SIGKILL follows the grace.
    await run.stop(1500, 'shutdown');
    const r = await run.result;
    expect(r).toMatchObject({ outcome: 'aborted', reason: 'shutdown', signal: 'SIGKILL' });
    expect(await out).toContain('got TERM');
  });

  it('stop(): a child that obeys stopSignal ends with it', async () => {
    const run = start(['sleep', '30'], { stopSignal: 'SIGINT' });
    await run.stop(10_000, 'reload');
    expect(await run.result).toMatchObject({ outcome: 'aborted', reason: 'reload', signal: 'SIGINT' });
  });

  it('stop() after a timeout fired keeps the run errored', async () => {
    // The child reports the timeout's stop signal, so the test knows it fired without reading a clock.
    const run = start(['sh', '-c', 'trap "echo TERM" TERM; echo ready; while :; do sleep 0.05; done'], {
      timeout: 1000,
    });
    const lines: string[] = [];
    run.child?.stdout?.on('data', (c: Buffer) => lines.push(c.toString()));
    await waitFor('the timeout', () => lines.join('').includes('TERM'), 20_000);
    await run.stop(5000, 'stop');
    expect(await run.result).toMatchObject({ outcome: 'errored', reason: 'timeout' });
  });

  it('kill(): SIGKILL to the group at once; recorded aborted', async () => {
    const run = start(['sh', '-c', 'trap "" TERM; sleep 30 & echo $!; wait']);
    const grandchild = Number(await firstLine(run.child?.stdout ?? null));
    run.kill('shutdown');
    expect(await run.result).toMatchObject({ outcome: 'aborted', reason: 'shutdown', signal: 'SIGKILL' });
    await waitFor('the grandchild to die', () => isDead(grandchild));
  });

  it('kills the rest of the group when the main process exits', async () => {
    const run = start(['sh', '-c', 'trap "" TERM HUP; sleep 30 & echo $!; exit 3']);
    const grandchild = Number(await firstLine(run.child?.stdout ?? null));
    expect(await run.result).toMatchObject({ outcome: 'failed', code: 3 });
    await waitFor('the grandchild to die', () => isDead(grandchild));
  });

  it('killAllGroups() kills every live group', async () => {
    const runs = [start(['sleep', '30']), start(['sh', '-c', 'trap "" TERM; sleep 30'])];
    expect(killAllGroups()).toBeGreaterThanOrEqual(2);
    const results = await Promise.all(runs.map((r) => r.result));
    for (const r of results) expect(r).toMatchObject({ outcome: 'failed', signal: 'SIGKILL' });
    expect(killAllGroups()).toBe(0);
  });
});

describe('numberedRun', () => {
  it('is the result with its number first, as a spread gives it (the history writes this order)', () => {
    const ok: RunResult = {
      pid: 7,
      startedAt: 1,
      endedAt: 2,
      durationMs: 1.5,
      code: 0,
      signal: null,
      outcome: 'succeeded',
    };
    // Required<>: a field added to RunResult fails to typecheck here until it is listed, and then
    // this test fails until numberedRun copies it.
    const aborted: Required<RunResult> = {
      ...ok,
      code: null,
      signal: 'SIGTERM',
      outcome: 'aborted',
      reason: 'stop',
      cleanup: [],
    };
    for (const result of [ok, aborted]) {
      expect(JSON.stringify(numberedRun(3, result))).toBe(JSON.stringify({ run: 3, ...result }));
    }
    expect('reason' in numberedRun(1, ok)).toBe(false);
  });
});
