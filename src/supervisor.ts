/**
 * The supervisor coordinates: it builds the bus, the observer emitter, the child
 * environment and the job set from a validated Config, publishes `startup`, turns signals
 * into events, notices when there is nothing left to run, runs the ordered shutdown of
 * docs/lifecycle.md, and is the control plane's target (docs/control-api.md). Discovery, watches, history and
 * telemetry attach from outside (parts.ts), at the composition root, cli/run-supervisor.ts.
 *
 * It owns no job state: it talks to jobs only through the job set and reads snapshots.
 * `run()` resolves with the exit status pidpilot should exit with.
 */
import { ConfigErrors, UsageError } from './config/errors.js';
import { loadConfig } from './config/load.js';
import { replicasOf } from './config/replicas.js';
import type { Config } from './config/types.js';
import { configWarnings } from './config/validate/warnings.js';
import { planReload } from './control/reload-plan.js';
import { planScale, replicaCounts, Scales } from './control/scale-plan.js';
import type {
  ControlTarget,
  EnvChanges,
  JobAction,
  JobActionResult,
  MetricRecorder,
  ReloadResult,
  ScaleResult,
  StatusSnapshot,
} from './control/target.js';
import { Bus } from './events/bus.js';
import { GLOBAL_SOURCE } from './events/event.js';
import { type LongTimer, setLongTimeout } from './events/long-timer.js';
import { Observers } from './events/observers.js';
import { ChildEnv } from './jobs/child-env.js';
import { graphOf, type JobGraph } from './jobs/graph-model.js';
import type { Job } from './jobs/job.js';
import { JobSet, type RelayFn } from './jobs/job-set.js';
import type { JobState } from './jobs/state.js';
import { isTerminal } from './jobs/state.js';
import { nothingLeftToRun, stopInOrder, unknownSources } from './jobs/teardown.js';
import type { SupervisorLogger as Logger } from './log/logger.js';
import type { PartHost, SupervisorPart } from './parts.js';
import { decideExitStatus, type ShutdownCause } from './pid1/exit-status.js';
import { killAllGroups } from './process/run.js';
import type { HistoryReader } from './state/types.js';
import { VERSION } from './version.js';

export type { RelayFn };

export interface SupervisorOptions {
  log: Logger;
  relay: RelayFn;
  /** The environment children inherit (pidpilot's own, by default). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Applied to the configuration again on reload: run mode keeps only its target and what
   * it needs. May throw a UsageError (the target is gone from the file).
   */
  narrow?: (config: Config) => Config;
  /**
   * The checks start-up ran on the configuration in its environment (cli/preflight.ts), run
   * again on reload so that a reload start-up would refuse changes nothing. Throws ConfigErrors.
   */
  preflight?: (config: Config, env: Readonly<Record<string, string>>) => void;
  /** `pidpilot run JOB`: `main` is the target, and interrupting it before it finished is a failure. */
  runMode?: boolean;
}

/** After the global stop bound and a SIGKILL of everything, how long to wait for the reaping to be noticed. */
const AFTER_KILL_GRACE_MS = 500;

export class Supervisor implements ControlTarget, PartHost {
  readonly bus = new Bus();
  /** Run and check results, state changes: for history, telemetry, the dashboard. */
  readonly observers = new Observers();
  readonly env: ChildEnv;
  readonly jobs: JobSet;
  private readonly log: Logger;
  private readonly narrow: (config: Config) => Config;
  private readonly preflight: (config: Config, env: Readonly<Record<string, string>>) => void;
  private readonly runMode: boolean;
  private readonly parts: SupervisorPart[] = [];

  private shuttingDown = false;
  /** What started the shutdown: with the main job's end, it decides the exit status (pid1/exit-status.ts). */
  private shutdownCause: ShutdownCause = { kind: 'requested' };
  private finish!: (status: number) => void;
  private readonly finished = new Promise<number>((resolve) => (this.finish = resolve));
  private keepAlive: NodeJS.Timeout | null = null;
  private quiescenceCheck: NodeJS.Immediate | null = null;
  private deadline: LongTimer | null = null;

