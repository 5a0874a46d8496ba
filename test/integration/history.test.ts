/**
 * History (docs/history.md) through the built binary: events, run records and captured output
 * survive pidpilot — even a SIGKILL in the middle of a job flooding its output — and the
 * next pidpilot on the same state dir reads them back and carries on appending.
 */
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openHistory } from '../../src/state/offline.js';
import { until, useHarness } from './support.js';

const h = useHarness();

describe('history in the state dir', () => {
  it('survives a SIGKILL while a job floods its output, and a restart reads and extends it', async () => {
    const state = h().path('state');
    const flood = h().run({
      logging: { output: h().path('flood.log') },
      state: { dir: state },
      jobs: [{ name: 'flood', exec: ['yes', 'history-flood-line'] }],
    });
    const logFile = join(state, 'logs', 'flood.log');
    // Killed once its output has rotated at least once: writes are going on all the time.
    // (The current file is missing for a moment while it rotates.)
    await until(
      () => existsSync(`${logFile}.1`) && (statSync(logFile, { throwIfNoEntry: false })?.size ?? 0) > 0,
      'the flood to be captured and rotated',
    );
    flood.signal('SIGKILL');
    expect(await flood.waitExit()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(readFileSync(join(state, 'pidpilot.lock'), 'utf8')).toBe(`${flood.pid}\n`); // left behind

    const after = openHistory(state);
    const lines = await after.logs('flood');
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines.every((l) => l.line === 'history-flood-line' && l.stream === 'stdout' && l.job === 'flood')).toBe(
      true,
    );
    const first = await after.events();
    expect(first[0]).toMatchObject({ seq: 1, code: 'startup', source: 'global' });
    expect(after.stats.corrupt).toBe(0);

    // As if the kill had cut a write in half: the torn line is ignored, then kept on its own line.
    appendFileSync(join(state, 'events.jsonl'), '{"seq":99,"time":1,"co');

    const second = h().run({
      state: { dir: state },
      jobs: [{ name: 'once', exec: ['sh', '-c', 'echo second-boot-line; exit 4'] }],
    });
    expect(await second.waitExit(), second.transcript()).toEqual({ code: 0, signal: null });
    expect(second.matching(/history is not recorded/, 'any')).toEqual([]);

    const reread = openHistory(state);
    const events = await reread.events();
    const boots = [...new Set(events.map((e) => e.boot))];
    expect(boots).toHaveLength(2);
    expect(events.filter((e) => e.code === 'startup')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ code: 'shutdown', boot: boots[1] });
    expect(events.find((e) => e.code === 'failed' && e.source === 'once')).toMatchObject({
      reason: 'last run failed: exit code 4',
      boot: boots[1],
    });
    expect(reread.stats.corrupt).toBe(1); // the torn line
    expect((await reread.runs('once')).map((r) => [r.run, r.outcome, r.code])).toEqual([[1, 'failed', 4]]);
    expect((await reread.logs('once')).map((l) => l.line)).toEqual(['second-boot-line']);
    expect((await reread.logs('flood', { limit: 5 })).map((l) => l.line)).toEqual(Array(5).fill('history-flood-line'));
    expect(existsSync(join(state, 'pidpilot.lock'))).toBe(false);
  }, 60_000);

  it('a second pidpilot on a state dir in use says so and runs without history', async () => {
    const state = h().path('state');
    const first = h().run({ state: { dir: state }, jobs: [{ name: 'holder', exec: ['sleep', h().uniqueArg()] }] });
    await until(() => existsSync(join(state, 'pidpilot.lock')), 'the first pidpilot to lock the state dir');
    // Its own control socket: only the state dir is shared.
    const file = h().writeConfig(
      {
        state: { dir: state },
        control: { socket: h().path('second.sock') },
        jobs: [{ name: 'other', exec: ['echo', 'other-ran'] }],
      },
      'second.json5',
    );
    const second = h().start(['-config', file]);
    expect(await second.waitExit(), second.transcript()).toEqual({ code: 0, signal: null });
    expect(
      second.matching(/history is not recorded: state dir .* is in use by another pidpilot \(pid \d+\)/),
    ).toHaveLength(1);
    expect(second.matching(/other-ran/)).toHaveLength(1);
    expect(await openHistory(state).logs('other')).toEqual([]);
    first.signal('SIGTERM');
    expect(await first.waitExit()).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('a state dir that cannot be made is reported and the jobs run without history', async () => {
    const p = h().run({
      state: { dir: '/proc/pidpilot-no-such/state' },
      jobs: [{ name: 'still', exec: ['echo', 'still-ran'] }],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/history is not recorded: ENOENT/)).toHaveLength(1);
    expect(p.matching(/still-ran/)).toHaveLength(1);
  }, 60_000);
});
