/**
 * `cleanup`: the mirror of `setup` (systemd's ExecStopPost, Batect's clean-up steps).
 * After each run of the job's process has ended — on a stop, a restart or a failure —
 * its cleanup commands run one at a time, each bounded by `cleanupTimeout`. A command that
 * fails or times out is logged and recorded, and the next one still runs: cleanup never
 * holds the teardown back beyond its bounds (and at shutdown the global stopTimeout kills
 * what is left, cleanup included).
 */
import type { SupervisorLogger as Logger } from '../../log/logger.js';
import type { RunResult } from '../../process/run.js';
import { describeExit } from '../after-exit.js';

export interface CleanupStep {
  /** 0-based position in `cleanup`. */
  index: number;
  argv: readonly string[];
  result: RunResult;
}

/** Runs `commands` in order through `runOne`; resolves with every step, never rejects. */
export async function runCleanup(
  commands: readonly (readonly string[])[],
  runOne: (argv: readonly string[], index: number) => Promise<RunResult>,
  log: Pick<Logger, 'info' | 'warn'>,
): Promise<CleanupStep[]> {
  const steps: CleanupStep[] = [];
  for (const [index, argv] of commands.entries()) {
    const label = `cleanup ${index + 1}/${commands.length} (${argv.join(' ')})`;
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
    steps.push({ index, argv, result });
    if (result.outcome === 'succeeded') log.info(`${label} done`);
    else log.warn(`${label} ${result.outcome}: ${describeExit(result)}`);
  }
  return steps;
}

/** One line for the record: how many cleanup commands failed, and the first of them. */
export function cleanupSummary(steps: readonly CleanupStep[]): string | undefined {
  const failed = steps.filter((s) => s.result.outcome !== 'succeeded');
  if (failed.length === 0) return undefined;
  const first = failed[0]!;
  return `cleanup ${first.index + 1} (${first.argv.join(' ')}) ${first.result.outcome}: ${describeExit(first.result)}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ''}`;
}
