/**
 * An internal error — an exception nothing caught, a promise rejection nothing handled,
 * anywhere in pidpilot — must neither crash it (its children would be orphaned, or
 * killed without their stop signal) nor be ignored (pidpilot would go on in an unknown
 * state). So (docs/pid1.md): it is logged with its stack, the graceful shutdown stops every
 * job in order, and pidpilot exits 1.
 *
 * The shutdown is bounded by stopTimeout already; in case the fault broke the shutdown
 * itself, a last timer (stopTimeout + FATAL_GRACE_MS) kills every group and exits 1.
 * Errors after the first are logged and change nothing: the shutdown is under way.
 */
import type { SupervisorLogger as Logger } from '../log/logger.js';

/** How long after stopTimeout the last-resort exit comes, if the shutdown has not ended. */
export const FATAL_GRACE_MS = 2000;

export interface FatalOptions {
  log: Logger;
  /** Starts the graceful shutdown. */
  shutdown: (reason: string) => void;
  /** Whether a shutdown is already under way (then it is left to finish in order). */
  shuttingDown?: () => boolean;
  /** The shutdown's own bound (config.stopTimeout), in ms. */
  stopTimeoutMs: number;
  /** Last resort: kill every group and exit with `status`, now. */
  exit: (status: number) => void;
}

export interface FatalState {
  /** An internal error has happened: pidpilot must exit 1. */
  readonly failed: boolean;
}

/** The error's stack (or message, or text) for the log. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  try {
    return `non-Error value thrown: ${typeof err === 'string' ? err : JSON.stringify(err)}`;
  } catch {
    return `non-Error value thrown: ${String(err)}`;
  }
}

/** The handler, separate from `process` so that it can be tested on its own. */
export function fatalHandler(opts: FatalOptions): {
  state: FatalState;
  onError: (err: unknown, origin: string) => void;
} {
  const state = { failed: false };
  const onError = (err: unknown, origin: string): void => {
    const text = `internal error (${origin}): ${describeError(err)}`;
    try {
      opts.log.fatal(text);
    } catch {
      // the logger itself is what failed: stderr is all there is
      process.stderr.write(`pidpilot: ${text}\n`);
    }
    if (state.failed) return;
    state.failed = true;
    setTimeout(() => {
      process.stderr.write('pidpilot: the shutdown after an internal error did not end in time; killing every job\n');
      opts.exit(1);
    }, opts.stopTimeoutMs + FATAL_GRACE_MS);
    try {
      // A shutdown already under way goes on in order: asking again would escalate to SIGKILL.
      if (!opts.shuttingDown?.()) opts.shutdown('internal error');
    } catch (shutdownErr) {
      process.stderr.write(`pidpilot: the shutdown failed too: ${describeError(shutdownErr)}\n`);
      opts.exit(1);
    }
  };
  return { state, onError };
}

/** Routes uncaught exceptions and unhandled rejections of `proc` to `fatalHandler`. */
export function handleInternalErrors(opts: FatalOptions, proc: NodeJS.Process = process): FatalState {
  const { state, onError } = fatalHandler(opts);
  proc.on('uncaughtException', (err, origin) => onError(err, origin));
  // With this listener Node does not turn the rejection into an uncaught exception.
  proc.on('unhandledRejection', (reason) => onError(reason, 'unhandledRejection'));
  return state;
}
