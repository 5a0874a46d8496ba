/**
 * What an exit leads to, as one table: outcome × policy × budgets → decision.
 */
import { describe, expect, it } from 'vitest';
import { type AfterExit, afterExit, type ExitBudgets, type ExitPolicy } from '../../../src/jobs/after-exit.js';
import type { RunRecord } from '../../../src/process/types.js';

const ok: Pick<RunRecord, 'outcome' | 'code' | 'signal'> = { outcome: 'succeeded', code: 0, signal: null };
const exit1: Pick<RunRecord, 'outcome' | 'code' | 'signal'> = { outcome: 'failed', code: 1, signal: null };
const killed: Pick<RunRecord, 'outcome' | 'code' | 'signal'> = { outcome: 'failed', code: null, signal: 'SIGKILL' };
const timedOut: Pick<RunRecord, 'outcome' | 'code' | 'signal' | 'reason'> = {
  outcome: 'errored',
  code: null,
  signal: 'SIGTERM',
  reason: 'timeout',
};

const service: ExitPolicy = { interval: false, stopHook: false, restarts: 3 };
const oneShot: ExitPolicy = { interval: false, stopHook: false, restarts: 0 };
const ticker: ExitPolicy = { interval: true, stopHook: false, restarts: 2 };
const hook: ExitPolicy = { interval: false, stopHook: true, restarts: 0 };
const b = (fields: Partial<ExitBudgets>): ExitBudgets => ({
  startsRemain: 0,
  restartsRemain: 0,
  intervalRunsRemain: 0,
  startQueued: false,
  shuttingDown: false,
  ...fields,
});

const table: Array<
  [string, Pick<RunRecord, 'outcome' | 'code' | 'signal' | 'reason'>, ExitPolicy, ExitBudgets, AfterExit]
> = [
  [
    'a service with restarts left restarts, whatever the exit',
    exit1,
    service,
    b({ restartsRemain: 2 }),
    { next: 'restart' },
  ],
  ['… also after a success', ok, service, b({ restartsRemain: 2 }), { next: 'restart' }],
  [
    'a service out of restarts after a failure fails, saying so',
    exit1,
    service,
    b({}),
    { next: 'fail', reason: 'restarts exhausted after exit code 1' },
  ],
  [
    '… killed by a signal',
    killed,
    service,
    b({}),
    { next: 'fail', reason: 'restarts exhausted after killed by SIGKILL' },
  ],
  ['a service out of restarts after a success completes', ok, service, b({}), { next: 'complete' }],
  ['a one-shot that succeeded completes', ok, oneShot, b({}), { next: 'complete' }],
  [
    'a one-shot that failed fails with its last run',
    exit1,
    oneShot,
    b({}),
    { next: 'fail', reason: 'last run failed: exit code 1' },
  ],
  ['a timeout is errored', timedOut, oneShot, b({}), { next: 'fail', reason: 'last run errored: timeout' }],
  [
    'a trigger that came during the run starts it again',
    ok,
    oneShot,
    b({ startQueued: true, startsRemain: Infinity }),
    { next: 'rerun' },
  ],
  [
    '… before any restart',
    exit1,
    service,
    b({ startQueued: true, startsRemain: 1, restartsRemain: 3 }),
    { next: 'rerun' },
  ],
  ['… not without starts left', ok, oneShot, b({ startQueued: true, startsRemain: 0 }), { next: 'complete' }],
  [
    '… not during shutdown',
    ok,
    oneShot,
    b({ startQueued: true, startsRemain: 1, shuttingDown: true }),
    { next: 'complete' },
  ],
  [
    '… but a stop hook runs once more during shutdown',
    ok,
    hook,
    b({ startQueued: true, startsRemain: 1, shuttingDown: true }),
    { next: 'rerun' },
  ],
  ['an `each` job waits for its next trigger', exit1, oneShot, b({ startsRemain: Infinity }), { next: 'wait' }],
  [
    'no restart during shutdown',
    exit1,
    service,
    b({ restartsRemain: 2, shuttingDown: true }),
    { next: 'fail', reason: 'last run failed: exit code 1' },
  ],
  ['an interval job with runs left waits for its tick', exit1, ticker, b({ intervalRunsRemain: 1 }), { next: 'wait' }],
  ['an interval job out of runs ends like its last run', ok, ticker, b({}), { next: 'complete' }],
  [
    'a scheduled job with a tick queued during the run runs again at once',
    exit1,
    ticker,
    b({ intervalRunsRemain: 1, startQueued: true }),
    { next: 'rerun' },
  ],
  [
    '… not during a shutdown',
    ok,
    ticker,
    b({ intervalRunsRemain: 1, startQueued: true, shuttingDown: true }),
    { next: 'wait' },
  ],
  ['… nor out of runs', ok, ticker, b({ startQueued: true }), { next: 'complete' }],
  ['… failed', exit1, ticker, b({}), { next: 'fail', reason: 'last run failed: exit code 1' }],
];

describe('afterExit', () => {
  it.each(table)('%s', (_name, record, policy, budgets, expected) => {
    expect(afterExit(record, policy, budgets)).toEqual(expected);
  });
});
