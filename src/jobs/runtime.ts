/**
 * The real effects of a job (JobEffects): its processes, health checks, timers and bus
 * subscription. Everything that comes back — an exit, a setup command's end, a check
 * done, a timer, a bus event — is pushed onto the job's queue as an input.
 */
import type { Socket } from 'node:net';
import { type Readable, Transform } from 'node:stream';
import type { JobConfig } from '../config/types.js';
import type { Bus, Subscription } from '../events/bus.js';
import type { EventCode } from '../events/event.js';
import { GLOBAL_SOURCE } from '../events/event.js';
import { type LongTimer, setLongTimeout } from '../events/long-timer.js';
import type { CheckEnd } from '../events/observers.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { NotifyDir } from '../process/notify.js';
import { ProcessRun, type RunOptions } from '../process/run.js';
import type { RunRecord } from '../process/types.js';
import { resolveUser } from '../process/user.js';
import { describeExit } from './after-exit.js';
import type { InputSink, JobEffects, RunContext, RunHandle, Timer } from './effects.js';
import { type BuiltinCheck, httpCheck, tcpCheck } from './health.js';
import { runCleanup } from './liveness/cleanup.js';
import { lifecycleEnv, runEndEnv } from './liveness/env.js';
import { openRunNotify } from './liveness/notify-run.js';

/** What a job's runtime needs from the supervisor: shared services, and callbacks bound to this job instance. */
export interface JobHost {
  readonly bus: Bus;
  readonly log: Logger;
  /** The complete environment for a child of this job, its lifecycle variables (PIDPILOT_*) last. */
  childEnv(job: JobConfig, lifecycle: Readonly<Record<string, string>>): Record<string, string>;
  /**
   * Relay one output stream of a child (`source` is the job name or `check.<job>`).
   * Resolves once the stream has ended and its lines reached the log. Never rejects.
   */
  relay(stream: Readable, source: string, name: 'stdout' | 'stderr'): Promise<void>;
  /** The job's main process started (pid) or ended (null). */
  pidChanged(pid: number | null): void;
  /** A run ended (for history and metrics). */
  runEnded(record: RunRecord): void;
  /** A health check ended, and how long it took (for metrics). Not called for one abandoned by a stop. */
  checkEnded(check: CheckEnd): void;
  /** The job's state (or reason) changed. */
  stateChanged(): void;
  /** The job became ready or stopped being ready (its dependents may be waiting for it). */
  readyChanged(): void;
  /** Resolves once this job's pre-stop hooks have no run going (or `timeoutMs` passed); null when it has none. */
  waitForPreStopHooks(afterSeq: number, timeoutMs: number): Promise<void> | null;
  /** Where the sd_notify sockets of `notify: true` jobs are made (created on first use). */
  notifyDir(): NotifyDir;
  /** The last run of job `name`, for the environment of a run its end triggered. */
  lastRunOf(name: string): RunRecord | null;
}

/**
 * The event a finished run publishes. A process that exits 0 after our stop signal
 * still exited successfully (as in ContainerPilot); a timeout or a spawn failure never did.
 */
function exitCode(record: Pick<RunRecord, 'code' | 'outcome'>): 'exitSuccess' | 'exitFailed' {
  return record.code === 0 && record.outcome !== 'errored' ? 'exitSuccess' : 'exitFailed';
}

/** Silence on a finished run's output streams after which they are no longer waited for. */
const OUTPUT_QUIET_MS = 200;

/**
 * How long output that keeps arriving after a run's exit is waited for: a process that
 * escaped the group (setsid) and keeps writing to the inherited pipe must not hold the exit
 * back for ever. Data already read and waiting for a slow log is always waited for.
 */
const OUTPUT_AFTER_EXIT_MAX_MS = 2000;

/**
 * Resolves once none of `streams` has read anything or held unread data for OUTPUT_QUIET_MS,
 * or once nothing is held and OUTPUT_AFTER_EXIT_MAX_MS have passed.
 */
