/**
 * The contract of the process runner. The runner knows nothing of jobs: it spawns
 * a command in its own process group, hands back its output streams, reports the
 * exit, and signals/kills the whole group. Jobs, health checks and (later) setup
 * commands all use it.
 */
import type { Readable } from 'node:stream';
import type { ChildEnvSpec } from './child-env-block.js';

export interface SpawnRequest {
  /** argv[0] is resolved through PATH (taken from `env.PATH`) when it has no slash. */
  argv: readonly string[];
  /** The complete environment of the child (a record, or reused layers: child-env-block.ts). */
  env: ChildEnvSpec;
  cwd?: string;
  /** Run as these ids (setgroups, setgid, setuid in the child); absent: as pidpilot. */
  ids?: SpawnIds;
  /**
   * 'pipe': pidpilot reads the stream (it is relayed line by line);
   * 'inherit': the child writes straight to pidpilot's own fd (logging.raw);
   * 'ignore': /dev/null.
   */
  stdout: 'pipe' | 'inherit' | 'ignore';
  stderr: 'pipe' | 'inherit' | 'ignore';
}

/** The credentials of a child: uid, primary gid, and every group (supplementary included). */
export interface SpawnIds {
  uid: number;
  gid: number;
  groups: readonly number[];
}

/**
 * How a process ended: exactly one of `code` / `signal` is non-null — except when the
 * status was lost (something else reaped the child, which pidpilot's own reaper never
 * does): then both are null.
 */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A spawned process, leader of its own process group (pgid === pid), with stdin on
 * /dev/null and every signal disposition at its default. When it exits, whatever is left
 * of its group is SIGKILLed (before it is reaped, with the native spawner, so the group id
 * cannot have been reused).
 */
export interface ChildHandle {
  readonly pid: number;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Resolves once the process has been reaped. Never rejects. */
  readonly exited: Promise<ExitStatus>;
  /** Signal every process of the group; a group that is already gone is not an error. */
  signalGroup(signal: NodeJS.Signals): void;
}

/**
 * An output stream that says, before anything reads it, whether the child wrote to it at all
 * (the native spawner's pipes, output-pipe.ts): a reader can then leave a pipe that ends empty
 * (most quick commands) alone instead of reading it to its end. `onPolled` is called once.
 */
export interface PolledOutput {
  whenPolled(onPolled: (hasData: boolean) => void): void;
}

export function isPolledOutput(stream: Readable): stream is Readable & PolledOutput {
  return typeof (stream as Partial<PolledOutput>).whenPolled === 'function';
}

/** Starts a process, or throws SpawnError. */
export type Spawner = (req: SpawnRequest) => ChildHandle;

/** Which step of starting a process failed. */
export type SpawnStage = 'exec' | 'chdir' | 'stdio' | 'setsid' | 'pdeathsig' | 'fork' | 'watch' | 'user';

/** A spawn that failed before the program ran (missing executable, permission denied, bad cwd…). */
export class SpawnError extends Error {
  constructor(
    message: string,
    /** errno name, e.g. 'ENOENT', 'EACCES'. */
    readonly code: string,
    readonly argv: readonly string[],
    /** Which step failed: 'chdir' for a bad `cwd`, 'exec' for the program itself… */
    readonly stage: SpawnStage = 'exec',
  ) {
    super(message);
    this.name = 'SpawnError';
  }
}

export type RunOutcome = 'succeeded' | 'failed' | 'errored' | 'aborted';

/** The record of one execution, as docs/lifecycle.md defines it. */
export interface RunRecord {
  /** Number of this run within its owner (job), starting at 1. Filled by the owner. */
  run: number;
  pid: number | null;
  startedAt: number;
  endedAt: number;
  durationMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  outcome: RunOutcome;
  /** Why, for errored/aborted runs: 'timeout', 'ENOENT: …', 'shutdown', 'stop', … */
  reason?: string;
  /** What its owner ran after it ended (a job's `cleanup` commands), each command's end. Filled by the owner. */
  cleanup?: StepRecord[];
}

/** How one command run after a run's end went (a job's `cleanup`), as recorded with that run. */
export interface StepRecord {
  command: readonly string[];
  outcome: RunOutcome;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Its bound (`cleanupTimeout`) ran out: it was stopped, and is errored. */
  timedOut: boolean;
  durationMs: number;
  reason?: string;
}
