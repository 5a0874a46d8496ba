/**
 * The supervisor wires the parts together: it builds the bus and the job loops from a
 * validated Config, publishes `startup`, turns signals into events, notices when there
 * is nothing left to do, and runs the ordered shutdown of SPEC §5.
 *
 * It owns no job state: it talks to jobs only by pushing inputs and reads them through
 * snapshots. `run()` resolves with the exit status pidpilot should exit with.
 */
import type { Readable } from 'node:stream';
import { ConfigErrors } from './config/errors.js';
import { loadConfig } from './config/load.js';
import type { Config, JobConfig } from './config/types.js';
import { planReload } from './control/reload-plan.js';
import type { ControlTarget, EnvChanges, JobAction, JobActionResult, MetricRecorder, ReloadResult, StatusSnapshot } from './control/target.js';
import type { ServiceRegistry } from './discovery/types.js';
import type { Subscription } from './events/bus.js';
import { Bus } from './events/bus.js';
import type { EventCode } from './events/event.js';
import { GLOBAL_SOURCE, SIGNAL_SOURCES } from './events/event.js';
import type { TeardownGraph } from './jobs/graph.js';
import { buildTeardownGraph } from './jobs/graph.js';
import type { JobHost } from './jobs/job.js';
import { Job } from './jobs/job.js';
import type { JobState } from './jobs/state.js';
import { isTerminal } from './jobs/state.js';
import type { SupervisorLogger as Logger } from './log/logger.js';
import { killAllGroups } from './process/run.js';
import type { RunRecord } from './process/types.js';
import { exitStatusOf, pidEnvName } from './jobs/naming.js';
import type { HistoryReader } from './state/types.js';
import { VERSION } from './version.js';

/** A job that is neither waiting for a trigger nor ended. */
function isActive(state: JobState): boolean {
  return state !== 'pending' && !isTerminal(state);
}

export type RelayFn = (stream: Readable, source: string, name: 'stdout' | 'stderr') => Promise<void>;

export interface SupervisorOptions {
  log: Logger;
  relay: RelayFn;
  /** The environment children inherit (pidpilot's own, by default). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Service discovery, for maintenance mode (SPEC §9). */
  registry?: ServiceRegistry | null;
  /** The persisted history the control socket serves (SPEC §7). */
  history?: HistoryReader | null;
}

/** After the global stop bound and a SIGKILL of everything, how long to wait for the reaping to be noticed. */
const AFTER_KILL_GRACE_MS = 500;

export class Supervisor implements ControlTarget {
  readonly bus = new Bus();
  private readonly log: Logger;
  private readonly relayFn: RelayFn;
  private readonly jobs = new Map<string, Job>();
  private readonly loops = new Map<string, Promise<void>>();
  private graph: TeardownGraph;
  private readonly baseEnv: Record<string, string>;
  /** CONTAINERPILOT_{JOB}_PID of every job whose process is running. */
  private readonly pidEnv = new Map<string, string>();

  private shuttingDown = false;
  /** Each job's state as last reported, and how many are neither pending nor ended. */
  private readonly lastStates = new Map<string, JobState>();
  private activeJobs = 0;
  private exitStatus = 0;
  private finish!: (status: number) => void;
  private readonly finished = new Promise<number>((resolve) => (this.finish = resolve));
  private keepAlive: NodeJS.Timeout | null = null;
  private quiescenceCheck: NodeJS.Immediate | null = null;
  private deadline: NodeJS.Timeout | null = null;

  // Control plane (SPEC §9) state.
  private readonly host: JobHost;
  private readonly startedAt = Date.now();
  private maintenance = false;
  private readonly registry: ServiceRegistry | null;
  readonly history: HistoryReader | null;
  metrics: MetricRecorder | null = null;
  /** Job instances being stopped to be replaced (reload, restart) or removed (reload). */
  private readonly retiring = new Set<Job>();
  /** The bus subscriptions of each job instance, closed when the instance is retired. */
  private readonly jobSubscriptions = new Map<Job, Subscription[]>();
  private readonly runListeners: Array<(job: string, record: RunRecord) => void> = [];
  /** Reloads and job actions run one at a time. */
  private controlChain: Promise<unknown> = Promise.resolve();