function untilQuiet(streams: readonly Readable[]): Promise<void> {
  const progress = (): number => streams.reduce((n, s) => n + ((s as Partial<Socket>).bytesRead ?? 0), 0);
  const waiting = (): boolean => streams.some((s) => s.readableLength > 0);
  const deadline = Date.now() + OUTPUT_AFTER_EXIT_MAX_MS;
  return new Promise((resolve) => {
    let last = progress();
    const check = (): void => {
      const now = progress();
      if (!waiting() && (now === last || Date.now() >= deadline)) return resolve();
      last = now;
      setTimeout(check, OUTPUT_QUIET_MS);
    };
    setTimeout(check, OUTPUT_QUIET_MS);
  });
}

/** Bytes of a health check's output kept to quote its last line when it fails. */
const CHECK_TAIL_BYTES = 512;

/** `stream`, through a pass-through that keeps its last CHECK_TAIL_BYTES in `tail` (health checks only: small output). */
function keepTail(stream: Readable, tail: { text: string }): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      tail.text = (tail.text + chunk.toString('utf8')).slice(-CHECK_TAIL_BYTES);
      done(null, chunk);
    },
  });
  stream.once('error', () => tap.destroy());
  return stream.pipe(tap);
}

/** The bus filter of a job: only the events it reacts to reach its queue. */
export function jobWants(config: JobConfig): {
  sources: string[];
  accepts: (code: EventCode, source: string) => boolean;
} {
  const checkSource = `check.${config.name}`;
  const when = config.when;
  return {
    sources: [GLOBAL_SOURCE, checkSource, ...(when.kind === 'event' ? [when.source] : [])],
    accepts: (code, source) => {
      if (source === GLOBAL_SOURCE) return true; // startup, shutdown, maintenance
      if (source === checkSource) return code === 'exitSuccess' || code === 'exitFailed';
      return when.kind === 'event' && source === when.source && code === when.code;
    },
  };
}

export class JobRuntime implements JobEffects {
  readonly log: Logger;
  private readonly name: string;
  private readonly checkSource: string;
  private readonly subscription: Subscription;
  private readonly timers = new Map<Timer, LongTimer>();
  private check: { stop(): void } | null = null;
  private warnedUser = false;
  /** How the last health check ended, in words (with its last output line), computed when asked. */
  private lastCheck: () => string = () => 'no check ran yet';
  /** PIDPILOT_JOB/RUN/RESTARTS of the current run, for every process of the job (checks, setup, cleanup too). */
  private lifecycle: Record<string, string>;

  constructor(
    private readonly config: JobConfig,
    private readonly host: JobHost,
    private readonly push: InputSink,
  ) {
    this.name = config.name;
    this.log = host.log.child({ job: config.name });
    this.checkSource = `check.${config.name}`;
    this.lifecycle = lifecycleEnv(config.name, 0, 0);
    const { sources, accepts } = jobWants(config);
    this.subscription = host.bus.subscribe(
      `job:${this.name}`,
      accepts,
      { push: (event) => push({ kind: 'event', event }) },
      sources,
    );
  }

  close(): void {
    this.subscription.close();
  }

  spawnMain(runNumber: number, context: RunContext): RunHandle {
    this.lifecycle = lifecycleEnv(this.name, runNumber, context.restarts);
    const extra: Record<string, string> = {};
    const trigger = context.triggeredBy === undefined ? null : this.host.lastRunOf(context.triggeredBy);
    if (trigger) Object.assign(extra, runEndEnv(context.triggeredBy!, trigger));
    // sd_notify: a socket of this run's own; its messages come back as `notify` inputs.
    let handle: RunHandle | null = null;
    let notify: { env: Record<string, string>; close(): void } | null = null;
    if (this.config.notify) {
      try {
        notify = openRunNotify(
          this.host.notifyDir(),
          {
            ...(this.config.watchdog !== undefined ? { watchdogMs: this.config.watchdog } : {}),
            ...this.socketOwner(),
            log: this.log,
          },
          (msg) => {
            if (handle) this.push({ kind: 'notify', run: handle, msg });
          },
        );
        Object.assign(extra, notify.env);
      } catch (err) {
        this.log.error(`cannot make the sd_notify socket: ${(err as Error).message}; the job cannot report READY=1`);
      }
    }
    const run = this.start(
      this.config.exec!,
      this.config.timeout,
      this.config.stopSignal,
      this.config.logging.raw,
      extra,
    );
    handle = run;
    const output = this.relayOutput(run, this.name);
    void run.result.then(async (result) => {
      notify?.close();
      await output;
      const record: RunRecord = { run: runNumber, ...result };
      this.logExit(record);
      this.host.pidChanged(null);
      this.host.runEnded(record);
      // Published once the run's last output line is logged, so logs read cause before effect.
      this.host.bus.publish(exitCode(record), this.name);
      this.push({ kind: 'exited', run, record });
    });
    if (run.pid !== null) this.host.pidChanged(run.pid);
    return run;
  }