  // Control plane (docs/control-api.md) state.
  private readonly startedAt = Date.now();
  private maintenance = false;
  /** Set by telemetry once its metrics are loaded. */
  metrics: MetricRecorder | null = null;
  /** Set by the composition root when the history is recorded. */
  history: HistoryReader | null = null;
  /** Reloads, scales and job actions run one at a time. */
  private controlChain: Promise<unknown> = Promise.resolve();
  /** The counts `scale` set, kept across reloads that leave the file's `replicas` as it was. */
  private readonly scales: Scales;

  constructor(
    /** Replaced by a successful reload. */
    public config: Config,
    options: SupervisorOptions,
  ) {
    this.log = options.log;
    this.narrow = options.narrow ?? ((c) => c);
    this.preflight = options.preflight ?? (() => {});
    this.runMode = options.runMode ?? false;
    this.env = new ChildEnv(options.env ?? process.env);
    this.scales = new Scales(replicaCounts(config));
    if (this.log.isLevelEnabled('debug')) {
      this.bus.observe((e) => this.log.debug({ seq: e.seq }, `event ${e.code} ${e.source}`));
    }
    this.jobs = new JobSet(config.jobs, {
      bus: this.bus,
      log: this.log,
      observers: this.observers,
      env: this.env,
      relay: options.relay,
    });
    this.observers.on('state', (name, state) => this.onStateChanged(name, state));
    for (const warning of configWarnings(config)) this.log.warn(warning);
  }

  attach(part: SupervisorPart): void {
    this.parts.push(part);
  }

  /** Start every job loop, publish `startup`, and resolve with the exit status once everything has ended. */
  run(): Promise<number> {
    // A SIGTERM that came while pidpilot was starting: start nothing.
    if (this.shuttingDown) return this.finished;
    this.warnUnknownSources();
    // Pending jobs wait on events that may come from outside (signals); keep the loop alive until the end.
    this.keepAlive = setInterval(() => {}, 1 << 30);
    this.jobs.startAll();
    this.bus.publish('startup', GLOBAL_SOURCE);
    for (const part of this.parts) part.started?.();
    this.scheduleQuiescenceCheck();
    return this.finished;
  }

  /** SIGHUP and SIGUSR2 become events that jobs can be triggered by. */
  signalEvent(signal: 'SIGHUP' | 'SIGUSR2'): void {
    this.bus.publish('signal', signal);
  }

  /** A signal pidpilot does not act on itself (docs/pid1.md): passed on to every running process group. */
  forwardSignal(signal: NodeJS.Signals): void {
    const groups = killAllGroups(signal);
    this.log.debug(`forwarded ${signal} to ${groups} process group${groups === 1 ? '' : 's'}`);
  }

