/**
 * pidpilot's own exit status (docs/pid1.md), decided in one place from what started the
 * shutdown and how the `main` job (or run mode's target) ended. Pure: the supervisor
 * gathers the facts when everything has stopped and asks here.
 *
 *   what happened                                      status
 *   nothing is `main`, every job ended or a signal     0
 *   `main` ended by itself                             its status (128+signal if killed;
 *                                                      1 if it ended without a status of its own)
 *   `main` could no longer start                       1
 *   shutdown by a signal, with `main`                  the status `main` ended with in the shutdown
 *                                                      (traps TERM and exits 3 → 3; SIGKILLed after
 *                                                      its stop timeout → 137), as tini does;
 *                                                      128+signal if it never ran
 *   shutdown by a signal in `pidpilot run JOB`         128+signal (130 SIGINT, 143 SIGTERM): the
 *                                                      target was interrupted, never 0
 *
 * Usage and configuration errors (2) and internal errors (1) are decided at the entry point
 * (cli/run-supervisor.ts), before and around all this.
 */
import { constants } from 'node:os';
import { exitStatusOf } from '../jobs/naming.js';
import type { RunRecord } from '../process/types.js';

/** What started the shutdown. */
export type ShutdownCause =
  /** SIGTERM or SIGINT reached pidpilot (`docker stop`, Ctrl-C). */
  | { kind: 'signal'; signal: 'SIGTERM' | 'SIGINT' }
  /** Asked for without a signal (tests, embedding code): treated as an interruption. */
  | { kind: 'requested' }
  /** The main job ended (completed, failed or stopped) while nothing else was shutting down. */
  | { kind: 'main-ended' }
  /** The main job never ran and nothing left can start it. */
  | { kind: 'main-cannot-start' }
  /** Every job has ended or waits for what can no longer come. */
  | { kind: 'completed' };

export interface ExitFacts {
  cause: ShutdownCause;
  /** The `main` job (run mode's target), when there is one, as it is once everything has stopped. */
  main?: {
    /** `pidpilot run JOB`: the target was asked for and must finish; an interruption is a failure. */
    runMode: boolean;
    /** It ended in `failed`. */
    failed: boolean;
    /** Its last run, if it ran at all. */
    lastRun: Pick<RunRecord, 'code' | 'signal' | 'outcome'> | null;
  };
}

/** 128 + the signal's number, as a shell reports a process killed by it. */
function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

export function decideExitStatus({ cause, main }: ExitFacts): number {
  if (cause.kind === 'main-cannot-start') return 1;
  if (main === undefined) return 0;
  const last = main.lastRun;
  switch (cause.kind) {
    case 'main-ended':
      // A run pidpilot ended itself (a setup failure) says nothing: the failure does.
      return last === null || (main.failed && last.outcome === 'aborted') ? 1 : exitStatusOf(last);
    case 'completed':
      // It ran and now waits for a trigger that cannot come: its last run decides.
      return last === null ? 0 : exitStatusOf(last);
    case 'signal':
    case 'requested': {
      const interrupted = cause.kind === 'signal' ? signalStatus(cause.signal) : 1;
      if (main.runMode || last === null) return interrupted;
      return exitStatusOf(last);
    }
  }
}