  constructor(
    /** Replaced by a successful reload. */
    public config: Config,
    options: SupervisorOptions,
  ) {
    this.log = options.log;
    this.registry = options.registry ?? null;
    this.history = options.history ?? null;
    this.relayFn = options.relay;
    this.baseEnv = {};
    for (const [k, v] of Object.entries(options.env ?? process.env)) if (v !== undefined) this.baseEnv[k] = v;
    this.baseEnv.CONTAINERPILOT_PID = String(process.pid);
    this.graph = buildTeardownGraph(config.jobs);
    for (const cycle of this.graph.cycles) {
      this.log.warn(`stop hooks form a cycle (${cycle.join(' -> ')}); that edge is ignored when ordering shutdown`);
    }
    if (this.log.isLevelEnabled('debug')) {
      this.bus.observe((e) => this.log.debug({ seq: e.seq }, `event ${e.code} ${e.source}`));
    }
    this.host = this.jobHost();
    for (const jobConfig of config.jobs) this.jobs.set(jobConfig.name, this.createJob(jobConfig));
    this.warnUnknownSources();
  }

  /** Start every job loop, publish `startup`, and resolve with the exit status once everything has ended. */
  run(): Promise<number> {
    // Pending jobs wait on events that may come from outside (signals); keep the loop alive until the end.
    this.keepAlive = setInterval(() => {}, 1 << 30);
    for (const [name, job] of this.jobs) this.loops.set(name, job.start());
    this.bus.publish('startup', GLOBAL_SOURCE);
    this.scheduleQuiescenceCheck();
    return this.finished;
  }

  /** SIGHUP and SIGUSR2 become events that jobs can be triggered by. */
  signalEvent(signal: 'SIGHUP' | 'SIGUSR2'): void {
    this.bus.publish('signal', signal);
  }

  /**
   * The graceful shutdown of SPEC §5. Calling it again while it runs escalates:
   * every process group is killed at once.
   */
  shutdown(reason: string): Promise<number> {
    if (this.shuttingDown) {
      this.log.warn(`${reason} during shutdown: killing every job now`);
      this.forceKill();
      return this.finished;
    }
    this.shuttingDown = true;
    this.log.info(`shutting down (${reason})`);
    this.bus.publish('shutdown', GLOBAL_SOURCE);
    this.deadline = setTimeout(() => {
      this.log.warn(`shutdown took longer than stopTimeout (${this.config.stopTimeout}ms): killing what is left`);
      this.forceKill();
    }, this.config.stopTimeout);

    // Reverse dependency order: a job is stopped once every job that must stop before it has ended.
    for (const [name, job] of this.jobs) {
      const before = this.graph.stopAfter(name).map((n) => this.loops.get(n));
      void Promise.all(before).then(() => job.requestStop('shutdown'));
    }
    void Promise.all(this.loops.values()).then(() => this.end());
    return this.finished;
  }

  job(name: string): Job | undefined {
    return this.jobs.get(name);
  }

  /** Calls `listener` with every finished run (metrics, history). */
  observeRuns(listener: (job: string, record: RunRecord) => void): void {
    this.runListeners.push(listener);
  }

  // ---------------------------------------------------------------------------
  // Control plane (SPEC §9): what the control socket and telemetry call.

