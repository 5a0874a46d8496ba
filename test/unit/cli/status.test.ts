import { describe, expect, it } from 'vitest';
import { formatStatus, formatUptime } from '../../../src/cli/status.js';

describe('pidpilot status', () => {
  it('prints a table of jobs: state, pid, uptime, restarts, last exit, health, readiness, reason', () => {
    const now = 1_000_000_000;
    const text = formatStatus(
      {
        version: '1.0.0',
        pid: 1,
        startedAt: now - 3_725_000,
        maintenance: true,
        shuttingDown: false,
        watches: [],
        jobs: [
          {
            name: 'web',
            dependencies: [],
            state: 'running',
            reason: 'run 3 (restart 2 of 5)',
            pid: 42,
            health: 'healthy',
            ready: true,
            runs: 3,
            restarts: 2,
            startedAt: now - 65_000,
            lastRun: {
              run: 2,
              pid: 41,
              startedAt: 0,
              endedAt: 1,
              durationMs: 1,
              code: 1,
              signal: null,
              outcome: 'failed',
            },
          },
          {
            name: 'migrate',
            dependencies: [],
            state: 'failed',
            reason: 'when.timeout: no healthy from db within 50ms',
            pid: null,
            health: 'unknown',
            ready: false,
            runs: 0,
            restarts: 0,
            startedAt: null,
            lastRun: null,
          },
        ],
      },
      now,
    );
    expect(text).toBe(
      [
        'pidpilot 1.0.0, pid 1, up 1h02m, maintenance mode',
        '',
        'JOB      STATE    PID  UPTIME  RESTARTS  LAST EXIT   HEALTH   READY  REASON',
        'web      running  42   1m05s   2         failed (1)  healthy  yes    run 3 (restart 2 of 5)',
        'migrate  failed   -    -       0         -           unknown  no     when.timeout: no healthy from db within 50ms',
        '',
      ].join('\n'),
    );
  });

  it('uptimes', () => {
    expect([0, 59_999, 60_000, 86_399_000, 90_000_000].map(formatUptime)).toEqual([
      '0s',
      '59s',
      '1m00s',
      '23h59m',
      '1d01h',
    ]);
  });
});
