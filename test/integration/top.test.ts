/**
 * `pidpilot top` in a real terminal: a tmux pane (its own tmux server, in the test's temp
 * dir), driven with send-keys and read with capture-pane. The table with every job, the
 * selected job's output, restart from a key (a new PID), quit; a small pane stays within
 * its width; TERM=dumb gets plain frames without escape sequences. The run writes a text
 * capture (to $PIDPILOT_SCREENSHOTS, else the temp dir) for the README.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasCommand, Pane } from '../support/tmux.js';
import { eventually } from './control-support.js';
import { BIN, CONTROL_SOCKET_VAR, MARKER_VAR, useHarness } from './support.js';
import { viewJobs } from './view-jobs.js';

const h = useHarness();
const hasTmux = hasCommand('tmux');
if (!hasTmux)
  console.warn(
    'top test skipped: no tmux on this machine (Debian: apt-get install tmux; npm test installs it as root)',
  );

const top = (term: string): string =>
  `TERM=${term} exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} top`;

describe.skipIf(!hasTmux)('pidpilot top under tmux', () => {
  it('shows the jobs and the selected output, restarts with a key, quits; small and dumb terminals stay sane', {
    timeout: 120_000,
  }, async () => {
    const file = h().writeConfig({
      state: { dir: h().path('state') },
      jobs: [
        ...viewJobs(h()),
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
      pane.start('big', 110, 24, top('xterm-256color'));
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
      pane.start('small', 40, 7, top('xterm-256color'));
      const small = await pane.until('small', (s) => /^> db/m.test(s), 'the small pane');
      expect(
        small.split('\n').every((l) => l.length <= 40),
        small,
      ).toBe(true);
      expect(small).toMatch(/^pidpilot /);
      pane.keys('small', 'q');
      await eventually(async () => pane.dead('small'), 'top to quit');

      // TERM=dumb: plain frames one after another, no escape sequence at all.
      pane.start('dumb', 100, 40, top('dumb'));
      await pane.until('dumb', (s) => /^> db +running +\d+ .* healthy /m.test(s), 'a plain frame');
      expect(pane.capture('dumb', true)).not.toContain('\x1b[');
      pane.keys('dumb', 'Down', 'x');
      await pane.until('dumb', (s) => /^> web +stopped/m.test(s), 'a new frame after the stop');
      pane.keys('dumb', 'q');
      await eventually(async () => pane.dead('dumb'), 'top to quit');
    } finally {
      pane.kill();
    }
    supervisor.signal('SIGTERM');
    await supervisor.waitExit();
  });
});
