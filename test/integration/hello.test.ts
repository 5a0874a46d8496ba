/**
 * examples/hello.json5, the tour shipped with the package, run by the built binary:
 * it must run to completion and exit 0 by itself.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { indexOfLine, ROOT, stripStamp, useHarness } from './support.js';

const h = useHarness();

it('examples/hello.json5 runs to completion and exits 0 by itself', async () => {
  const p = h().start(['-config', join(ROOT, 'examples', 'hello.json5')], {
    env: { USER: 'tester', TMPDIR: h().dir },
  });
  const r = await p.waitExit(40_000);
  expect(r, p.transcript()).toEqual({ code: 0, signal: null });

  // Job output in the default format: `<timestamp> <job> <line>`.
  const out = p.lines.map((l) => stripStamp(l) ?? `(no timestamp) ${l}`);
  const at = (re: RegExp): number => {
    const i = indexOfLine(out, re);
    expect(i, `no line matching ${re}\n${p.transcript()}`).toBeGreaterThanOrEqual(0);
    return i;
  };
  const preparing = at(/^setup preparing .*\btester\b/);
  const setupDone = at(/^setup done$/);
  const listening = at(/^web listening$/);
  const announce = at(/^announce web is healthy$/);
  const closing = at(/^web closing$/);
  const goodbye = at(/^goodbye web has stopped, goodbye$/);
  expect(preparing).toBeLessThan(setupDone);
  expect(setupDone).toBeLessThan(listening);
  expect(listening).toBeLessThan(announce);
  expect(announce).toBeLessThan(closing);
  expect(closing).toBeLessThan(goodbye);

  const ticks = out.filter((l) => /^tick tick at \d\d:\d\d:\d\d$/.test(l));
  expect(ticks, p.transcript()).toHaveLength(3);
  // each one-shot said its piece once
  expect(out.filter((l) => l === 'announce web is healthy')).toHaveLength(1);
  expect(out.filter((l) => l === 'goodbye web has stopped, goodbye')).toHaveLength(1);

  // The supervisor's own lines: started first, exiting last.
  expect(out[0]).toMatch(/^pidpilot \S+ started: pid \d+, 5 jobs from /);
  expect(out.filter((l) => l === 'shutting down (every job has completed)')).toHaveLength(1);
  expect(out.at(-1), p.transcript()).toBe('pidpilot exiting with status 0');
  expect(p.stderrText()).toBe('');

  // web cleaned up its marker file (its health check used TMPDIR).
  expect(readdirSync(h().dir).filter((f) => f.startsWith('pidpilot-hello.'))).toEqual([]);
  expect(existsSync(join(h().dir, `pidpilot-hello.${p.pid}`))).toBe(false);
}, 60_000);
