import { describe, expect, it } from 'vitest';
import { decideExitStatus, type ExitFacts, type ShutdownCause } from '../../../src/pid1/exit-status.js';

type Last = NonNullable<ExitFacts['main']>['lastRun'];
const exited = (
  code: number,
  outcome: 'succeeded' | 'failed' | 'aborted' = code === 0 ? 'succeeded' : 'failed',
): Last => ({ code, signal: null, outcome });
const killed = (signal: NodeJS.Signals, outcome: 'failed' | 'aborted' = 'aborted'): Last => ({
  code: null,
  signal,
  outcome,
});
const main = (lastRun: Last, more: { runMode?: boolean; failed?: boolean } = {}): ExitFacts['main'] => ({
  runMode: false,
  failed: false,
  lastRun,
  ...more,
});

const TERM: ShutdownCause = { kind: 'signal', signal: 'SIGTERM' };
const INT: ShutdownCause = { kind: 'signal', signal: 'SIGINT' };

describe('decideExitStatus', () => {
  const table: Array<[string, ExitFacts, number]> = [
    // Without main: 0 however it ended, except a main that cannot start (impossible without main).
    ['no main, SIGTERM', { cause: TERM }, 0],
    ['no main, SIGINT', { cause: INT }, 0],
    ['no main, every job completed', { cause: { kind: 'completed' } }, 0],
    ['no main, requested', { cause: { kind: 'requested' } }, 0],
    // main ended by itself.
    ['main exited 7', { cause: { kind: 'main-ended' }, main: main(exited(7)) }, 7],
    ['main exited 0', { cause: { kind: 'main-ended' }, main: main(exited(0)) }, 0],
    ['main killed by SIGKILL', { cause: { kind: 'main-ended' }, main: main(killed('SIGKILL', 'failed')) }, 137],
    [
      'main failed by its setup (run aborted by pidpilot)',
      { cause: { kind: 'main-ended' }, main: main(exited(0, 'aborted'), { failed: true }) },
      1,
    ],
    [
      'main failed without running (dependency failed)',
      { cause: { kind: 'main-ended' }, main: main(null, { failed: true }) },
      1,
    ],
    ['run-mode target exited 7', { cause: { kind: 'main-ended' }, main: main(exited(7), { runMode: true }) }, 7],
    [
      'run-mode target killed by SIGTERM (not from pidpilot)',
      { cause: { kind: 'main-ended' }, main: main(killed('SIGTERM', 'failed'), { runMode: true }) },
      143,
    ],
    ['main cannot start', { cause: { kind: 'main-cannot-start' }, main: main(null) }, 1],
    ['main ran, then waits for what cannot come', { cause: { kind: 'completed' }, main: main(exited(4)) }, 4],
    // Shutdown by a signal, with main: the status main ended with in the shutdown (tini).
    ['SIGTERM, main traps TERM and exits 3', { cause: TERM, main: main(exited(3, 'aborted')) }, 3],
    ['SIGTERM, main exits 0 on TERM', { cause: TERM, main: main(exited(0, 'aborted')) }, 0],
    ['SIGTERM, main dies of SIGTERM', { cause: TERM, main: main(killed('SIGTERM')) }, 143],
    ['SIGTERM, main SIGKILLed after its stop timeout', { cause: TERM, main: main(killed('SIGKILL')) }, 137],
    ['SIGINT, main dies of SIGINT', { cause: INT, main: main(killed('SIGINT')) }, 130],
    ['SIGTERM before main ever ran', { cause: TERM, main: main(null) }, 143],
    // Run mode interrupted: 128+signal, never 0, whatever the target did.
    [
      'run mode, SIGINT, target exits 0 on INT',
      { cause: INT, main: main(exited(0, 'aborted'), { runMode: true }) },
      130,
    ],
    [
      'run mode, SIGTERM, target exits 3 on TERM',
      { cause: TERM, main: main(exited(3, 'aborted'), { runMode: true }) },
      143,
    ],
    ['run mode, SIGTERM before the target ran', { cause: TERM, main: main(null, { runMode: true }) }, 143],
    [
      'run mode, interrupted without a signal',
      { cause: { kind: 'requested' }, main: main(exited(0, 'aborted'), { runMode: true }) },
      1,
    ],
  ];
  it.each(table)('%s → %i', (_name, facts, status) => {
    expect(decideExitStatus(facts)).toBe(status);
  });
});
