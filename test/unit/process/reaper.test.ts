/**
 * The orphan reaper (native/reaper.c): it reaps every orphan that comes to pidpilot and
 * never the exit status of one of pidpilot's own children, with either spawn backend.
 * The stress runs in its own process (fixtures/reaper-stress.mjs, bundled from src/):
 * it makes itself a child subreaper, which the test runner must not become.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../../../src/process/native.js';
import { budget } from '../../integration/support.js';
import { bundledFixture, collect } from './helpers.js';

const FACTORY = fileURLToPath(new URL('../../fixtures/scripts/orphans.py', import.meta.url));
const stressScript = bundledFixture('reaper-stress.mjs');
const ORPHANS = 2000;
const CHILDREN = 200;

async function stress(backend: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [stressScript(), backend, String(ORPHANS), String(CHILDREN)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FACTORY, WAIT_MS: String(budget(20_000)) },
  });
  const out = collect(child.stdout);
  const code = await new Promise((resolve) => child.on('exit', resolve));
  const text = await out;
  expect(code, text).toBe(0);
  return JSON.parse(text) as Record<string, unknown>;
}

describe('reaper under stress', () => {
  it.each(['native', 'sigchld', 'node'])(
    `reaps ${ORPHANS} orphans while every child status stays exact (%s backend)`,
    async (backend) => {
      const r = await stress(backend);
      expect(r).toEqual({
        wrong: [],
        lost: 0,
        factory: { code: 0, signal: null },
        factoryOut: `orphans ${ORPHANS}`,
        reaped: ORPHANS,
        // With no child of libuv's the reaper reaps blindly, one waitpid(-1) a zombie, and
        // hands spawn.c's statuses over; the portable backend's children are libuv's, and
        // while the factory lives every zombie is peeked at first.
        peeks: backend === 'node' ? expect.any(Number) : 0,
        zombies: 0,
        subreaper: true,
      });
      if (backend === 'node') expect(r.peeks).toBeGreaterThan(0);
    },
    240_000,
  );
});

describe('reaper interface', () => {
  it('rejects a claim of something that is not a pid', () => {
    const addon = loadNativeAddon();
    expect(() => addon.claimChild(0)).toThrow(TypeError);
    expect(() => (addon.releaseChild as (p: unknown) => void)('x')).toThrow(TypeError);
  });

  it('is not running in a process that did not start it', () => {
    expect(loadNativeAddon().reaperStats()).toEqual({ reaped: 0, running: false, peeks: 0 });
  });
});
