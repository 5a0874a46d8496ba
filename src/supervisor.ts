/**
 * The supervisor wires the parts together: it builds the bus and the job loops from a
 * validated Config, publishes `startup`, turns signals into events, notices when there
 * is nothing left to do, and runs the ordered shutdown of SPEC §5.
 *
 * It owns no job state: it talks to jobs only by pushing inputs and reads them through
 * snapshots. `run()` resolves with the exit status pidpilot should exit with.
 */
import type { Readable } from 'node:stream';
import { ConfigErrors, UsageError } from './config/errors.js';
import { loadConfig } from './config/load.js';
import { dependencyWarnings } from './config/validate/dependencies.js';
import type { Config, JobConfig } from './config/types.js';
import { planReload } from './control/reload-plan.js';
import { applyEnvChanges } from './control/env-limits.js';
import type { ControlTarget, EnvChanges, JobAction, JobActionResult, MetricRecorder, ReloadResult, StatusSnapshot } from './control/target.js';
import { leaveDiscovery } from './discovery/shutdown.js';
import type { ServiceRegistry } from './discovery/types.js';
import { Bus } from './events/bus.js';
import type { EventCode } from './events/event.js';
import { GLOBAL_SOURCE, SIGNAL_SOURCES } from './events/event.js';
import type { TeardownGraph } from './jobs/graph.js';
import { buildTeardownGraph } from './jobs/graph.js';
import { graphOf, type JobGraph } from './jobs/graph-model.js';
import type { DependencyView } from './jobs/dependencies.js';
import { Job, type JobCarry } from './jobs/job.js';
import { type CheckEnd, type JobHost, JobRuntime } from './jobs/runtime.js';
import type { JobState } from './jobs/state.js';
import { isAwaiting, isTerminal } from './jobs/state.js';
import type { SupervisorLogger as Logger } from './log/logger.js';
import { killAllGroups } from './process/run.js';
import type { RunRecord } from './process/types.js';
import { pidEnvName } from './jobs/naming.js';
import { decideExitStatus, type ShutdownCause } from './pid1/exit-status.js';
import { NotifyDir, notifyUnsupported } from './process/notify.js';
import { hostname, networkInterfaces } from 'node:os';
import { createDiscovery } from './discovery/create.js';
import { LocalCatalog } from './discovery/local/catalog.js';
import { ipEnvName, Registrar, serviceDefinitions } from './discovery/registrar.js';
import type { Discovery, ServiceDefinition } from './discovery/types.js';
import { Watch, WATCH_SOURCE_PREFIX } from './watches/watch.js';
import { VERSION } from './version.js';
import type { LineWriter } from './log/types.js';
import { resolveStateDir } from './state/dir.js';
import { HistoryStore } from './state/store.js';
import type { HistoryReader } from './state/types.js';
import { type LongTimer, setLongTimeout } from './events/long-timer.js';

/** A job that is neither waiting (for a trigger or a dependency) nor ended. */
function isActive(state: JobState): boolean {
  return !isAwaiting(state) && !isTerminal(state);
}

export type RelayFn = (stream: Readable, source: string, name: 'stdout' | 'stderr') => Promise<void>;

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
  /** Service discovery, for maintenance mode (SPEC §9); the discovery in use by default. */
  registry?: ServiceRegistry | null;
  /** Record events, runs and output in the state dir (SPEC §7). Off by default (in-process tests). */
  history?: boolean;
  /** `pidpilot run JOB`: `main` is the target, and interrupting it before it finished is a failure. */
  runMode?: boolean;
}

/** Events recorded in the history with the reason of the job's state. */
const REASONED_EVENTS: ReadonlySet<EventCode> = new Set<EventCode>(['stopping', 'stopped', 'failed', 'timerExpired']);

