/**
 * examples/local (layers, an env file, .env for templates, per-project places), run by the
 * built binary exactly as its header says; it exits 0 by itself.
 */
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, useHarness } from './support.js';

const h = useHarness();

it('examples/local: the local layer over the base runs to completion, with env file and .env values', async () => {
  const dir = join(ROOT, 'examples', 'local');
  const p = h().start(['-config', join(dir, 'pidpilot.json5'), '-config', join(dir, 'local.json5')], {
    env: { PIDPILOT_CONTROL_SOCKET: undefined },
  });
  const exit = await p.exited;
  const out = p.stdout().toString('utf8');
  expect(exit.code, out + p.stderrText()).toBe(0);
  expect(out).toMatch(/shop api on port 3000/);
  expect(out).toMatch(/worker-1 local worker 1 for shop/);
  expect(out).toMatch(/worker-2 local worker 2 for shop/);
  expect(out).toMatch(/mail catcher for shop/);
  expect(out).toMatch(/heartbeat 3/);
  expect(out).not.toMatch(/nightly report/);
});
