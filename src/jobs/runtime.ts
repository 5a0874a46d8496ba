/**
 * The real effects of a job (JobEffects): its processes, health checks, timers and bus
 * subscription. Everything that comes back — an exit, a setup command's end, a check
 * done, a timer, a bus event — is pushed onto the job's queue as an input.
 */
import type { Readable } from 'node:stream';
import { type CronSchedule, cronSchedule } from '../config/cron.js';
import type { JobConfig } from '../config/types.js';
import type { Bus, Subscription } from '../events/bus.js';
import type { EventCode } from '../events/event.js';
import { GLOBAL_SOURCE } from '../events/event.js';
import type { CheckEnd } from '../events/observers.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { ChildEnvSpec } from '../process/child-env-block.js';
import type { NotifyDir } from '../process/notify-dir.js';
import { numberedRun, ProcessRun, type RunOptions } from '../process/run.js';
import type { RunRecord } from '../process/types.js';
import { resolveUser } from '../process/user.js';
import { exitEvent } from './after-exit.js';
import type { InputSink, JobEffects, RunContext, RunHandle, Timer } from './effects.js';
import { HealthRunner } from './health-runner.js';
import { JobTimers } from './job-timers.js';
import { type CleanupStep, describeStep, runCleanup, stepRecord } from './liveness/cleanup.js';
import { lifecycleEnv, runEndEnv } from './liveness/env.js';
import { openRunNotify } from './liveness/notify-run.js';
import { checkSourceOf, publishedName } from './naming.js';
import { relayRunOutput } from './run-output.js';