  /**
   * The graceful shutdown of docs/lifecycle.md. Calling it again while it runs escalates:
   * every process group is killed at once.
   */
  shutdown(reason: string, cause: ShutdownCause = { kind: 'requested' }): Promise<number> {
    if (this.shuttingDown) {
      this.log.warn(`${reason} during shutdown: killing every job now`);
      this.forceKill();
      return this.finished;
    }
    this.shuttingDown = true;
    this.shutdownCause = cause;
    this.log.info(`shutting down (${reason})`);
    this.bus.publish('shutdown', GLOBAL_SOURCE);
    // Parts first (services leave discovery, watches stop), so no traffic goes to jobs about to stop.
    const parts = this.parts.flatMap((part) => part.shutdown?.(this.config.stopTimeout) ?? []);
    this.deadline = setLongTimeout(() => {
      this.log.warn(`shutdown took longer than stopTimeout (${this.config.stopTimeout}ms): killing what is left`);
      this.forceKill();
    }, this.config.stopTimeout);
    const jobsStopped = stopInOrder(this.jobs, 'shutdown', Promise.all(parts.map((p) => p.beforeJobsStop)));
    void Promise.all([jobsStopped, ...parts.map((p) => p.closed)]).then(() => this.end());
    return this.finished;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  job(name: string): Job | undefined {
    return this.jobs.get(name);
  }

  reasonOf(job: string): string | undefined {
    return this.jobs.get(job)?.currentReason;
  }

  // ---------------------------------------------------------------------------
  // Control plane (docs/control-api.md): what the control socket and telemetry call.

  putEnv(changes: EnvChanges): void {
    this.env.put(changes); // throws (422) past the bounds, changing nothing
    this.log.info(`environment changed: ${Object.keys(changes).join(', ')}`);
  }

  setMaintenance(on: boolean): boolean {
    if (this.maintenance === on || this.shuttingDown) return false;
    this.maintenance = on;
    this.jobs.setMaintenance(on);
    for (const part of this.parts) part.maintenance?.(on);
    this.log.info(on ? 'entering maintenance mode' : 'leaving maintenance mode');
    this.bus.publish(on ? 'enterMaintenance' : 'exitMaintenance', GLOBAL_SOURCE);
    return true;
  }

  status(): StatusSnapshot {
    return {
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      maintenance: this.maintenance,
      shuttingDown: this.shuttingDown,
      jobs: this.jobs.snapshots(),
      watches: this.config.watches.map((w) => w.name),
    };
  }

  jobGraph(): JobGraph {
    return graphOf(this.config);
  }

  jobExists(name: string): boolean {
    return this.jobs.has(name);
  }

  instancesOf(name: string): string[] {
    return replicasOf(this.config.jobs, name).map((j) => j.name);
  }

  jobAction(name: string, action: JobAction, opts: { timeoutMs?: number } = {}): Promise<JobActionResult> {
    return this.serialized(async (): Promise<JobActionResult> => {
      const job = this.jobs.get(name);
      if (!job) return { ok: false, status: 404, error: `no such job: ${name}` };
      if (this.shuttingDown) return { ok: false, status: 409, error: 'pidpilot is shutting down' };
      const state = job.currentState;
      if (action === 'start' && !isTerminal(state)) {
        return {
          ok: false,
          status: 409,
          error: `job ${name} is ${state}: only a stopped, completed or failed job can be started`,
        };
      }
      this.log.info({ job: name }, `${action} requested through the control socket`);
      if (action === 'stop') await this.jobs.stop(job, 'stop', opts.timeoutMs);
      else await this.jobs.replace(job, action, opts.timeoutMs);
      this.scheduleQuiescenceCheck();
      return { ok: true, job: name, action, state: this.jobs.get(name)!.currentState };
    });
  }

  /** Re-reads the file, or every layer (docs/control-api.md): unchanged jobs keep running, changed ones restart, removed ones stop, new ones start. */
  reload(): Promise<ReloadResult> {
    return this.serialized(async (): Promise<ReloadResult> => {
      const file = this.config.file;
      if (this.shuttingDown) return { ok: false, errors: [{ file, path: '', message: 'pidpilot is shutting down' }] };
      let next: Config;
      try {
        // Rendered against the environment as changed by putenv, as ContainerPilot did.
        next = this.scales.keep(this.narrow(loadConfig(this.config.files ?? file, this.env.base)));
        this.preflight(next, this.env.base);
      } catch (err) {
        if (err instanceof UsageError) {
          this.log.warn(`reload refused: ${err.message}; nothing changed`);
          return { ok: false, errors: [{ file, path: '', message: err.message }] };
        }
        if (!(err instanceof ConfigErrors)) throw err;
        this.log.warn(`reload refused: ${err.total} configuration error(s); nothing changed`);
        return { ok: false, errors: err.errors.map((e) => e.toJSON()) };
      }
      const plan = planReload(this.config, next);
      this.log.info(
        `reloading ${file}: ${plan.changed.length} changed, ${plan.added.length} new, ${plan.removed.length} removed, ${plan.unchanged.length} unchanged`,
      );
      if (plan.notApplied.length > 0)
        this.log.warn(`reload: changes to ${plan.notApplied.join(', ')} take effect when pidpilot restarts`);
      await this.apply(next, plan);
      return {
        ok: true,
        unchanged: plan.unchanged,
        restarted: plan.changed,
        started: plan.added,
        stopped: plan.removed,
        notApplied: plan.notApplied,
      };
    });
  }

  /** `scale JOB N`: the highest-numbered instances stop (their whole teardown) or new ones start. */
  scale(name: string, replicas: number): Promise<ScaleResult> {
    return this.serialized(async (): Promise<ScaleResult> => {
      if (this.shuttingDown) return { ok: false, status: 409, error: 'pidpilot is shutting down' };
      const next = planScale(this.config, name, replicas);
      if ('ok' in next) return next;
      const plan = planReload(this.config, next);
      this.log.info(
        { job: name },
        `scaling ${name} to ${replicas}: ${plan.added.length > 0 ? `starting ${plan.added.join(', ')}` : plan.removed.length > 0 ? `stopping ${plan.removed.join(', ')}` : 'nothing to do'}`,
      );
      this.scales.set(name, replicas);
      await this.apply(next, plan);
      return { ok: true, job: name, replicas, started: plan.added, stopped: plan.removed };
    });
  }

  /** Retires, starts and replaces jobs as `plan` says; discovery takes the new definitions in between. */
  private async apply(next: Config, plan: ReturnType<typeof planReload>): Promise<void> {
    this.config = next;
    await this.jobs.reload(next, plan, () => {
      for (const part of this.parts) part.reloaded?.(next);
    });
    this.scheduleQuiescenceCheck();
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.controlChain.then(fn, fn);
    this.controlChain = run.catch(() => {});
    return run;
  }

  // ---------------------------------------------------------------------------

  /** The main job ending ends pidpilot; any job settling may leave nothing to run. */
  private onStateChanged(name: string, state: JobState): void {
    if (isTerminal(state) && name === this.config.main && !this.shuttingDown) {
      if (state === 'failed') this.log.error(`main job ${name} failed: ${this.reasonOf(name) ?? 'unknown reason'}`);
      void this.shutdown(`main job ${name} ${state}`, { kind: 'main-ended' });
      return;
    }
    // Cheap on the hot path: while any job is starting, running or stopping, nothing is quiet.
    if ((isTerminal(state) || state === 'pending' || state === 'waiting') && this.jobs.activeCount === 0)
      this.scheduleQuiescenceCheck();
  }

  /** Sources some part publishes for as long as pidpilot runs (watches). */
  private readonly livesOn = (source: string): boolean => this.parts.some((part) => part.publishes?.(source) === true);

  /** Checked after the job queues had a chance to drain, so a trigger in flight is not missed. */
  private scheduleQuiescenceCheck(): void {
    if (this.shuttingDown || this.quiescenceCheck !== null) return;
    this.quiescenceCheck = setImmediate(() => {
      this.quiescenceCheck = null;
      if (this.shuttingDown || !nothingLeftToRun(this.jobs.current, this.livesOn)) return;
      const main = this.config.main === undefined ? undefined : this.jobs.get(this.config.main);
      if (main && !isTerminal(main.currentState) && main.snapshot().runs === 0) {
        // The main job never ran and never will: a failure of what pidpilot was asked to do.
        // (One that ran and waits for another trigger keeps its last run's status.)
        this.log.error(`main job ${main.name} can no longer start: what it waits for cannot happen any more`);
        return void this.shutdown(`main job ${main.name} cannot start`, { kind: 'main-cannot-start' });
      }
      void this.shutdown('every job has completed', { kind: 'completed' });
    });
  }

  /** A `when.source` nothing can ever publish is almost always a typo: say so at start. */
  private warnUnknownSources(): void {
    for (const { job, source } of unknownSources(this.config.jobs, this.livesOn)) {
      const code = job.when.kind === 'event' ? job.when.code : '';
      this.log.warn(
        { job: job.name },
        `job ${job.name} waits for "${code}" from "${source}", which no job, health check, watch or signal publishes: it will never start`,
      );
    }
  }

  private forceKill(): void {
    killAllGroups('SIGKILL');
    setTimeout(() => this.end(), AFTER_KILL_GRACE_MS).unref();
  }

  private end(): void {
    this.deadline?.clear();
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.quiescenceCheck) clearImmediate(this.quiescenceCheck);
    for (const part of this.parts) part.close?.();
    this.jobs.close();
    this.finish(this.decideExitStatus());
  }

  private decideExitStatus(): number {
    const main = this.config.main === undefined ? undefined : this.jobs.get(this.config.main)?.snapshot();
    return decideExitStatus({
      cause: this.shutdownCause,
      ...(main ? { main: { runMode: this.runMode, failed: main.state === 'failed', lastRun: main.lastRun } } : {}),
    });
  }
}