/** After the global stop bound and a SIGKILL of everything, how long to wait for the reaping to be noticed. */
const AFTER_KILL_GRACE_MS = 500;
/** Added to twice a job's stopTimeout: when a stop through the control socket kills what is left. */
const STOP_BACKSTOP_MS = 1000;

export class Supervisor implements ControlTarget {
  readonly bus = new Bus();
  private readonly log: Logger;
  private readonly relayFn: RelayFn;
  private readonly narrow: (config: Config) => Config;
  private readonly jobs = new Map<string, Job>();
  private readonly loops = new Map<string, Promise<void>>();
  private graph: TeardownGraph;
  private readonly baseEnv: Record<string, string>;
  /** CONTAINERPILOT_{JOB}_PID of every job whose process is running. */
  private readonly pidEnv = new Map<string, string>();
  /** For each job, the names of the jobs that list it in `dependsOn` (names: instances are replaced by reload and restart). */
  private readonly dependents = new Map<string, string[]>();

  private shuttingDown = false;
  /** Each job's state as last reported, and how many are neither pending nor ended. */
  private readonly lastStates = new Map<string, JobState>();
  private activeJobs = 0;
  /** What started the shutdown: with the main job's end, it decides the exit status (pid1/exit-status.ts). */
  private shutdownCause: ShutdownCause = { kind: 'requested' };
  private readonly runMode: boolean;
  private finish!: (status: number) => void;
  private readonly finished = new Promise<number>((resolve) => (this.finish = resolve));
  private keepAlive: NodeJS.Timeout | null = null;
  private quiescenceCheck: NodeJS.Immediate | null = null;
  private deadline: LongTimer | null = null;
  /** Service discovery (SPEC §6): Consul, or the embedded local catalog. */
  readonly discovery: Discovery;
  readonly watches = new Map<string, Watch>();
  /** Registers jobs with a `port` as bus events say (created with the discovery). */
  private registrar!: Registrar;
  /** The CONTAINERPILOT_{JOB}_IP names set in the children's environment (replaced on reload). */
  private readonly ipEnvNames = new Set<string>();
  private discoveryClosed: Promise<void> = Promise.resolve();
  /** A setting that keeps pidpilot from starting at all (a bad `consul`), as a config error would. */
  private startupError: string | null = null;
  /**
   * Each job's last finished run, as soon as it is known: before its exitSuccess/exitFailed is
   * published, so a job that event triggers gets its outcome (the job's own record follows later).
   */
  private readonly lastRuns = new Map<string, RunRecord>();
  /** The directory of the sd_notify sockets, made when the first `notify` job starts. */
  private notifySockets: NotifyDir | null = null;

  // Control plane (SPEC §9) state.
  /** What every job instance's runtime shares (the per-instance callbacks are added in createJob). */
  private readonly shared: Pick<JobHost, 'bus' | 'log' | 'childEnv' | 'relay'>;
  private readonly startedAt = Date.now();
  private maintenance = false;
  private readonly registry: ServiceRegistry;
  metrics: MetricRecorder | null = null;
  /** Job instances being stopped to be replaced (reload, restart) or removed (reload). */
  private readonly retiring = new Set<Job>();
  private readonly runListeners: Array<(job: string, record: RunRecord) => void> = [];
  private readonly checkListeners: Array<(job: string, check: CheckEnd) => void> = [];
  /** Reloads and job actions run one at a time. */
  private controlChain: Promise<unknown> = Promise.resolve();
  private readonly store: HistoryStore | null;