/** What a job's runtime needs from the supervisor: shared services, and callbacks bound to this job instance. */
export interface JobHost {
  readonly bus: Bus;
  readonly log: Logger;
  /** The complete environment for a child of this job, its lifecycle variables (PIDPILOT_*) and then `extra` last. */
  childEnv(
    job: JobConfig,
    lifecycle: Readonly<Record<string, string>>,
    extra?: Readonly<Record<string, string>>,
  ): ChildEnvSpec;
  /**
   * Relay one output stream of a child (`source` is the job name or `check.<job>`).
   * Resolves once the stream has ended and its lines reached the log. Never rejects.
   */
  relay(stream: Readable, source: string, name: 'stdout' | 'stderr'): Promise<void>;
  /** The job's main process started (pid) or ended (null). */
  pidChanged(pid: number | null): void;
  /** A run ended: known at once (for the environment of the runs its end triggers). */
  runEnded(record: RunRecord): void;
  /** A run's record is complete (for history and metrics): at its end, or once its cleanup commands have ended. */
  runRecorded(record: RunRecord): void;
  /** One cleanup command ended: the reason of the cleanup event `source` publishes next. */
  cleanupStep(source: string, reason: string): void;
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

/** The bus filter of a job: only the events it reacts to reach its queue. */
export function jobWants(config: JobConfig): {
  sources: string[];
  accepts: (code: EventCode, source: string) => boolean;
} {
  const checkSource = checkSourceOf(config);
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
  /** The source of its events: its name, or the name a duplicate shares (naming.ts). */
  private readonly published: string;
  private readonly subscription: Subscription;
  private readonly timers: JobTimers;
  private readonly checks: HealthRunner | null;
  private warnedUser = false;
  /** `when.cron`, parsed on first use (croner is loaded only then), and the last tick armed. */
  private cron: CronSchedule | null = null;
  private lastCronTick = 0;
  /** PIDPILOT_JOB/RUN/RESTARTS of the current run, for every process of the job (checks, setup, cleanup too). */
  private lifecycle: Record<string, string>;
  /** The last run's record while its cleanup commands run (it is recorded with them). */
  private unrecorded: RunRecord | null = null;

  constructor(
    private readonly config: JobConfig,
    private readonly host: JobHost,
    private readonly push: InputSink,
  ) {
    this.name = config.name;
    this.published = publishedName(config);
    this.log = host.log.child({ job: config.name });
    this.timers = new JobTimers(push);
    this.checks = config.health
      ? // A duplicate's check publishes under the shared name, check.<name> (naming.ts).
        new HealthRunner(this.published, config.health, host, this.log, push, (argv, timeout, signal, raw) =>
          this.start(argv, timeout, signal, raw),
        )
      : null;
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
    this.flushUnrecorded();
    this.subscription.close();
  }

  spawnMain(runNumber: number, context: RunContext): RunHandle {
    this.flushUnrecorded();
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
      const record = numberedRun(runNumber, result);
      this.logExit(record);
      this.host.pidChanged(null);
      this.host.runEnded(record);
      // With cleanup commands, the record is complete once they have ended (runCleanup).
      this.flushUnrecorded();
      if (this.config.cleanup.length > 0) this.unrecorded = record;
      else this.host.runRecorded(record);
      // Published once the run's last output line is logged, so logs read cause before effect.
      this.host.bus.publish(exitEvent(record), this.published);
      this.push({ kind: 'exited', run, record });
    });
    if (run.pid !== null) this.host.pidChanged(run.pid);
    return run;
  }

  runCleanup(cleanup: number, record: RunRecord): void {
    const env = runEndEnv(this.name, record);
    const onStep = (step: CleanupStep): void => {
      this.host.cleanupStep(this.published, describeStep(step));
      this.host.bus.publish(step.result.outcome === 'succeeded' ? 'cleanupSuccess' : 'cleanupFailed', this.published);
    };
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
      onStep,
    ).then((steps) => {
      if (this.unrecorded?.run === record.run) {
        this.unrecorded = null;
        this.host.runRecorded({ ...record, cleanup: steps.map(stepRecord) });
      }
      this.push({ kind: 'cleanupDone', cleanup });
    });
  }

  /** A run whose cleanup never came (its end was not the job's to act on): recorded as it is. */
  private flushUnrecorded(): void {
    if (this.unrecorded === null) return;
    this.host.runRecorded(this.unrecorded);
    this.unrecorded = null;
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
      this.push({ kind: 'setupDone', run, index, record: numberedRun(index + 1, result) });
    });
    return run;
  }

  stopRun(run: RunHandle, graceMs: number, reason: string): void {
    void (run as ProcessRun).stop(graceMs, reason);
  }

  startCheck(id: number): void {
    this.checks?.start(id);
  }

  lastCheckDetail(): string {
    return this.checks?.lastDetail() ?? 'no check ran yet';
  }

  stopCheck(): void {
    this.checks?.stop();
  }

  setTimer(timer: Timer, ms: number): void {
    this.timers.set(timer, ms);
  }

  armCronTick(): number | null {
    const when = this.config.when;
    if (when.kind !== 'cron') return null;
    try {
      this.cron ??= cronSchedule(when.cron, when.timezone);
    } catch {
      return null; // validated at load: it can only have run out of ticks since
    }
    // Never the same tick twice, even if the wall clock was set back since it fired.
    const next = this.cron.next(Math.max(Date.now(), this.lastCronTick));
    if (next === null) return null;
    this.lastCronTick = next;
    this.timers.setAt('cron', next);
    return next;
  }

  clearTimer(timer: Timer): void {
    this.timers.clear(timer);
  }

  publish(code: EventCode): number {
    return this.host.bus.publish(code, this.published).seq;
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

  /**
   * Starts a process of this job, with what every one of them shares: environment, working
   * directory, user. The options are built field by field, the run's extra variables into the
   * environment as it is made: object spreads here (the options, the environment's overlay) were
   * V8's generic copies, ≈ a fifth of the time from a job's exit to the next job's spawn in a
   * chain (bench/README.md, sixth round).
   */
  private start(
    argv: readonly string[],
    timeout: number | undefined,
    stopSignal: NodeJS.Signals,
    raw: boolean,
    extraEnv?: Record<string, string>,
  ): ProcessRun {
    const opts: RunOptions = {
      argv,
      env: this.host.childEnv(this.config, this.lifecycle, extraEnv),
      timeout,
      stopSignal,
      stdout: raw ? 'inherit' : 'pipe',
      stderr: raw ? 'inherit' : 'pipe',
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
    return ProcessRun.start(opts);
  }

  private relayOutput(run: ProcessRun, source: string): Promise<unknown> {
    return relayRunOutput(this.host, run, source);
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
