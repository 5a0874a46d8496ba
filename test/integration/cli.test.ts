/**
 * The CLI of the built binary: config errors (all reported, with positions, nothing
 * started, exit 2), `validate [--json]`, config lookup, `-version`, `-template`/`render`,
 * and usage errors.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { esc, ROOT, sleep, until, useHarness } from './support.js';

const h = useHarness();

/** 1-based line and column of the first occurrence of `needle` in `text`. */
function posOf(text: string, needle: string): { line: number; column: number } {
  const idx = text.indexOf(needle);
  if (idx < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, idx);
  return { line: before.split('\n').length, column: idx - (before.lastIndexOf('\n') + 1) + 1 };
}

/** A config with exactly three mistakes; its first job would create a file if it ever ran. */
function threeMistakes(created: string): string {
  return `// three mistakes, one per job
{
  jobs: [
    {
      name: "maker",
      exec: ["sh", "-c", "touch ${created}"],
      stopTimout: "5s",
    },
    {
      name: "web",
      exec: "sleep 1",
      restarts: "sometimes",
    },
    {
      name: "checker",
      exec: "true",
      when: { interval: "five seconds" },
    },
  ],
}
`;
}

describe('configuration errors', () => {
  it('reports all three mistakes with file:line:col and path, starts nothing, exits 2', async () => {
    const created = h().path('created-by-maker');
    const text = threeMistakes(created);
    const file = h().writeConfig(text);
    const { code, signal, stderr, stdout } = await h().cli(['-config', file]);
    expect(signal).toBeNull();
    expect(code).toBe(2);

    const unknown = posOf(text, 'stopTimout');
    const restarts = posOf(text, '"sometimes"');
    const interval = posOf(text, '"five seconds"');
    expect(stderr).toMatch(/3 configuration errors/);
    expect(stderr).toMatch(
      new RegExp(
        `${esc(file)}:${unknown.line}:${unknown.column}: jobs\\[0\\]\\.stopTimout: unknown field .*did you mean .?stopTimeout`,
      ),
    );
    expect(stderr).toMatch(
      new RegExp(`${esc(file)}:${restarts.line}:${restarts.column}: jobs\\[1\\]\\.restarts: .*sometimes`),
    );
    expect(stderr).toMatch(
      new RegExp(`${esc(file)}:${interval.line}:${interval.column}: jobs\\[2\\]\\.when\\.interval: .*five seconds`),
    );
    // Exactly three error lines.
    expect(stderr.split('\n').filter((l) => l.startsWith(`  ${file}:`))).toHaveLength(3);
    // Nothing ran: no log of a start, and the file the first job would create is not there.
    expect(stdout).not.toMatch(/started/);
    await sleep(300); // a process started by mistake would have had time to touch its file
    expect(existsSync(created)).toBe(false);
  });

  it('validate reports the same errors and exits 2 without running anything', async () => {
    const created = h().path('created-by-maker');
    const file = h().writeConfig(threeMistakes(created));
    const { code, stderr } = await h().cli(['validate', '-config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/3 configuration errors/);
    expect(stderr).toMatch(/jobs\[0\]\.stopTimout/);
    expect(stderr).toMatch(/jobs\[1\]\.restarts/);
    expect(stderr).toMatch(/jobs\[2\]\.when\.interval/);
    expect(existsSync(created)).toBe(false);
  });

  it('validate of a file full of mistakes counts them all and lists the first hundred', async () => {
    const file = h().writeConfig(`{ jobs: [\n${'  0,\n'.repeat(1000)}] }\n`);
    const { code, stderr } = await h().cli(['validate', '-config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^pidpilot: 1000 configuration errors:/m);
    expect(stderr.split('\n').filter((l) => l.startsWith(`  ${file}:`))).toHaveLength(101);
    expect(stderr).toMatch(/: and 900 more problems \(only the first 100 are listed\)$/m);
  });

  it('validate --json prints machine-readable errors', async () => {
    const text = threeMistakes(h().path('x'));
    const file = h().writeConfig(text);
    const { code, stdout } = await h().cli(['validate', '--json', '-config', file]);
    expect(code).toBe(2);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const doc = JSON.parse(lines[0]!) as {
      valid: boolean;
      file: string;
      errors: Array<{
        file: string;
        line?: number;
        column?: number;
        path: string;
        message: string;
        expected?: string;
        suggestion?: string;
      }>;
    };
    expect(doc.valid).toBe(false);
    expect(doc.file).toBe(file);
    expect(doc.errors).toHaveLength(3);
    const byPath = new Map(doc.errors.map((e) => [e.path, e]));
    expect([...byPath.keys()].sort()).toEqual(['jobs[0].stopTimout', 'jobs[1].restarts', 'jobs[2].when.interval']);
    for (const e of doc.errors) {
      expect(e.file).toBe(file);
      expect(typeof e.message).toBe('string');
      expect(e.line).toBeGreaterThan(0);
      expect(e.column).toBeGreaterThan(0);
    }
    expect(byPath.get('jobs[0].stopTimout')).toMatchObject({ ...posOf(text, 'stopTimout'), suggestion: 'stopTimeout' });
    expect(byPath.get('jobs[1].restarts')).toMatchObject(posOf(text, '"sometimes"'));
    expect(byPath.get('jobs[2].when.interval')).toMatchObject(posOf(text, '"five seconds"'));
  });

  it('validate --json on a valid file', async () => {
    const file = h().writeConfig({ jobs: [{ name: 'one', exec: 'true' }] });
    const { code, stdout } = await h().cli(['validate', '--json', '-config', file]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ valid: true, file, errors: [], warnings: [] });
  });

  it('suggests the nearest known name for an unknown field', async () => {
    const file = h().writeConfig(`{
  logging: { levle: "DEBUG" },
  jobs: [{ name: "one", exce: "true", helth: { exec: "true", interval: 1, ttl: 5 } }],
}
`);
    const { code, stderr } = await h().cli(['validate', '-config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/logging\.levle: unknown field `levle`; did you mean `level`\?/);
    expect(stderr).toMatch(/jobs\[0\]\.exce: unknown field `exce`; did you mean `exec`\?/);
    expect(stderr).toMatch(/jobs\[0\]\.helth: unknown field `helth`; did you mean `health`\?/);
  });

  it('a missing configuration is a usage error (exit 2)', async () => {
    const { code, stderr, stdout } = await h().cli([], { cwd: h().dir });
    expect(stderr).toMatch(/^pidpilot: no configuration file: pass -config PATH/);
    expect(stderr).not.toMatch(/fatal/);
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it('a missing configuration is a usage error for validate and render too (exit 2)', async () => {
    for (const args of [['validate'], ['render'], ['-template']]) {
      const { code, stderr } = await h().cli(args, { cwd: h().dir });
      expect(stderr, args.join(' ')).toMatch(/^pidpilot: no configuration file/);
      expect(code, args.join(' ')).toBe(2);
    }
  });

  it('a configuration file that does not exist is a config error (exit 2)', async () => {
    const { code, stderr } = await h().cli(['-config', h().path('nope.json5')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/nope\.json5.*cannot read the configuration file: no such file/);
  });
});

describe('finding the configuration', () => {
  /** A config whose one job says `word`; pidpilot exits 0 by itself after it. */
  function sayer(word: string): object {
    return { jobs: [{ name: 'say', exec: ['echo', word] }] };
  }

  async function expectRunSays(
    args: string[],
    word: string,
    env: Record<string, string | undefined> = {},
    cwd?: string,
  ): Promise<void> {
    const p = h().start(args, { env, ...(cwd ? { cwd } : {}) });
    const r = await p.waitExit();
    expect(r, p.transcript()).toEqual({ code: 0, signal: null });
    expect(
      p.lines.some((l) => new RegExp(` say ${word}$`).test(l)),
      p.transcript(),
    ).toBe(true);
  }

  it('-config=FILE', async () => {
    const file = h().writeConfig(sayer('eq-form'), 'a.json5');
    await expectRunSays([`-config=${file}`], 'eq-form');
  });

  it('--config FILE and --config=FILE', async () => {
    const file = h().writeConfig(sayer('double-dash'), 'b.json5');
    await expectRunSays(['--config', file], 'double-dash');
    await expectRunSays([`--config=${file}`], 'double-dash');
  });

  it('env PIDPILOT', async () => {
    const file = h().writeConfig(sayer('from-pidpilot-env'), 'c.json5');
    await expectRunSays([], 'from-pidpilot-env', { PIDPILOT: file }, h().dir);
  });

  it('env CONTAINERPILOT', async () => {
    const file = h().writeConfig(sayer('from-containerpilot-env'), 'd.json5');
    await expectRunSays([], 'from-containerpilot-env', { CONTAINERPILOT: file }, h().dir);
  });

  it('./pidpilot.json5 in the working directory', async () => {
    h().writeConfig(sayer('from-cwd'), 'pidpilot.json5');
    await expectRunSays([], 'from-cwd', {}, h().dir);
  });

  it('precedence: -config, then PIDPILOT, then CONTAINERPILOT, then ./pidpilot.json5', async () => {
    for (const n of ['flag', 'pp', 'cp', 'pidpilot']) h().writeConfig(sayer(n), `${n}.json5`);
    const env = { PIDPILOT: h().path('pp.json5'), CONTAINERPILOT: h().path('cp.json5') };
    const which = async (args: string[], e: Record<string, string | undefined>): Promise<string> => {
      const { code, stdout, stderr } = await h().cli(['validate', ...args], { cwd: h().dir, env: e });
      expect(code, stderr).toBe(0);
      return stdout;
    };
    // validate names the file it loaded (as an absolute path)
    const ok = (name: string): string => `${h().path(name)}: OK (1 job, 0 watches)\n`;
    expect(await which(['-config', 'flag.json5'], env)).toBe(ok('flag.json5'));
    expect(await which([], env)).toBe(ok('pp.json5'));
    expect(await which([], { CONTAINERPILOT: env.CONTAINERPILOT })).toBe(ok('cp.json5'));
    expect(await which([], {})).toBe(ok('pidpilot.json5'));
  });
});

describe('clients without a configuration file', () => {
  it('-ping and status find the supervisor through PIDPILOT_CONTROL_SOCKET alone; without it, no configuration is exit 2', async () => {
    const file = h().writeConfig({ jobs: [{ name: 'web', exec: ['sleep', h().uniqueArg()] }] }, 'elsewhere.json5');
    const p = h().start(['-config', file]);
    await until(() => existsSync(h().socketPath), 'the control socket');
    const empty = h().path('empty');
    mkdirSync(empty);
    // The harness sets PIDPILOT_CONTROL_SOCKET for every command it starts; PIDPILOT/CONTAINERPILOT are unset.
    expect(await h().cli(['-ping'], { cwd: empty })).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect((await h().cli(['status'], { cwd: empty })).code).toBe(0);
    const none = await h().cli(['-ping'], { cwd: empty, env: { PIDPILOT_CONTROL_SOCKET: undefined } });
    expect([none.code, none.stderr]).toEqual([2, expect.stringMatching(/no configuration file/)]);
    p.signal('SIGTERM');
    await p.waitExit();
  });
});

describe('other flags', () => {
  it('-version, --version and `version` print the version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['-version'], ['--version'], ['version']]) {
      const { code, stdout } = await h().cli(args, { cwd: h().dir });
      expect(code).toBe(0);
      expect(stdout).toBe(`Version: ${pkg.version}\n`);
    }
  });

  const TEMPLATE = `{
  // rendered against the environment
  jobs: [
    {
      name: "greeter",
      exec: ["echo", "{{ .PPIT_GREETING }}"],
      restarts: {{ .PPIT_UNSET_VARIABLE | default "0" }},
    },
  ],
}
`;
  const RENDERED = TEMPLATE.replace('{{ .PPIT_GREETING }}', 'hello-from-env').replace(
    '{{ .PPIT_UNSET_VARIABLE | default "0" }}',
    '0',
  );
  const env = { PPIT_GREETING: 'hello-from-env', PPIT_UNSET_VARIABLE: undefined };

  it('-template prints the rendered file and starts nothing', async () => {
    const file = h().writeConfig(TEMPLATE);
    const { code, stdout, stderr } = await h().cli(['-template', '-config', file], { env });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(RENDERED);
  });

  it('render prints the rendered file', async () => {
    const file = h().writeConfig(TEMPLATE);
    const { code, stdout, stderr } = await h().cli(['render', '-config', file], { env });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(RENDERED);
  });

  it('-template -out FILE writes the rendered file', async () => {
    const file = h().writeConfig(TEMPLATE);
    const out = h().path('rendered.json5');
    const { code, stdout, stderr } = await h().cli(['-template', '-config', file, '-out', out], { env });
    expect(code, stderr).toBe(0);
    expect(stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(RENDERED);

    const out2 = h().path('rendered2.json5');
    const r2 = await h().cli(['--template', `--out=${out2}`, `--config=${file}`], { env });
    expect(r2.code, r2.stderr).toBe(0);
    expect(readFileSync(out2, 'utf8')).toBe(RENDERED);
  });

  it('the supervisor runs the rendered file', async () => {
    const p = h().run(TEMPLATE, { env });
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    expect(
      p.lines.some((l) => / greeter hello-from-env$/.test(l)),
      p.transcript(),
    ).toBe(true);
  });

  it('an unknown flag is a usage error (exit 2) and starts nothing', async () => {
    const created = h().path('created');
    const file = h().writeConfig({ jobs: [{ name: 'maker', exec: ['touch', created] }] });
    const r = await h().cli(['-config', file, '-bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown flag -bogus/);
    const r2 = await h().cli(['-confg', file]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown flag -confg; did you mean -config\?/);
    await sleep(300);
    expect(existsSync(created)).toBe(false);
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    const r = await h().cli(['valdate'], { cwd: h().dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "valdate"; did you mean "validate"\?/);
  });
});
