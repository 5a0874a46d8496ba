import { describe, expect, it } from 'vitest';
import { lifecycleEnv, runEndEnv } from '../../../src/jobs/liveness/env.js';
import { admitRestart, budgetExceededReason } from '../../../src/jobs/liveness/restart-budget.js';
import {
  countCheck,
  DEFAULT_THRESHOLDS,
  INITIAL_THRESHOLD_STATE,
  type ThresholdPolicy,
  type ThresholdState,
} from '../../../src/jobs/liveness/thresholds.js';

/** Feeds results ('+' pass, '-' fail) at the given times (ms since start); returns each step's change or ignore mark. */
function feed(policy: ThresholdPolicy, results: Array<[string, number]>): { marks: string[]; state: ThresholdState } {
  let state: ThresholdState = INITIAL_THRESHOLD_STATE;
  const marks: string[] = [];
  for (const [r, t] of results) {
    const step = countCheck(state, r === '+', policy, t);
    state = step.state;
    marks.push(step.changed ?? (step.ignored ? 'ignored' : '.'));
  }
  return { marks, state };
}
const at0 = (s: string): Array<[string, number]> => [...s].map((c) => [c, 1_000_000]);

describe('health thresholds', () => {
  it('defaults (1 and 1): every change of result changes the health, as ContainerPilot', () => {
    expect(feed(DEFAULT_THRESHOLDS, at0('+-+-')).marks).toEqual(['healthy', 'unhealthy', 'healthy', 'unhealthy']);
    expect(feed(DEFAULT_THRESHOLDS, at0('-')).marks).toEqual(['unhealthy']);
  });

  it('failureThreshold 3: unhealthy on the third failure in a row, and a pass resets the count', () => {
    const p = { ...DEFAULT_THRESHOLDS, failureThreshold: 3 };
    expect(feed(p, at0('+--+---')).marks).toEqual(['healthy', '.', '.', '.', '.', '.', 'unhealthy']);
    expect(feed(p, at0('+---')).state).toEqual({ health: 'unhealthy', failures: 3, passes: 0, wasHealthy: true });
    // Further failures go on counting (for the reason) without turning it again.
    expect(feed(p, at0('+-----')).marks).toEqual(['healthy', '.', '.', 'unhealthy', '.', '.']);
    expect(feed(p, at0('+-----')).state.failures).toBe(5);
    // From unknown too.
    expect(feed(p, at0('---')).marks).toEqual(['.', '.', 'unhealthy']);
  });

  it('successThreshold 2: healthy again only after two passes in a row', () => {
    const p = { ...DEFAULT_THRESHOLDS, successThreshold: 2 };
    expect(feed(p, at0('+-+-++')).marks).toEqual(['.', 'unhealthy', '.', '.', '.', 'healthy']);
  });

  it('start period: failures in it are not counted; after it they are', () => {
    const p = { ...DEFAULT_THRESHOLDS, failureThreshold: 2, startPeriod: 5000 };
    const r = feed(p, [
      ['-', 0],
      ['-', 1000],
      ['-', 4999],
      ['-', 5000],
      ['-', 6000],
    ]);
    expect(r.marks).toEqual(['ignored', 'ignored', 'ignored', '.', 'unhealthy']);
  });

  it('start period ends early once the job has been healthy (Docker)', () => {
    const p = { ...DEFAULT_THRESHOLDS, startPeriod: 60_000 };
    expect(
      feed(p, [
        ['-', 0],
        ['+', 100],
        ['-', 200],
      ]).marks,
    ).toEqual(['ignored', 'healthy', 'unhealthy']);
  });
});

describe('restart budget', () => {
  const limit = { burst: 3, interval: 10_000 };
  it('allows `burst` restarts within the interval and refuses the next', () => {
    let recent: number[] = [];
    const allowed: boolean[] = [];
    for (const t of [0, 1000, 2000, 3000]) {
      const d = admitRestart(recent, t, limit);
      allowed.push(d.allowed);
      recent = d.recent;
    }
    expect(allowed).toEqual([true, true, true, false]);
    expect(recent).toEqual([0, 1000, 2000]);
  });
  it('restarts older than the interval leave the window', () => {
    expect(admitRestart([0, 1000, 2000], 10_000, limit)).toEqual({ allowed: true, recent: [1000, 2000, 10_000] });
    expect(admitRestart([0, 1000, 2000], 9_999, limit).allowed).toBe(false);
  });
  it('says why', () => {
    expect(budgetExceededReason(limit, (ms) => `${ms / 1000}s`)).toBe(
      'restarted too often: more than 3 restarts within 10s',
    );
    expect(budgetExceededReason({ burst: 1, interval: 60_000 }, (ms) => `${ms / 60_000}m`)).toBe(
      'restarted too often: more than 1 restart within 1m',
    );
  });
});

describe('lifecycle environment', () => {
  it('names the job, its run number and its restarts', () => {
    expect(lifecycleEnv('web', 3, 2)).toEqual({ PIDPILOT_JOB: 'web', PIDPILOT_RUN: '3', PIDPILOT_RESTARTS: '2' });
  });
  it('tells the end of the triggering run: exited, killed, errored', () => {
    expect(runEndEnv('db', { outcome: 'failed', code: 3, signal: null })).toEqual({
      PIDPILOT_TRIGGER_JOB: 'db',
      PIDPILOT_RESULT: 'failed',
      PIDPILOT_RESULT_REASON: '',
      PIDPILOT_EXIT_CODE: '3',
      PIDPILOT_EXIT_SIGNAL: '',
    });
    expect(runEndEnv('db', { outcome: 'aborted', reason: 'shutdown', code: null, signal: 'SIGTERM' })).toMatchObject({
      PIDPILOT_RESULT: 'aborted',
      PIDPILOT_RESULT_REASON: 'shutdown',
      PIDPILOT_EXIT_CODE: '',
      PIDPILOT_EXIT_SIGNAL: 'SIGTERM',
    });
    expect(runEndEnv('db', { outcome: 'errored', reason: 'timeout', code: null, signal: 'SIGKILL' })).toMatchObject({
      PIDPILOT_RESULT: 'errored',
      PIDPILOT_RESULT_REASON: 'timeout',
    });
  });
});