  runCleanup(cleanup: number, record: RunRecord): void {
    const env = runEndEnv(this.name, record);
    void runCleanup(
      this.config.cleanup,
      (argv) => {
        const run = this.start(argv, this.config.cleanupTimeout, this.config.stopSignal, this.config.logging.raw, env);
        const output = this.relayOutput(run, this.name);
        return run.result.then(async (result) => {
          await output;
          return result;
        });
      },
      this.log,
    ).then(() => this.push({ kind: 'cleanupDone', cleanup }));
  }

  /** The job's user owns its notify socket, so it (and root) alone can write to it. */
  private socketOwner(): { owner?: { uid: number; gid: number } } {
    if (this.config.user === undefined || process.getuid?.() !== 0) return {};
    try {
      const ids = resolveUser(this.config.user, this.config.exec ?? []);
      return { owner: { uid: ids.uid, gid: ids.gid } };
    } catch {
      return {}; // an unknown user makes the run itself errored, with the reason
    }
  }

  spawnSetup(index: number): RunHandle {
    const run = this.start(
      this.config.setup[index]!,
      this.config.setupTimeout,
      this.config.stopSignal,
      this.config.logging.raw,
    );
    const output = this.relayOutput(run, this.name);
    void run.result.then(async (result) => {
      await output;
      this.push({ kind: 'setupDone', run, index, record: { run: index + 1, ...result } });
    });
    return run;
  }

  stopRun(run: RunHandle, graceMs: number, reason: string): void {
    void (run as ProcessRun).stop(graceMs, reason);
  }

  startCheck(id: number): void {
    const health = this.config.health!;
    if (!health.exec)
      return this.startBuiltinCheck(
        id,
        health.http ? httpCheck(health.http, health.timeout) : tcpCheck(health.tcp!, health.timeout),
      );
    const check = this.start(health.exec, health.timeout, 'SIGTERM', health.logging.raw);
    const handle = { stop: () => void check.stop(0, 'stop') };
    this.check = handle;
    const tail = { text: '' };
    const output = this.relayOutput(check, this.checkSource, tail);
    // Like a run's exit, the result is published after the check's last output line (which the warning quotes).
    void check.result.then(async (record) => {
      await output;
      if (this.check === handle) this.check = null;
      this.lastCheck = () => {
        const line = tail.text.trimEnd().split('\n').pop()?.trim();
        return line ? `${describeExit(record)}: ${line}` : describeExit(record);
      };
      if (record.outcome === 'errored') this.log.warn(`health check could not run: ${record.reason ?? 'unknown'}`);
      if (record.outcome !== 'aborted') {
        this.host.checkEnded({ outcome: record.outcome, durationMs: record.durationMs });
        this.host.bus.publish(exitCode(record), this.checkSource);
      }
      this.push({ kind: 'checkDone', check: id });
    });
  }

  /** `health.http` / `health.tcp`: published exactly like an exec check's exit. */
  private startBuiltinCheck(id: number, check: BuiltinCheck): void {
    this.check = check;
    const startedAt = performance.now();
    void check.result.then((result) => {
      if (this.check === check) this.check = null;
      this.lastCheck = () => result.reason ?? result.outcome;
      if (result.outcome !== 'succeeded' && result.outcome !== 'aborted')
        this.log.debug(`health check failed: ${result.reason ?? result.outcome}`);
      if (result.outcome !== 'aborted') {
        this.host.checkEnded({ outcome: result.outcome, durationMs: performance.now() - startedAt });
        this.host.bus.publish(result.outcome === 'succeeded' ? 'exitSuccess' : 'exitFailed', this.checkSource);
      }
      this.push({ kind: 'checkDone', check: id });
    });
  }

