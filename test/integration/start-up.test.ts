/**
 * How the built CLI starts (bin/pidpilot.js): the bundle compiled with its code cache, or
 * without it, runs the same; PIDPILOT_CPU_PROF writes a CPU profile although pidpilot
 * leaves through `_exit`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, useHarness } from './support.js';

const h = useHarness();

const oneJob = () => ({ jobs: [{ name: 'hello', exec: ['sh', '-c', 'echo hello from the first job'] }] });

it('the build wrote the code cache next to the bundle', () => {
  expect(existsSync(join(ROOT, 'dist', 'pidpilot.cjs.cache'))).toBe(true);
});

it('the bundle names its functions minified, and dist/pidpilot.cjs.map takes a place in it back to src/', () => {
  const bundle = readFileSync(join(ROOT, 'dist', 'pidpilot.cjs'), 'latin1');
  // Short names are what the code cache holds fewer bytes of (scripts/bundle.mjs).
  expect(bundle).not.toMatch(/\bfunction runSupervisor\(/);
  // A string of runSupervisor's, found in the bundle and looked up in the map: its line and
  // column (0-based, as V8's are 1-based in a stack trace) come from src/cli/run-supervisor.ts.
  const at = bundle.indexOf('running without a control socket: ');
  expect(at).toBeGreaterThan(0);
  const before = bundle.slice(0, at).split('\n');
  const map = new SourceMap(JSON.parse(readFileSync(join(ROOT, 'dist', 'pidpilot.cjs.map'), 'utf8')));
  const entry = map.findEntry(before.length - 1, before[before.length - 1].length) as { originalSource?: string };
  expect(entry.originalSource).toMatch(/src\/cli\/run-supervisor\.ts$/);
});

/** What a fresh `node` says of `cache` when it compiles the bundle as bin/pidpilot.js does. */
function cacheRejected(cache: string): string {
  // As bin/pidpilot.js reads them: both files into one buffer, the cache a view of it.
  const check = `const fs = require('node:fs'), vm = require('node:vm'), [file, cache] = process.argv.slice(1);
const buf = Buffer.allocUnsafeSlow(4 << 20);
const source = buf.toString('latin1', 0, fs.readFileSync(file).copy(buf));
const cachedData = buf.subarray(0, fs.readFileSync(cache).copy(buf));
const s = new vm.Script(source, { filename: file, cachedData });
process.stdout.write(String(s.cachedDataRejected));`;
  const r = spawnSync(process.execPath, ['-e', check, join(ROOT, 'dist', 'pidpilot.cjs'), cache], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

it('V8 accepts the code cache the build wrote', () => {
  expect(cacheRejected(join(ROOT, 'dist', 'pidpilot.cjs.cache'))).toBe('false');
});

it('a code cache written as a run leaves is accepted, though the run changed V8 flags (start burst, shutdown)', async () => {
  const cache = join(h().dir, 'written.cache');
  const p = h().run(
    { jobs: [{ name: 'long', exec: ['sh', '-c', 'echo up; exec sleep 30'] }] },
    { env: { PIDPILOT_WRITE_CODE_CACHE: cache } },
  );
  await p.waitForLine(/long up$/); // the job is running: the start burst's flags were set and put back
  p.signal('SIGTERM'); // the shutdown turns TurboFan off
  const r = await p.waitExit(30_000);
  expect(r, p.transcript()).toEqual({ code: 0, signal: null });
  expect(cacheRejected(cache)).toBe('false');
}, 40_000);

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
