/**
 * `cleanup`: the mirror of `setup` (systemd's ExecStopPost, Batect's clean-up steps).
 * After each run of the job's process has ended — on a stop, a restart or a failure —
 * its cleanup commands run one at a time, each bounded by `cleanupTimeout`. A command that
 * fails or times out is logged and recorded (in the run's record, and as a
 * `cleanupFailed` event), and the next one still runs: cleanup never holds the teardown back
 * beyond its bounds (and at shutdown the global stopTimeout kills what is left, cleanup included).
 */
import type { SupervisorLogger as Logger } from '../../log/logger.js';
import type { RunResult } from '../../process/run.js';
import type { StepRecord } from '../../process/types.js';
import { describeExit } from '../after-exit.js';

export interface CleanupStep {
  /** 0-based position in `cleanup`. */
  index: number;
  /** How many commands `cleanup` has. */
  of: number;
  argv: readonly string[];
  result: RunResult;
}

/**
 * Runs `commands` in order through `runOne`; `onStep` hears of each as it ends. Resolves
 * with every step, never rejects.
 */
export async function runCleanup(
  commands: readonly (readonly string[])[],
  runOne: (argv: readonly string[], index: number) => Promise<RunResult>,
  log: Pick<Logger, 'info' | 'warn'>,
  onStep: (step: CleanupStep) => void = () => {},
): Promise<CleanupStep[]> {
  const steps: CleanupStep[] = [];
  for (const [index, argv] of commands.entries()) {
    let result: RunResult;
    try {
      result = await runOne(argv, index);
    } catch (err) {
      // runOne reports spawn failures as errored runs; anything else is a bug, and still not a reason to stop tearing down.
      const now = Date.now();
      result = {
        pid: null,
        startedAt: now,
        endedAt: now,
        durationMs: 0,
        code: null,
        signal: null,
        outcome: 'errored',
        reason: String(err),
      };
    }
    const step = { index, of: commands.length, argv, result };
    steps.push(step);
    if (result.outcome === 'succeeded') log.info(`${describeStep(step)}`);
    else log.warn(describeStep(step));
    onStep(step);
  }
  return steps;
}

/** One line for the log and the event's reason: `cleanup 1/2 (rm -f /tmp/a.pid) failed: exit code 1`. */
export function describeStep(step: CleanupStep): string {
  const label = `cleanup ${step.index + 1}/${step.of} (${step.argv.join(' ')})`;
  const r = step.result;
  if (r.outcome === 'succeeded') return `${label} done`;
  const how = r.reason === 'timeout' ? `timed out${r.signal ? `, killed by ${r.signal}` : ''}` : describeExit(r);
  return `${label} ${r.outcome}: ${how}`;
}

/** The step as recorded with its run. */
export function stepRecord(step: CleanupStep): StepRecord {
  const r = step.result;
  return {
    command: step.argv,
    outcome: r.outcome,
    code: r.code,
    signal: r.signal,
    timedOut: r.reason === 'timeout',
    durationMs: r.durationMs,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
  };
}
