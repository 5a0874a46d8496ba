import { describe, expect, it } from 'vitest';
import { visibleLength } from '../../../src/cli/colour.js';
import { fit, KEYS_HELP, printable, renderTop, type TopState } from '../../../src/cli/top/screen.js';
import type { JobSnapshot } from '../../../src/jobs/state.js';

const job = (name: string, state: JobSnapshot['state'], pid: number | null, reason = 'run 1'): JobSnapshot => ({
  name,
  state,
  reason,
  pid,
  health: 'unknown',
  ready: state === 'running',
  runs: 1,
  restarts: 0,
  startedAt: pid === null ? null : Date.now(),
  lastRun: null,
  dependencies: [],
});

const state = (over: Partial<TopState> = {}): TopState => ({
  status: {
    version: '1.2.3',
    pid: 1,
    startedAt: Date.now(),
    maintenance: false,
    shuttingDown: false,
    watches: [],
    jobs: Array.from({ length: 8 }, (_, i) => job(`job${i}`, i === 3 ? 'failed' : 'running', i === 3 ? null : 100 + i)),
  },
  error: null,
  selected: 0,
  output: [
    { time: 1, job: 'job0', stream: 'stdout', line: 'hello' },
    { time: 2, job: 'job0', stream: 'stderr', line: 'oops\x1b[2J\ttab' },
  ],
  message: null,
  ...over,
});

describe('pidpilot top: the frame', () => {
  it('a big terminal: headline, table with the selection, the output pane, the key help, all within the width', () => {
    const lines = renderTop(state(), 100, 30, false);
    expect(lines).toHaveLength(30);
    expect(lines[0]).toMatch(/^pidpilot 1\.2\.3, pid 1, up 0s/);
    expect(lines[1]).toMatch(/^ {2}JOB +STATE +PID .* REASON$/);
    expect(lines[2]).toMatch(/^> job0 +running +100 /);
    expect(lines.find((l) => l.startsWith('  job3'))).toMatch(/failed +- /);
    expect(lines).toContain('hello');
    expect(lines).toContain('oops·[2J  tab'); // a job's escape sequences cannot redraw the screen
    expect(lines[29]).toBe(KEYS_HELP);
    expect(lines.every((l) => visibleLength(l) <= 100)).toBe(true);
  });

  it('a small terminal keeps the selected job in view, the output shrinks first, nothing overflows', () => {
    const lines = renderTop(state({ selected: 7, message: 'job7: restart done (now running)' }), 30, 8, true);
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines.some((l) => l.includes('> job7'))).toBe(true);
    expect(lines.every((l) => visibleLength(l) <= 30)).toBe(true);
    expect(lines[lines.length - 1]).toContain('job7: restart');
    expect(renderTop(state(), 10, 3, false)).toEqual(['pidpilot t']);
  });

  it('says when the supervisor cannot be reached', () => {
    expect(renderTop(state({ status: null, error: 'connection refused' }), 80, 10, false)[0]).toBe(
      'pidpilot top  (supervisor unreachable: connection refused)',
    );
  });

  it('fits coloured text by what shows, and closes the colour it cut', () => {
    expect(fit('\x1b[31mabcdef\x1b[0m', 3)).toBe('\x1b[31mabc\x1b[0m');
    expect(fit('abc', 5)).toBe('abc');
    expect(printable('a\x07b\x9bc')).toBe('a·b·c');
  });
});
