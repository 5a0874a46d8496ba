/**
 * The CLI's conventions through the built binary: `COMMAND --help` for every command,
 * `logs` of all jobs interleaved with names (and -n, -since, -f, one job, --json),
 * `signal JOB SIGNAL`, `status` with its REASON column, no colours off a terminal or
 * with NO_COLOR, and `status -w`. Shell completion is tested in completion.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { useHarness } from './support.js';

const h = useHarness();

describe('help', () => {
  it('every command has its own --help (usage line, its flags), and help COMMAND says the same', {
    timeout: 120_000,
  }, async () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = await h().cli([name, '--help']);
      expect([r.code, r.stderr], name).toEqual([0, '']);
      expect(r.stdout, name).toMatch(new RegExp(`^Usage: pidpilot ${name}\\b`));
      for (const flag of COMMANDS[name]!.flags) expect(r.stdout, `${name} -${flag}`).toContain(`  -${flag}`);
    }
    const status = await h().cli(['help', 'status']);
    expect(status.stdout).toBe((await h().cli(['status', '-h'])).stdout);
    expect((await h().cli(['help', 'nope'])).code).toBe(2);
    expect((await h().cli(['--help'])).stdout).toContain('Run "pidpilot COMMAND --help" for one command.');
  });
});

describe('logs, signal and status against a running supervisor', () => {
  it('interleaves all jobs with their names, honours -n, -since, -f and one job; signal reaches the job; status has REASON and no colours off a terminal', {
    timeout: 120_000,
  }, async () => {
    const file = h().writeConfig({
      state: { dir: h().path('state') },
      jobs: [
        { name: 'alpha', exec: ['sh', '-c', `echo alpha-1; echo alpha-2 >&2; exec sleep ${h().uniqueArg()}`] },
        // Says when it gets USR1, and reports each second so -f has something to follow.
        {
          name: 'beta-long',
          exec: ['sh', '-c', `trap 'echo got-usr1' USR1; echo beta-1; while true; do sleep 0.2; done`],
        },
        { name: 'gone', exec: ['true'] },
      ],
    });
    const p = h().start(['-config', file]);
    await p.waitForLine(/ beta-long beta-1$/);
    await p.waitForLine(/ alpha alpha-2$/, { stream: 'any' });
    const cli = (...args: string[]) =>
      h().cli([...args, '-config', file], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined } });

    const all = await cli('logs');
    expect(all.code, all.stderr).toBe(0);
    // Names padded to the longest job name; both streams; the order each job wrote in.
    expect(all.stdout).toContain('alpha     | alpha-1\n');
    expect(all.stdout).toContain('alpha     | alpha-2\n');
    expect(all.stdout).toContain('beta-long | beta-1\n');
    expect(all.stdout.indexOf('alpha-1')).toBeLessThan(all.stdout.indexOf('alpha-2'));
    expect(all.stdout).not.toContain('\x1b[');

    expect((await cli('logs', 'alpha')).stdout).toBe('alpha-1\nalpha-2\n');
    expect((await cli('logs', 'alpha', '-n', '1')).stdout).toBe('alpha-2\n');
    const two = await cli('logs', 'alpha', 'beta-long', '-n', '2');
    expect(two.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect((await cli('logs', '-since', '1h')).stdout).toContain('alpha     | alpha-1');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await cli('logs', '-since', future)).stdout).toBe('');
    const json = (await cli('logs', 'alpha', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(json.map((l) => [l.job, l.stream, l.line])).toEqual([
      ['alpha', 'stdout', 'alpha-1'],
      ['alpha', 'stderr', 'alpha-2'],
    ]);
    expect(await cli('logs', '-n', 'ten')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/-n takes a number/),
    });
    expect(await cli('logs', '-since', 'yesterday')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/-since takes a duration/),
    });
    expect(await cli('logs', 'ghost')).toMatchObject({ code: 1, stderr: expect.stringMatching(/no such job: ghost/) });

    expect((await cli('logs', '-n', '0')).stdout).toBe('');
    // -f: the signal's effect arrives on a logs stream that is already following (it is once
    // its past, the last line, is printed: the server attaches the follower before it reads the past).
    const follow = h().start(['logs', '-f', '-n', '1', '-config', file]);
    await follow.waitForLine(/ \| /);
    const signalled = await cli('signal', 'beta-long', 'USR1');
    expect([signalled.code, signalled.stderr]).toEqual([0, '']);
    expect(signalled.stdout).toMatch(/^beta-long: sent SIGUSR1 to process group \d+\n$/);
    await follow.waitForLine(/^beta-long \| got-usr1$/);
    follow.signal('SIGTERM');
    await follow.waitExit();

    expect(await cli('signal', 'beta-long', 'SIGNOPE')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/unknown signal "SIGNOPE"/),
    });
    expect(await cli('signal', 'gone', 'TERM')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/job gone has no running process to signal/),
    });
    expect(await cli('signal', 'beta-long')).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/signal needs JOB SIGNAL/),
    });

    const table = await cli('status');
    expect(table.stdout).toMatch(/^JOB +STATE +PID +UPTIME +RESTARTS +LAST EXIT +HEALTH +READY +REASON$/m);
    expect(table.stdout).toMatch(/^alpha +running +\d+ /m);
    expect(table.stdout).not.toContain('\x1b[');
    // Colours when asked for (FORCE_COLOR), none with NO_COLOR even then.
    expect(
      (await h().cli(['status', '-config', file], { env: { FORCE_COLOR: '1', NO_COLOR: undefined } })).stdout,
    ).toContain('\x1b[32mrunning\x1b[0m');
    expect(
      (await h().cli(['status', '-config', file], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout,
    ).not.toContain('\x1b[');

    // -w off a terminal: one table after another.
    const watch = h().start(['status', '-w', '-config', file]);
    await watch.waitForLine(/^JOB +STATE/, { nth: 2 });
    watch.signal('SIGINT');
    await watch.waitExit();
    expect(watch.stdout().toString()).not.toContain('\x1b[');

    p.signal('SIGTERM');
    await p.waitExit();
  });
});