  putEnv(changes: EnvChanges): void {
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) delete this.baseEnv[name];
      else this.baseEnv[name] = value;
    }
    this.log.info(`environment changed: ${Object.keys(changes).join(', ')}`);
  }

  setMaintenance(on: boolean): boolean {
    if (this.maintenance === on || this.shuttingDown) return false;
    this.maintenance = on;
    this.registry?.setMaintenance(on);
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
        if (!isTerminal(state)) await this.retire(job, action, opts.timeoutMs);
        if (!this.shuttingDown) this.launch(this.createJob(job.config), { trigger: true });
      }
      return { ok: true, job: name, action, state: this.jobs.get(name)!.currentState };
    });
  }

  /** Re-reads the file (SPEC §9): unchanged jobs keep running, changed ones restart, removed ones stop, new ones start. */
  reload(): Promise<ReloadResult> {
    return this.serialized(async (): Promise<ReloadResult> => {
      const file = this.config.file;
      if (this.shuttingDown) return { ok: false, errors: [{ file, path: '', message: 'pidpilot is shutting down' }] };
      let next: Config;
      try {
        // Rendered against the environment as changed by putenv, as ContainerPilot did.
        next = loadConfig(file, this.baseEnv);
      } catch (err) {
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
      await Promise.all([...plan.changed, ...plan.removed].map((name) => this.retire(old.get(name)!, 'reload')));
      for (const name of plan.removed) {
        this.jobs.delete(name);
        this.loops.delete(name);
        this.lastStates.delete(name);
      }
      if (!this.shuttingDown) {
        const byName = new Map(next.jobs.map((j) => [j.name, j]));
        for (const name of [...plan.changed, ...plan.added]) this.launch(this.createJob(byName.get(name)!), { trigger: false });
        // Keep the map in the file's order, which status lists.
        const ordered = new Map(next.jobs.map((j) => [j.name, this.jobs.get(j.name)!]));
        this.jobs.clear();
        for (const [name, job] of ordered) this.jobs.set(name, job);
      }
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

  /**
   * Builds a job instance. Its bus is the supervisor's, seen through a proxy that
   * records the subscriptions the job makes, so a retired instance can be detached
   * from the bus (the Job itself keeps no handle on them).
   */
  private createJob(config: JobConfig): Job {
    const subscriptions: Subscription[] = [];
    const bus = this.bus;
    const tracked = new Proxy(bus, {
      get(target, prop) {
        if (prop === 'subscribe') {
          return (...args: Parameters<Bus['subscribe']>) => {
            const sub = target.subscribe(...args);
            subscriptions.push(sub);
            return sub;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const job = new Job(config, { ...this.host, bus: tracked });
    this.jobSubscriptions.set(job, subscriptions);
    return job;
  }

  /**
   * Starts a job instance built after `startup`: it gets its own `startup` (and, with
   * `trigger`, its `when` event, so `start JOB` runs it now), delivered to it alone.
   */
  private launch(job: Job, opts: { trigger: boolean }): void {
    this.jobs.set(job.name, job);
    this.loops.set(job.name, job.start());
    const deliver = (code: EventCode, source: string): void => {
      const event = Object.freeze({ seq: this.bus.lastSeq, time: Date.now(), code, source });
      for (const sub of this.jobSubscriptions.get(job) ?? []) if (sub.accepts(code, source)) sub.target.push(event);
    };
    deliver('startup', GLOBAL_SOURCE);
    const when = job.config.when;
    if (opts.trigger && when.kind === 'event') deliver(when.code as EventCode, when.source);
    if (this.maintenance) deliver('enterMaintenance', GLOBAL_SOURCE);
  }

  /** Stops an instance that is being replaced or removed, and detaches it from the bus. */
  private async retire(job: Job, reason: string, timeoutMs?: number): Promise<void> {
    this.retiring.add(job);
    try {
      await this.stopJob(job, reason, timeoutMs);
    } finally {
      for (const sub of this.jobSubscriptions.get(job) ?? []) sub.close();
      this.jobSubscriptions.delete(job);
      this.retiring.delete(job);
    }
  }

  /**
   * Stops one job (publishing `stopping`/`stopped` as it does) and resolves when its
   * loop has ended. With `timeoutMs`, whatever of its process group is still alive by
   * then is killed, which ends the run and so the stop.
   */
  private async stopJob(job: Job, reason: string, timeoutMs?: number): Promise<void> {
    const loop = this.loops.get(job.name) ?? job.start();
    job.requestStop(reason);
    if (timeoutMs === undefined) return loop;
    const timer = setTimeout(() => {
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
      clearTimeout(timer);
    }
  }

  // ---------------------------------------------------------------------------

  private jobHost(): JobHost {
    return {
      bus: this.bus,
      log: this.log,
      childEnv: (job) => this.childEnv(job),
      relay: (stream, source, name) =>
        this.relayFn(stream, source, name).catch((err: unknown) => {
          this.log.warn({ job: source }, `output relay of ${source} ${name} failed: ${String(err)}`);
          stream.resume(); // never leave a child blocked on a full pipe
        }),
      pidChanged: (job, pid) => {
        const key = pidEnvName(job.name);
        if (pid === null) this.pidEnv.delete(key);
        else this.pidEnv.set(key, String(pid));
      },
      runEnded: (job, record) => this.onRunEnded(job, record),
      stateChanged: (job) => this.onStateChanged(job),
      waitForHooks: (hooks, afterSeq, timeoutMs) => this.waitForHooks(hooks, afterSeq, timeoutMs),
      preStopHooks: (name) => this.graph.preStopHooks(name),
    };
  }

  private childEnv(_job: JobConfig): Record<string, string> {
    const env = { ...this.baseEnv };
    for (const [k, v] of this.pidEnv) env[k] = v;
    return env;
  }

  private onRunEnded(job: Job, record: RunRecord): void {
    for (const listener of this.runListeners) listener(job.name, record);
    // The main job's own end decides the status; being stopped by a shutdown (or replaced by reload/restart) does not.
    if (job.name === this.config.main && !this.shuttingDown && !this.retiring.has(job)) this.exitStatus = exitStatusOf(record);
  }

  private onStateChanged(job: Job): void {
    const state = job.currentState;
    const before = this.lastStates.get(job.name) ?? 'pending';
    this.lastStates.set(job.name, state);
    this.activeJobs += Number(isActive(state)) - Number(isActive(before));
    // An instance being replaced (reload, restart) ending is not the job ending.
    if (this.retiring.has(job)) return;
    if (isTerminal(state) && job.name === this.config.main && !this.shuttingDown) {
      const last = job.snapshot().lastRun;
      this.exitStatus = last ? exitStatusOf(last) : 1;
      void this.shutdown(`main job ${job.name} ${state}`);
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
      if (!this.shuttingDown && this.nothingLeftToDo()) void this.shutdown('every job has completed');
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

  /** Pending, idle, and its trigger can only come from a source in `dead` (or from nowhere). */
  private waitsOnlyOn(job: Job, dead: ReadonlySet<string>): boolean {
    if (job.currentState !== 'pending' || !job.idle) return false;
    const when = job.config.when;
    if (when.kind !== 'event') return false;
    if (when.timeout !== undefined && job.snapshot().runs === 0) return false; // its timer will still fire
    const source = when.source;
    if (source === GLOBAL_SOURCE || (SIGNAL_SOURCES as readonly string[]).includes(source)) return false;
    const sourceJob = source.startsWith('check.') ? source.slice('check.'.length) : source;
    return !this.jobs.has(sourceJob) || dead.has(sourceJob);
  }

  /** A `when.source` nothing can ever publish is almost always a typo: say so at start. */
  private warnUnknownSources(): void {
    for (const job of this.config.jobs) {
      if (job.when.kind !== 'event') continue;
      const source = job.when.source;
      const known =
        source === GLOBAL_SOURCE ||
        (SIGNAL_SOURCES as readonly string[]).includes(source) ||
        this.jobs.has(source.startsWith('check.') ? source.slice('check.'.length) : source);
      if (!known) {
        this.log.warn({ job: job.name }, `job ${job.name} waits for "${job.when.code}" from "${source}", which no job, health check or signal publishes: it will never start`);
      }
    }
  }

  private waitForHooks(hooks: readonly string[], afterSeq: number, timeoutMs: number): Promise<void> {
    const waits = hooks.map((name) => this.jobs.get(name)?.settled(afterSeq) ?? Promise.resolve());
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void Promise.all(waits).then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private forceKill(): void {
    killAllGroups('SIGKILL');
    setTimeout(() => this.end(), AFTER_KILL_GRACE_MS).unref();
  }

  private end(): void {
    if (this.deadline) clearTimeout(this.deadline);
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.quiescenceCheck) clearImmediate(this.quiescenceCheck);
    this.finish(this.exitStatus);
  }
}
