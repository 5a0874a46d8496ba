/** `pidpilot init` and `pidpilot init -from Procfile` through the built CLI. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHarness } from './support.js';

const h = useHarness();

describe('pidpilot init', () => {
  it('writes a starter that validates, and never overwrites', async () => {
    const cwd = h().dir;
    const first = await h().cli(['init'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/wrote pidpilot\.json5 \(2 jobs\)/);
    const text = readFileSync(join(cwd, 'pidpilot.json5'), 'utf8');
    expect(text).toMatch(/^\/\//);
    const v = await h().cli(['validate'], { cwd });
    expect(v.code, v.stderr).toBe(0);
    const again = await h().cli(['init'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists; nothing written/);
    expect(readFileSync(join(cwd, 'pidpilot.json5'), 'utf8')).toBe(text);
  });

  it('-from Procfile: one job per process type, PORT 5000, 5100 … as foreman, .env as envFile; it runs', async () => {
    const cwd = h().dir;
    writeFileSync(
      join(cwd, 'Procfile'),
      '# a comment\nweb: echo "web on $PORT with $GREETING {{ braces }}" && exit 0\n\nworker: echo "worker on $PORT"\n',
    );
    writeFileSync(join(cwd, '.env'), 'GREETING=hello\n');
    const r = await h().cli(['init', '-from', 'Procfile', '-out', 'procs.json5'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote procs\.json5 \(2 jobs from Procfile\)/);
    const run = await h().cli(['run', 'web', '-config', 'procs.json5'], { cwd });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/web on 5000 with hello \{\{ braces \}\}/);
    const worker = await h().cli(['run', 'worker', '-config', 'procs.json5'], { cwd });
    expect(worker.stdout).toMatch(/worker on 5100/);
  });

  it('-from a file that is not a Procfile says which line, and writes nothing', async () => {
    const cwd = h().dir;
    writeFileSync(join(cwd, 'Procfile'), 'web: ok\nthis is not a process type\n');
    const r = await h().cli(['init', '-from', 'Procfile'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Procfile:2: not "name: command"/);
    const v = await h().cli(['validate'], { cwd });
    expect(v.stderr).toMatch(/no configuration file/);
  });
});