  constructor(
    /** Replaced by a successful reload. */
    public config: Config,
    options: SupervisorOptions,
  ) {
    this.log = options.log;
    this.relayFn = options.relay;
    this.narrow = options.narrow ?? ((c) => c);
    this.runMode = options.runMode ?? false;
    this.baseEnv = {};
    for (const [k, v] of Object.entries(options.env ?? process.env)) if (v !== undefined) this.baseEnv[k] = v;
    this.baseEnv.CONTAINERPILOT_PID = String(process.pid);
    this.graph = buildTeardownGraph(config.jobs);
    for (const cycle of this.graph.cycles) {
      this.log.warn(`stop hooks and dependencies form a cycle (${cycle.join(' -> ')}); that edge is ignored when ordering shutdown`);
    }
    if (this.log.isLevelEnabled('debug')) {
      this.bus.observe((e) => this.log.debug({ seq: e.seq }, `event ${e.code} ${e.source}`));
    }
    this.discovery = this.startDiscovery(options.env ?? process.env);
    this.registry = options.registry ?? this.discovery;
    this.refuseUnsupportedNotify(config);
    this.store = options.history ? this.openHistory() : null;
    this.shared = this.sharedHost();
    for (const jobConfig of config.jobs) this.jobs.set(jobConfig.name, this.createJob(jobConfig));
    this.indexDependents();
    // Each dependent learns where its dependencies stand (and so what to say it waits for).
    for (const job of this.jobs.values()) this.tellDependencies(job);
    this.warnUnknownSources();
    for (const warning of dependencyWarnings(config.jobs)) this.log.warn(warning);
  }

  /** Start every job loop, publish `startup`, and resolve with the exit status once everything has ended. */
  run(): Promise<number> {
    if (this.startupError !== null) return Promise.resolve(2);
    // A SIGTERM that came while pidpilot was starting: start nothing.
    if (this.shuttingDown) return this.finished;
    // Pending jobs wait on events that may come from outside (signals); keep the loop alive until the end.
    this.keepAlive = setInterval(() => {}, 1 << 30);
    for (const [name, job] of this.jobs) this.loops.set(name, job.start());
    this.bus.publish('startup', GLOBAL_SOURCE);
    for (const watch of this.watches.values()) watch.start();
    this.scheduleQuiescenceCheck();
    return this.finished;
  }

  /** SIGHUP and SIGUSR2 become events that jobs can be triggered by. */
  signalEvent(signal: 'SIGHUP' | 'SIGUSR2'): void {
    this.bus.publish('signal', signal);
  }

  /** A signal pidpilot does not act on itself (SPEC §4.1): passed on to every running process group. */
  forwardSignal(signal: NodeJS.Signals): void {
    const groups = killAllGroups(signal);
    this.log.debug(`forwarded ${signal} to ${groups} process group${groups === 1 ? '' : 's'}`);
  }

  /**
   * The graceful shutdown of SPEC §5. Calling it again while it runs escalates:
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
    // Watches stop and services leave discovery first, so no traffic goes to jobs about to stop:
    // jobs are stopped once deregistration is done, or its share of stopTimeout has passed.
    for (const watch of this.watches.values()) void watch.stop();
    const { closed, deregistered } = leaveDiscovery(this.discovery, this.config.stopTimeout);
    this.discoveryClosed = closed;
    this.deadline = setLongTimeout(() => {
      this.log.warn(`shutdown took longer than stopTimeout (${this.config.stopTimeout}ms): killing what is left`);
      this.forceKill();
    }, this.config.stopTimeout);

    // Reverse dependency order: a job is stopped once every job that must stop before it has ended.
    for (const [name, job] of this.jobs) {
      const before = this.graph.stopAfter(name).map((n) => this.loops.get(n));
      void Promise.all([...before, deregistered]).then(() => job.requestStop('shutdown'));
    }
    void Promise.all([...this.loops.values(), this.discoveryClosed]).then(() => this.end());
    return this.finished;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  job(name: string): Job | undefined {
    return this.jobs.get(name);
  }

  /** Calls `listener` with every finished run (metrics, history). */
  observeRuns(listener: (job: string, record: RunRecord) => void): void {
    this.runListeners.push(listener);
  }

  /** Calls `listener` with every finished health check (metrics: check latency). */
  observeChecks(listener: (job: string, check: CheckEnd) => void): void {
    this.checkListeners.push(listener);
  }

