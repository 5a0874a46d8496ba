/**
 * Per-project places (src/state/dir.ts): two supervisors of two projects on one machine,
 * neither PID 1 and neither naming a socket or a state dir, each get their own control
 * socket and history, and the client commands find each from its config alone.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHarness } from './support.js';

const h = useHarness();

describe('per-project control socket and state dir', () => {
  it('two projects run side by side; status and -ping find each from -config', async () => {
    const env = { PIDPILOT_CONTROL_SOCKET: undefined };
    const files = ['shop', 'blog'].map((name) => {
      mkdirSync(h().path(name));
      return h().writeConfig(
        { jobs: [{ name: `${name}-web`, exec: ['sleep', h().uniqueArg()] }] },
        join(name, 'pidpilot.json5'),
      );
    });
    const runs = files.map((file) => h().start(['-config', file], { env }));
    const sockets: string[] = [];
    for (const run of runs) {
      const line = await run.waitForLine(/control socket (\S+)$/);
      sockets.push(/control socket (\S+)$/.exec(line)![1]!);
    }
    expect(sockets[0]).not.toBe(sockets[1]);
    for (const s of sockets) {
      expect(s.startsWith(join(h().dir, 'pidpilot'))).toBe(true);
      expect(statSync(join(s, '..')).mode & 0o777).toBe(0o700);
    }
    // Both record history (the second is not "without history" for sharing the first's dir).
    for (const run of runs) expect(run.stdout().toString('utf8')).not.toMatch(/history is not recorded/);
    for (const [i, file] of files.entries()) {
      const status = await h().cli(['status', '-config', file, '--json'], { env });
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout).jobs.map((j: { name: string }) => j.name)).toEqual([
        i === 0 ? 'shop-web' : 'blog-web',
      ]);
      const events = await h().cli(['events', '-config', file], { env });
      expect(events.code, events.stderr).toBe(0);
    }
    for (const run of runs) run.signal('SIGTERM');
    for (const run of runs) expect((await run.exited).code).toBe(0);
    const gone = await h().cli(['-ping', '-config', files[0]!], { env });
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/not running/);
  });
});
