/**
 * `pidpilot top` in a real terminal: a tmux pane (its own tmux server, in the test's temp
 * dir), driven with send-keys and read with capture-pane. The table with every job, the
 * selected job's output, restart from a key (a new PID), quit; a small pane stays within
 * its width; TERM=dumb gets plain frames without escape sequences. The run writes a text
 * capture (to $PIDPILOT_SCREENSHOTS, else the temp dir) for the README.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from './control-support.js';
import { BIN, CONTROL_SOCKET_VAR, MARKER_VAR, useHarness } from './support.js';

const h = useHarness();
const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
if (!hasTmux)
  console.warn(
    'top test skipped: no tmux on this machine (Debian: apt-get install tmux; npm test installs it as root)',
  );

class Pane {
  constructor(
    private readonly server: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  tmux(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('tmux', ['-L', this.server, '-f', '/dev/null', ...args], { encoding: 'utf8', env: this.env });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  start(name: string, width: number, height: number, term: string): void {
    const cmd = `TERM=${term} exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} top`;
    const r = this.tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), cmd);
    expect(r.status, r.stderr).toBe(0);
    this.tmux('set-option', '-t', name, 'remain-on-exit', 'on');
  }

  capture(name: string, escapes = false): string {
    return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', name).stdout;
  }

  keys(name: string, ...keys: string[]): void {
    this.tmux('send-keys', '-t', name, ...keys);
  }

  /** Whether the program in the pane has ended (the pane stays, marked dead). */
  dead(name: string): boolean {
    return this.tmux('display-message', '-p', '-t', name, '#{pane_dead}').stdout.trim() === '1';
  }

  async until(name: string, test: (screen: string) => boolean, what: string): Promise<string> {
    let screen = '';
    try {
      return await eventually(async () => {
        screen = this.capture(name);
        return test(screen) ? screen : null;
      }, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the pane shows:\n${screen}`);
    }
  }
}

describe.skipIf(!hasTmux)('pidpilot top under tmux', () => {
  it('shows the jobs and the selected output, restarts with a key, quits; small and dumb terminals stay sane', {
    timeout: 120_000,
  }, async () => {
    const file = h().writeConfig({
      state: { dir: h().path('state') },
      jobs: [
        {
          name: 'db',
          exec: ['sh', '-c', `echo db ready; exec sleep ${h().uniqueArg()}`],
          health: { exec: 'true', interval: 1, ttl: 5 },
        },
        {
          name: 'web',
          exec: ['sh', '-c', `echo "web serving as $$"; exec sleep ${h().uniqueArg()}`],
          dependsOn: ['db'],
        },
        { name: 'migrate', exec: ['sh', '-c', 'echo migrated; exit 3'], when: { source: 'db', once: 'healthy' } },
      ],
    });
    const supervisor = h().start(['-config', file]);
    await supervisor.waitForLine(/ web web serving as \d+$/);
    const env = {
      ...process.env,
      TMUX_TMPDIR: h().dir,
      PIDPILOT: file,
      [CONTROL_SOCKET_VAR]: h().socketPath,
      [MARKER_VAR]: h().marker,
      NO_COLOR: undefined,
      TMUX: undefined,
    };
    const pane = new Pane(`pidpilot-top-${process.pid}`, env);
    try {
      pane.start('big', 110, 24, 'xterm-256color');
      const first = await pane.until(
        'big',
        (s) =>
          /^> db +running +\d+ .* healthy /m.test(s) &&
          /^ {2}web +running +\d+/m.test(s) &&
          /^ {2}migrate +\w+/m.test(s),
        'every job',
      );
      expect(first).toMatch(/^ {2}JOB +STATE +PID +UPTIME +RESTARTS +LAST EXIT +HEALTH +READY +REASON/m);
      expect(first).toMatch(/── output of db/);
      expect(pane.capture('big', true)).toContain('\x1b['); // colours on a terminal

      // Down to web: its output; then r restarts it, and the table shows the new PID.
      pane.keys('big', 'Down');
      const onWeb = await pane.until(
        'big',
        (s) => /^> web /m.test(s) && /web serving as \d+/.test(s),
        'web selected with its output',
      );
      const oldPid = /^> web +running +(\d+)/m.exec(onWeb)![1]!;
      pane.keys('big', 'r');
      const restarted = await pane.until(
        'big',
        (s) => {
          const m = /^> web +running +(\d+)/m.exec(s);
          return m !== null && m[1] !== oldPid && /web: restart done/.test(s);
        },
        'web restarted with a new pid',
      );
      const newPid = /^> web +running +(\d+)/m.exec(restarted)![1]!;
      await pane.until('big', (s) => s.includes(`web serving as ${newPid}`), 'the new run in the output pane');
      const dir = process.env.PIDPILOT_SCREENSHOTS ?? h().dir;
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'top.txt'),
        `${pane
          .capture('big')
          .replace(/\n{3,}/g, '\n\n')
          .trimEnd()}\n`,
      );

      // x stops, s starts again.
      pane.keys('big', 'x');
      await pane.until('big', (s) => /^> web +stopped/m.test(s), 'web stopped');
      pane.keys('big', 's');
      await pane.until('big', (s) => /^> web +running/m.test(s), 'web running again');
      pane.keys('big', 'q');
      await eventually(async () => pane.dead('big'), 'top to quit on q');

      // A small pane: every line within its width, the headline and the selected job still there.
      pane.start('small', 40, 7, 'xterm-256color');
      const small = await pane.until('small', (s) => /^> db/m.test(s), 'the small pane');
      expect(
        small.split('\n').every((l) => l.length <= 40),
        small,
      ).toBe(true);
      expect(small).toMatch(/^pidpilot /);
      pane.keys('small', 'q');
      await eventually(async () => pane.dead('small'), 'top to quit');

      // TERM=dumb: plain frames one after another, no escape sequence at all.
      pane.start('dumb', 100, 40, 'dumb');
      await pane.until('dumb', (s) => /^> db +running +\d+ .* healthy /m.test(s), 'a plain frame');
      expect(pane.capture('dumb', true)).not.toContain('\x1b[');
      pane.keys('dumb', 'Down', 'x');
      await pane.until('dumb', (s) => /^> web +stopped/m.test(s), 'a new frame after the stop');
      pane.keys('dumb', 'q');
      await eventually(async () => pane.dead('dumb'), 'top to quit');
    } finally {
      pane.tmux('kill-server');
    }
    supervisor.signal('SIGTERM');
    await supervisor.waitExit();
  });
});
