/**
 * What each signal does to pidpilot (docs/pid1.md):
 *   SIGTERM, SIGINT    start the graceful shutdown; a second one kills every group at once
 *                      (Supervisor.shutdown escalates when called again);
 *   SIGHUP, SIGUSR2    become `signal` events that jobs can be triggered by;
 *   SIGUSR1            reopens the log file (logrotate) when logging goes to a file; with
 *                      stdout/stderr there is nothing to reopen, so it is forwarded;
 *   FORWARDED_SIGNALS  passed on to the process group of every running process.
 * Not listed, on purpose: SIGKILL and SIGSTOP (cannot be caught), SIGCHLD (the reaper's),
 * signals the kernel sends pidpilot about itself (SIGPIPE, SIGTTIN, SIGTTOU, SIGXCPU,
 * SIGXFSZ, SIGURG, SIGSEGV and the other faults), and SIGPROF/SIGTRAP (profilers and
 * debuggers attached to pidpilot).
 */
import type { ShutdownCause } from './exit-status.js';

/** Signals pidpilot does not act on itself: they are meant for the jobs. */
export const FORWARDED_SIGNALS = [
  'SIGQUIT',
  'SIGWINCH',
  'SIGCONT',
  'SIGTSTP',
  'SIGALRM',
  'SIGVTALRM',
  'SIGPWR',
] as const satisfies readonly NodeJS.Signals[];

/** What the signal handlers act on (the Supervisor, in run-supervisor.ts). */
export interface SignalTarget {
  shutdown(reason: string, cause: ShutdownCause): unknown;
  signalEvent(signal: 'SIGHUP' | 'SIGUSR2'): void;
  forwardSignal(signal: NodeJS.Signals): void;
}

export interface SignalOptions {
  /** Reopens the log file; undefined when logging goes to stdout/stderr (then SIGUSR1 is forwarded). */
  reopenLog?: () => void;
}

/** True when `output` (logging.output) is a file, which SIGUSR1 reopens. */
export function logIsFile(output: string): boolean {
  const lower = output.toLowerCase();
  return lower !== 'stdout' && lower !== 'stderr';
}

/** Installs pidpilot's signal handlers on `proc`; returns a function that removes them. */
export function handleSignals(
  target: SignalTarget,
  opts: SignalOptions = {},
  proc: NodeJS.Process = process,
): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  handlers.set('SIGTERM', () => void target.shutdown('SIGTERM', { kind: 'signal', signal: 'SIGTERM' }));
  handlers.set('SIGINT', () => void target.shutdown('SIGINT', { kind: 'signal', signal: 'SIGINT' }));
  handlers.set('SIGHUP', () => target.signalEvent('SIGHUP'));
  handlers.set('SIGUSR2', () => target.signalEvent('SIGUSR2'));
  const reopen = opts.reopenLog;
  handlers.set('SIGUSR1', reopen ? () => reopen() : () => target.forwardSignal('SIGUSR1'));
  for (const signal of FORWARDED_SIGNALS) handlers.set(signal, () => target.forwardSignal(signal));
  for (const [signal, fn] of handlers) proc.on(signal, fn);
  return () => {
    for (const [signal, fn] of handlers) proc.off(signal, fn);
  };
}