  lastCheckDetail(): string {
    return this.lastCheck();
  }

  stopCheck(): void {
    this.check?.stop();
    this.check = null;
  }

  setTimer(timer: Timer, ms: number): void {
    this.clearTimer(timer);
    this.timers.set(
      timer,
      // Delays come from the configuration: they may exceed what one Node timer holds.
      setLongTimeout(() => {
        this.timers.delete(timer);
        this.push({ kind: 'timer', timer });
      }, ms),
    );
  }

  clearTimer(timer: Timer): void {
    const handle = this.timers.get(timer);
    if (handle === undefined) return;
    handle.clear();
    this.timers.delete(timer);
  }

  publish(code: EventCode): number {
    return this.host.bus.publish(code, this.name).seq;
  }

  waitForPreStopHooks(afterSeq: number): boolean {
    const wait = this.host.waitForPreStopHooks(afterSeq, this.config.stopTimeout);
    if (wait === null) return false;
    void wait.then(() => this.push({ kind: 'hooksDone' }));
    return true;
  }

  stateChanged(): void {
    this.host.stateChanged();
  }

  readyChanged(): void {
    this.host.readyChanged();
  }

  private start(
    argv: readonly string[],
    timeout: number | undefined,
    stopSignal: NodeJS.Signals,
    raw: boolean,
    extraEnv?: Record<string, string>,
  ): ProcessRun {
    const opts = this.processOptions(argv);
    if (extraEnv) opts.env = { ...opts.env, ...extraEnv };
    return ProcessRun.start({
      ...opts,
      timeout,
      stopSignal,
      stdout: raw ? 'inherit' : 'pipe',
      stderr: raw ? 'inherit' : 'pipe',
    });
  }

  /** What every process of this job shares: environment, working directory, user. */
  private processOptions(
    argv: readonly string[],
  ): Pick<RunOptions, 'argv' | 'env'> & Partial<Pick<RunOptions, 'cwd' | 'user'>> {
    const opts: Pick<RunOptions, 'argv' | 'env'> & Partial<Pick<RunOptions, 'cwd' | 'user'>> = {
      argv,
      env: this.host.childEnv(this.config, this.lifecycle),
    };
    if (this.config.workdir !== undefined) opts.cwd = this.config.workdir;
    if (this.config.user !== undefined) {
      // docs/configuration.md: `user` applies when pidpilot is root; otherwise it could only fail with EPERM.
      if (process.getuid?.() === 0) opts.user = this.config.user;
      else if (!this.warnedUser) {
        this.warnedUser = true;
        this.log.warn('`user` is ignored: pidpilot is not running as root');
      }
    }
    return opts;
  }

  /**
   * Relays the run's output; resolves when its streams have ended. After the run has
   * exited, a stream that stays silent for OUTPUT_QUIET_MS — nothing read and nothing
   * waiting for the log — is held open by something outside the process group (a daemon
   * that escaped with setsid): the exit is then reported without it. A stream that is
   * merely waiting for a slow log output is waited for, so no line is lost.
   */
  private relayOutput(run: ProcessRun, source: string, tail?: { text: string }): Promise<unknown> {
    const child = run.child;
    if (!child) return Promise.resolve();
    const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
    if (streams.length === 0) return Promise.resolve();
    const ended = Promise.all(
      streams.map((stream) =>
        this.host.relay(tail ? keepTail(stream, tail) : stream, source, stream === child.stdout ? 'stdout' : 'stderr'),
      ),
    );
    return Promise.race([ended, run.result.then(() => untilQuiet(streams))]);
  }

  private logExit(record: RunRecord): void {
    const fields = { run: record.run, pid: record.pid };
    if (record.outcome === 'succeeded') {
      this.log.debug(fields, 'exited with code 0');
    } else if (record.outcome === 'errored') {
      this.log.error(fields, `could not run: ${record.reason ?? 'error'}`);
    } else if (record.outcome === 'aborted') {
      this.log.info(fields, `stopped (${record.reason ?? 'stop'})`);
    } else {
      const how = record.signal ? `was killed by ${record.signal}` : `exited with code ${record.code}`;
      this.log.warn(fields, how);
    }
  }
}
