/**
 * How the built CLI starts (bin/pidpilot.js): the bundle compiled with its code cache, or
 * without it, runs the same; PIDPILOT_CPU_PROF writes a CPU profile although pidpilot
 * leaves through `_exit`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, useHarness } from './support.js';

const h = useHarness();

const oneJob = () => ({ jobs: [{ name: 'hello', exec: ['sh', '-c', 'echo hello from the first job'] }] });

it('the build wrote the code cache next to the bundle', () => {
  expect(existsSync(join(ROOT, 'dist', 'pidpilot.cjs.cache'))).toBe(true);
});

it.each([
  ['with the code cache', '1'],
  ['without it (PIDPILOT_CODE_CACHE=0)', '0'],
])(
  'runs a job and exits 0 %s',
  async (_, cache) => {
    const p = h().run(oneJob(), { env: { PIDPILOT_CODE_CACHE: cache } });
    const r = await p.waitExit(30_000);
    expect(r, p.transcript()).toEqual({ code: 0, signal: null });
    expect(
      p.lines.some((l) => l.endsWith('hello hello from the first job')),
      p.transcript(),
    ).toBe(true);
    expect(p.stderrText()).toBe('');
  },
  40_000,
);

it('PIDPILOT_CPU_PROF=FILE writes a V8 CPU profile of the whole run at exit', async () => {
  const file = join(h().dir, 'start-up.cpuprofile');
  const p = h().run(oneJob(), { env: { PIDPILOT_CPU_PROF: file } });
  const r = await p.waitExit(30_000);
  expect(r, p.transcript()).toEqual({ code: 0, signal: null });
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { callFrame: { functionName: string } }[];
    samples: number[];
  };
  expect(profile.samples.length).toBeGreaterThan(0);
  // It covers the supervisor's start-up, not only bin/pidpilot.js.
  expect(profile.nodes.some((n) => n.callFrame.functionName === 'runSupervisor')).toBe(true);
}, 40_000);