  /** The recorded history (SPEC §7), or null when it is not recorded. */
  get history(): HistoryReader | null {
    return this.store;
  }

  /** `writer`, also capturing job output into the history. */
  captureOutput(writer: LineWriter): LineWriter {
    return this.store ? this.store.captureWriter(writer) : writer;
  }

  // ---------------------------------------------------------------------------
  // Control plane (SPEC §9): what the control socket and telemetry call.

  putEnv(changes: EnvChanges): void {
    applyEnvChanges(this.baseEnv, changes); // throws (422) past the bounds, changing nothing
    this.log.info(`environment changed: ${Object.keys(changes).join(', ')}`);
  }

  setMaintenance(on: boolean): boolean {
    if (this.maintenance === on || this.shuttingDown) return false;
    this.maintenance = on;
    this.registry.setMaintenance(on);
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
      jobs: [...this.jobs.values()].map((job) => job.snapshot()),
      watches: this.config.watches.map((w) => w.name),
    };
  }

  jobGraph(): JobGraph {
    return graphOf(this.config);
  }

  jobExists(name: string): boolean {
    return this.jobs.has(name);
  }

  jobAction(name: string, action: JobAction, opts: { timeoutMs?: number } = {}): Promise<JobActionResult> {
    return this.serialized(async (): Promise<JobActionResult> => {
      const job = this.jobs.get(name);
      if (!job) return { ok: false, status: 404, error: `no such job: ${name}` };
      if (this.shuttingDown) return { ok: false, status: 409, error: 'pidpilot is shutting down' };
      const state = job.currentState;
      if (action === 'start' && !isTerminal(state)) {
        return { ok: false, status: 409, error: `job ${name} is ${state}: only a stopped, completed or failed job can be started` };
      }
      this.log.info({ job: name }, `${action} requested through the control socket`);
      if (action === 'stop') {
        await this.stopJob(job, 'stop', opts.timeoutMs);
      } else {
        // A running instance is stopped first; an ended one only needs detaching from the bus.
        if (!isTerminal(state)) await this.retire(job, action, opts.timeoutMs);
        else job.close();
        if (!this.shuttingDown) {
          this.launch(this.createJob(job.config, job.carry()), { trigger: true });
          this.rearmHooks([name]);
        }
      }
      this.scheduleQuiescenceCheck();
      return { ok: true, job: name, action, state: this.jobs.get(name)!.currentState };
    });
  }

  /** Re-reads the file, or every layer (SPEC §9): unchanged jobs keep running, changed ones restart, removed ones stop, new ones start. */
  reload(): Promise<ReloadResult> {
    return this.serialized(async (): Promise<ReloadResult> => {
      const file = this.config.file;
      if (this.shuttingDown) return { ok: false, errors: [{ file, path: '', message: 'pidpilot is shutting down' }] };
      let next: Config;
      try {
        // Rendered against the environment as changed by putenv, as ContainerPilot did.
        next = this.narrow(loadConfig(this.config.files ?? file, this.baseEnv));
      } catch (err) {
        if (err instanceof UsageError) {
          this.log.warn(`reload refused: ${err.message}; nothing changed`);
          return { ok: false, errors: [{ file, path: '', message: err.message }] };
        }
        if (!(err instanceof ConfigErrors)) throw err;
        this.log.warn(`reload refused: ${err.errors.length} configuration error(s); nothing changed`);
        return { ok: false, errors: err.errors.map((e) => e.toJSON()) };
      }
      const plan = planReload(this.config, next);
      this.log.info(
        `reloading ${file}: ${plan.changed.length} changed, ${plan.added.length} new, ${plan.removed.length} removed, ${plan.unchanged.length} unchanged`,
      );
      if (plan.notApplied.length > 0) this.log.warn(`reload: changes to ${plan.notApplied.join(', ')} take effect when pidpilot restarts`);
      const old = this.jobs;
      this.config = next;
      this.graph = buildTeardownGraph(next.jobs);
      this.indexDependents();
      await Promise.all([...plan.changed, ...plan.removed].map((name) => this.retire(old.get(name)!, 'reload')));
      for (const name of plan.removed) {
        this.jobs.delete(name);
        this.loops.delete(name);
        this.lastStates.delete(name);
      }
      // The retired instances have deregistered; the new ones register with their new definitions.
      this.registrar.update(this.advertise(next.jobs));
      if (!this.shuttingDown) {
        const byName = new Map(next.jobs.map((j) => [j.name, j]));
        // Every new instance is in place before any starts, so none judges a dependency by the retired instance.
        const fresh = [...plan.changed, ...plan.added].map((name) => this.createJob(byName.get(name)!, old.get(name)?.carry()));
        for (const job of fresh) this.jobs.set(job.name, job);
        for (const job of fresh) this.launch(job, { trigger: false });
        this.rearmHooks(plan.changed);
        // Keep the map in the file's order, which status lists.
        const ordered = new Map(next.jobs.map((j) => [j.name, this.jobs.get(j.name)!]));
        this.jobs.clear();
        for (const [name, job] of ordered) this.jobs.set(name, job);
      }
      this.scheduleQuiescenceCheck();
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

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.controlChain.then(fn, fn);
    this.controlChain = run.catch(() => {});
    return run;
  }

  /** Builds a job instance; `carry` continues a replaced instance's run numbers and restart count. */
  private createJob(config: JobConfig, carry?: JobCarry): Job {
    let job!: Job;
    const host: JobHost = {
      ...this.shared,
      pidChanged: (pid) => {
        const key = pidEnvName(config.name);
        if (pid === null) this.pidEnv.delete(key);
        else this.pidEnv.set(key, String(pid));
      },
      runEnded: (record) => this.onRunEnded(job, record),
      checkEnded: (check) => {
        for (const listener of this.checkListeners) listener(config.name, check);
      },
      stateChanged: () => this.onStateChanged(job),
      readyChanged: () => this.notifyDependents(job),
      waitForPreStopHooks: (afterSeq, timeoutMs) => {
        const hooks = this.graph.preStopHooks(config.name);
        return hooks.length === 0 ? null : this.waitForHooks(hooks, afterSeq, timeoutMs);
      },
      notifyDir: () => (this.notifySockets ??= new NotifyDir()),
      lastRunOf: (name) => this.lastRuns.get(name) ?? null,
    };
    job = new Job(config, (push) => new JobRuntime(config, host, push), carry);
    return job;
  }

  /**
   * Starts a job instance built after `startup`: it is told where its dependencies stand,
   * then launched — as if it had seen `startup` and, with `trigger`, its `when` event, so
   * `start JOB` runs it now.
   */
  private launch(job: Job, opts: { trigger: boolean }): void {
    this.jobs.set(job.name, job);
    this.loops.set(job.name, job.start());
    this.tellDependencies(job);
    job.push({ kind: 'launch', trigger: opts.trigger, maintenance: this.maintenance });
  }

  /** Hands `job` the current view of each of its dependencies. */
  private tellDependencies(job: Job): void {
    for (const dep of job.config.dependsOn) {
      const current = this.jobs.get(dep.job);
      if (current) job.dependencyChanged(dep.job, this.dependencyView(current));
    }
  }

  /**
   * Restarting or reloading jobs re-arms the `once` hooks that watch them: an ended
   * `once: "stopping"` hook of a restarted job runs again at the real shutdown.
   */
  private rearmHooks(replaced: readonly string[]): void {
    for (const hook of [...this.jobs.values()]) {
      const when = hook.config.when;
      if (when.kind !== 'event' || when.mode !== 'once' || !replaced.includes(when.source) || replaced.includes(hook.name)) continue;
      if (!isTerminal(hook.currentState)) continue;
      hook.close();
      this.launch(this.createJob(hook.config, hook.carry()), { trigger: false });
    }
  }

  /** Stops an instance that is being replaced or removed, and detaches it from the bus. */
  private async retire(job: Job, reason: string, timeoutMs?: number): Promise<void> {
    this.retiring.add(job);
    try {
      await this.stopJob(job, reason, timeoutMs);
    } finally {
      job.close();
      this.retiring.delete(job);
    }
  }

  /**
   * Stops one job (publishing `stopping`/`stopped` as it does) and resolves when its
   * loop has ended. With `timeoutMs`, whatever of its process group is still alive by
   * then is killed, which ends the run and so the stop.
   */
  private async stopJob(job: Job, reason: string, requestedMs?: number): Promise<void> {
    const loop = this.loops.get(job.name) ?? job.start();
    job.requestStop(reason);
    // Without a timeout, a backstop: a job's own stop takes at most its pre-stop hooks' wait plus
    // its stopTimeout, but a hook job lets its run finish, and reloads and job actions wait in line.
    const timeoutMs = requestedMs ?? 2 * job.config.stopTimeout + STOP_BACKSTOP_MS;
    const timer = setLongTimeout(() => {
      const pid = job.snapshot().pid;
      if (pid === null) return;
      this.log.warn({ job: job.name }, `still running after the stop timeout (${timeoutMs}ms): killing it`);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    try {
      await loop;
    } finally {
      timer.clear();
    }
  }

  // ---------------------------------------------------------------------------

  /**
   * The discovery backend, the registration of jobs with `port` (driven by bus events),
   * `CONTAINERPILOT_{JOB}_IP` for children, and the watches.
   */
  /**
   * The service definitions of the jobs with a `port`, and their `CONTAINERPILOT_{JOB}_IP`
   * for children. Again after a reload, which may add, change or remove ports.
   */
  private advertise(jobs: readonly JobConfig[]): Map<string, ServiceDefinition> {
    for (const name of this.ipEnvNames) delete this.baseEnv[name];
    this.ipEnvNames.clear();
    if (!jobs.some((j) => j.port !== undefined)) return new Map();
    const advertised = serviceDefinitions(jobs, hostname(), networkInterfaces());
    for (const { job, error } of advertised.errors) {
      this.log.error({ job }, `job ${job} cannot be registered: ${error.message}`);
    }
    for (const [name, def] of advertised.services) {
      this.baseEnv[ipEnvName(name)] = def.address;
      this.ipEnvNames.add(ipEnvName(name));
    }
    return advertised.services;
  }

  private startDiscovery(env: Readonly<Record<string, string | undefined>>): Discovery {
    let discovery: Discovery;
    try {
      discovery = createDiscovery(this.config, this.log, env);
    } catch (err) {
      this.startupError = err instanceof Error ? err.message : String(err);
      this.log.error(`invalid consul setting: ${this.startupError}`);
      discovery = new LocalCatalog();
    }
    this.registrar = new Registrar(discovery, this.advertise(this.config.jobs));
    this.bus.observe(this.registrar.observe);
    for (const w of this.config.watches) {
      this.watches.set(w.name, new Watch(w, discovery, (code, source) => this.bus.publish(code, source), this.log));
    }
    return discovery;
  }

  private sharedHost(): Pick<JobHost, 'bus' | 'log' | 'childEnv' | 'relay'> {
    return {
      bus: this.bus,
      log: this.log,
      childEnv: (job) => this.childEnv(job),
      relay: (stream, source, name) =>
        this.relayFn(stream, source, name).catch((err: unknown) => {
          this.log.warn({ job: source }, `output relay of ${source} ${name} failed: ${String(err)}`);
          stream.resume(); // never leave a child blocked on a full pipe
        }),
    };
  }

  /**
   * `notify: true` needs the native addon (Node cannot bind a unix datagram socket). Without
   * it such a job could never become ready, so pidpilot starts nothing, as for a config error.
   */
  private refuseUnsupportedNotify(config: Config): void {
    const names = config.jobs.filter((j) => j.notify).map((j) => j.name);
    const why = names.length > 0 && this.startupError === null ? notifyUnsupported() : null;
    if (why === null) return;
    this.startupError = why;
    this.log.error(`job${names.length === 1 ? '' : 's'} ${names.join(', ')}: ${why}`);
  }

  private childEnv(job: JobConfig): Record<string, string> {
    // The job's own `env` wins over pidpilot's environment, not over the variables pidpilot sets.
    // (CONTAINERPILOT_PID is always pidpilot's own, whatever a putenv did to the base environment.)
    const env: Record<string, string> = { ...this.baseEnv, ...job.env, CONTAINERPILOT_PID: String(process.pid) };
    for (const [k, v] of this.pidEnv) env[k] = v;
    return env;
  }

  /** Who depends on whom, from the current config (again after a reload). */
  private indexDependents(): void {
    this.dependents.clear();
    for (const job of this.config.jobs) {
      for (const dep of job.dependsOn) {
        const list = this.dependents.get(dep.job) ?? [];
        list.push(job.name);
        this.dependents.set(dep.job, list);
      }
    }
  }

  /** What a dependent needs to know of a dependency to judge its condition. */
  private dependencyView(job: Job): DependencyView {
    const snap = job.snapshot();
    return { state: snap.state, ready: snap.ready, hasSetup: job.config.setup.length > 0, lastRunSucceeded: snap.lastRun?.outcome === 'succeeded' };
  }

  /** Hands each dependent of `job` its snapshot now, so no state it passes through is missed. */
  private notifyDependents(job: Job): void {
    // A retired instance's last states (stopping, stopped) are not the job's: its replacement reports.
    if (this.retiring.has(job) || this.jobs.get(job.name) !== job) return;
    const dependents = this.dependents.get(job.name);
    if (!dependents) return;
    const view = this.dependencyView(job);
    for (const name of dependents) this.jobs.get(name)?.dependencyChanged(job.name, view);
  }

  private onRunEnded(job: Job, record: RunRecord): void {
    this.lastRuns.set(job.name, record);
    this.store?.recordRun(job.name, record);
    for (const listener of this.runListeners) listener(job.name, record);
  }

  private onStateChanged(job: Job): void {
    const state = job.currentState;
    const before = this.lastStates.get(job.name) ?? 'pending';
    this.lastStates.set(job.name, state);
    this.activeJobs += Number(isActive(state)) - Number(isActive(before));
    // An instance being replaced (reload, restart) ending is not the job ending.
    if (this.retiring.has(job)) return;
    this.notifyDependents(job);
    if (isTerminal(state) && job.name === this.config.main && !this.shuttingDown) {
      if (state === 'failed') this.log.error(`main job ${job.name} failed: ${job.snapshot().reason ?? 'unknown reason'}`);
      void this.shutdown(`main job ${job.name} ${state}`, { kind: 'main-ended' });
      return;
    }
    // Cheap on the hot path: while any job is starting, running or stopping, nothing is quiet.
    if ((isTerminal(state) || state === 'pending') && this.activeJobs === 0) this.scheduleQuiescenceCheck();
  }

  /** Checked after the job queues had a chance to drain, so a trigger in flight is not missed. */
  private scheduleQuiescenceCheck(): void {
    if (this.shuttingDown || this.quiescenceCheck !== null) return;
    this.quiescenceCheck = setImmediate(() => {
      this.quiescenceCheck = null;
      if (this.shuttingDown || !this.nothingLeftToDo()) return;
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

  /**
   * True when no job can run any more: every job has ended, or is pending on a trigger
   * that can no longer come — its source is a job that has ended or is itself stuck in
   * that way (computed as a fixpoint, so a chain behind a failed job is seen through).
   */
  private nothingLeftToDo(): boolean {
    const dead = new Set<string>();
    for (const [name, job] of this.jobs) if (isTerminal(job.currentState)) dead.add(name);
    let changed = true;
    while (changed) {
      changed = false;
      for (const [name, job] of this.jobs) {
        if (dead.has(name) || !this.waitsOnlyOn(job, dead)) continue;
        dead.add(name);
        changed = true;
      }
    }
    return dead.size === this.jobs.size;
  }

  /**
   * Pending, idle, and what it waits for can only come from jobs in `dead` (or from
   * nowhere): a dependency that is dead and not met, or a trigger whose source is dead.
   */
  private waitsOnlyOn(job: Job, dead: ReadonlySet<string>): boolean {
    if (!isAwaiting(job.currentState) || !job.idle) return false;
    if (job.unmetDependencies().some((d) => dead.has(d))) return true;
    const when = job.config.when;
    if (when.kind !== 'event') return false;
    if (when.timeout !== undefined && job.snapshot().runs === 0) return false; // its timer will still fire
    const source = when.source;
    if (source === GLOBAL_SOURCE || (SIGNAL_SOURCES as readonly string[]).includes(source)) return false;
    // A watch publishes for as long as pidpilot runs.
    if (this.isWatchSource(source)) return false;
    const sourceJob = source.startsWith('check.') ? source.slice('check.'.length) : source;
    return !this.jobs.has(sourceJob) || dead.has(sourceJob);
  }

  private isWatchSource(source: string): boolean {
    return source.startsWith(WATCH_SOURCE_PREFIX) && this.watches.has(source.slice(WATCH_SOURCE_PREFIX.length));
  }

  /** A `when.source` nothing can ever publish is almost always a typo: say so at start. */
  private warnUnknownSources(): void {
    for (const job of this.config.jobs) {
      if (job.when.kind !== 'event') continue;
      const source = job.when.source;
      const known =
        source === GLOBAL_SOURCE ||
        (SIGNAL_SOURCES as readonly string[]).includes(source) ||
        this.isWatchSource(source) ||
        this.jobs.has(source.startsWith('check.') ? source.slice('check.'.length) : source);
      if (!known) {
        this.log.warn({ job: job.name }, `job ${job.name} waits for "${job.when.code}" from "${source}", which no job, health check, watch or signal publishes: it will never start`);
      }
    }
  }

  private waitForHooks(hooks: readonly string[], afterSeq: number, timeoutMs: number): Promise<void> {
    const waits = hooks.map((name) => this.jobs.get(name)?.settled(afterSeq) ?? Promise.resolve());
    return new Promise<void>((resolve) => {
      const timer = setLongTimeout(resolve, timeoutMs);
      void Promise.all(waits).then(() => {
        timer.clear();
        resolve();
      });
    });
  }

  /** History is auxiliary: a state dir that cannot be used is reported and pidpilot runs without it. */
  private openHistory(): HistoryStore | null {
    const dir = resolveStateDir(this.config);
    let store: HistoryStore;
    try {
      store = new HistoryStore({ dir, ...this.config.state, warn: (m) => this.log.warn(m), info: (m) => this.log.info(m) });
    } catch (err) {
      this.log.warn(`history is not recorded: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
    // A job's lifecycle events carry the reason of the state it is in (`failed: restarts exhausted after exit code 1`).
    this.bus.observe((e) => store.recordEvent(e, REASONED_EVENTS.has(e.code) ? this.jobs.get(e.source)?.currentReason : undefined));
    return store;
  }

  private forceKill(): void {
    killAllGroups('SIGKILL');
    setTimeout(() => this.end(), AFTER_KILL_GRACE_MS).unref();
  }

  private end(): void {
    this.deadline?.clear();
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.quiescenceCheck) clearImmediate(this.quiescenceCheck);
    this.store?.close();
    this.notifySockets?.remove();
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
