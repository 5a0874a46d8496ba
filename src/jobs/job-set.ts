/**
 * The set of jobs: it owns the job instances, their loops and their replacement (reload,
 * `start`/`restart`), tells dependents of each change of their dependencies, and reports
 * state changes of the current instances to the observers. A replaced instance closes its
 * own bus subscription, and its successor continues its run numbers and restart count and
 * starts through a `launch` input; nothing is pushed past the bus.
 */
import type { Readable } from 'node:stream';
import type { Config, DependencyCondition, JobConfig } from '../config/types.js';
import type { ReloadPlan } from '../control/reload-plan.js';
import type { Bus } from '../events/bus.js';
import { setLongTimeout } from '../events/long-timer.js';
import type { Observers } from '../events/observers.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import { NotifyDir } from '../process/notify-dir.js';
import type { RunRecord } from '../process/types.js';
import type { ChildEnv } from './child-env.js';
import type { DependencyView } from './dependencies.js';
import { buildTeardownGraph, type TeardownGraph } from './graph.js';
import { type HostOps, InstanceHost } from './instance-host.js';
import { Job, type JobCarry } from './job.js';
import { publishedName } from './naming.js';
import { GroupDependency, GroupEvents } from './replicas.js';
import { JobRuntime } from './runtime.js';
import { isAwaiting, isTerminal, type JobSnapshot, type JobState } from './state.js';

export type RelayFn = (stream: Readable, source: string, name: 'stdout' | 'stderr') => Promise<void>;

export interface JobSetDeps {
  bus: Bus;
  log: Logger;
  observers: Observers;
  env: ChildEnv;
  relay: RelayFn;
}

/** Added to twice a job's stopTimeout: when a stop through the control socket kills what is left. */
const STOP_BACKSTOP_MS = 1000;

/** A job that is neither waiting (for a trigger or a dependency) nor ended. */
function isActive(state: JobState): boolean {
  return !isAwaiting(state) && !isTerminal(state);
}

export class JobSet {
  private readonly jobs = new Map<string, Job>();
  private readonly loops = new Map<string, Promise<void>>();
  private graphNow: TeardownGraph;
  /** For each job, the names of the jobs that list it in `dependsOn` (names: instances are replaced). */
  private readonly dependents = new Map<string, string[]>();
  /** Job instances being stopped to be replaced (reload, restart) or removed (reload). */
  private readonly retiring = new Set<Job>();
  /** Each job's state as last reported, and how many are neither awaiting nor ended. */
  private readonly lastStates = new Map<string, JobState>();
  private active = 0;
  private maintenance = false;
  /** Set by the shutdown: replaced instances are not started again. */
  closing = false;
  /** What every job instance's host (InstanceHost) calls: made once, not a set of closures per job. */
  private readonly hostOps: HostOps;
  /**
   * Each job's last finished run, as soon as it is known: before its exitSuccess/exitFailed is
   * published, so a job that event triggers gets its outcome (the job's own record follows later).
   */
  private readonly lastRuns = new Map<string, RunRecord>();
  /** The directory of the sd_notify sockets, made when the first `notify` job starts. */
  private notifySockets: NotifyDir | null = null;
  /** Jobs with `replicas` as one, for their dependents and for the jobs their events trigger (replicas.ts). */
  private readonly groupDependency = new GroupDependency();
  private readonly groupEvents: GroupEvents;

  constructor(
    jobs: readonly JobConfig[],
    private readonly deps: JobSetDeps,
  ) {
    const { log } = deps;
    this.hostOps = {
      bus: deps.bus,
      log,
      childEnv: (job, lifecycle, extra) => deps.env.forJob(job, lifecycle, extra),
      relay: (stream, source, name) =>
        deps.relay(stream, source, name).catch((err: unknown) => {
          log.warn({ job: source }, `output relay of ${source} ${name} failed: ${String(err)}`);
          stream.resume(); // never leave a child blocked on a full pipe
        }),
      env: deps.env,
      observers: deps.observers,
      runEnded: (config, record) => {
        this.lastRuns.set(config.name, record);
        // A job its replicated job's end triggered gets the last instance's run (replicas.ts).
        if (config.replica) this.lastRuns.set(config.replica.of, record);
      },
      stateChanged: (job) => this.stateChanged(job),
      readyChanged: (job) => this.notifyDependents(job),
      waitForPreStopHooks: (config, afterSeq, timeoutMs) => {
        // An instance's hooks are its job's (replicas.ts): they hear the job's `stopping`, published
        // right after the instance's, so they are seen busy with it here.
        const hooks = this.graphNow.preStopHooks(config.name);
        return hooks.length === 0 ? null : this.waitForHooks(hooks, afterSeq, timeoutMs);
      },
      notifyDir: () => (this.notifySockets ??= this.makeNotifyDir()),
      lastRunOf: (name) => this.lastRuns.get(name) ?? null,
    };
    this.groupEvents = new GroupEvents(deps.bus, {
      groupOf: (name) => {
        const job = this.jobs.get(name);
        return job && !this.retiring.has(job) ? job.config.replica?.of : undefined;
      },
      instancesOf: (group) => this.instancesOf(group).map((job) => job.name),
    });
    deps.bus.observe(this.groupEvents.observe);
    this.graphNow = this.index(jobs);
    for (const config of jobs) this.jobs.set(config.name, this.create(config));
    // Each dependent learns where its dependencies stand (and so what to say it waits for).
    for (const job of this.jobs.values()) this.tellDependencies(job);
  }

  /** Starts every job loop (before `startup` is published). */
  startAll(): void {
    for (const [name, job] of this.jobs) this.loops.set(name, job.start());
  }

  get(name: string): Job | undefined {
    return this.jobs.get(name);
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  /** The current instances, in the configuration's order. */
  get current(): ReadonlyMap<string, Job> {
    return this.jobs;
  }

  get graph(): TeardownGraph {
    return this.graphNow;
  }

  /** How many jobs are starting, running or stopping (neither awaiting nor ended). */
  get activeCount(): number {
    return this.active;
  }

  /** Resolves when the current instance of `name` has ended its loop. */
  loopOf(name: string): Promise<void> | undefined {
    return this.loops.get(name);
  }

  snapshots(): JobSnapshot[] {
    return [...this.jobs.values()].map((job) => job.snapshot());
  }

  /** pidpilot has ended: the sd_notify sockets' directory goes. */
  close(): void {
    this.notifySockets?.remove();
  }

  /** Maintenance mode, remembered for instances launched later. */
  setMaintenance(on: boolean): void {
    this.maintenance = on;
  }

  /**
   * Stops one job (publishing `stopping`/`stopped` as it does) and resolves when its
   * loop has ended. With `timeoutMs`, whatever of its process group is still alive by
   * then is killed, which ends the run and so the stop.
   */
  async stop(job: Job, reason: string, requestedMs?: number): Promise<void> {
    const loop = this.loops.get(job.name) ?? job.start();
    job.requestStop(reason);
    // Without a timeout, a backstop: a job's own stop takes at most its pre-stop hooks' wait plus
    // its stopTimeout, but a hook job lets its run finish, and reloads and job actions wait in line.
    const timeoutMs = requestedMs ?? 2 * job.config.stopTimeout + STOP_BACKSTOP_MS;
    const timer = setLongTimeout(() => {
      const pid = job.snapshot().pid;
      if (pid === null) return;
      this.deps.log.warn({ job: job.name }, `still running after the stop timeout (${timeoutMs}ms): killing it`);
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

  /**
   * `start`/`restart JOB`: a running instance is stopped first, an ended one only closed;
   * then a fresh one is launched, triggered, and the `once` hooks that watch it re-armed.
   */
  async replace(job: Job, reason: string, timeoutMs?: number): Promise<void> {
    if (!isTerminal(job.currentState)) await this.retire(job, reason, timeoutMs);
    else job.close();
    if (this.closing) return;
    this.launch(this.create(job.config, job.carry()), { trigger: true });
    this.rearmHooks([job.name]);
  }

  /**
   * A reload: the changed and removed instances are retired, `between` runs (discovery takes
   * the new definitions), then the changed and added ones start, in the file's order.
   */
  async reload(next: Config, plan: ReloadPlan, between: () => void): Promise<void> {
    const old = new Map(this.jobs);
    this.graphNow = this.index(next.jobs);
    await Promise.all([...plan.changed, ...plan.removed].map((name) => this.retire(old.get(name)!, 'reload')));
    for (const name of plan.removed) {
      this.jobs.delete(name);
      this.loops.delete(name);
      this.lastStates.delete(name);
      this.groupEvents.forget(name);
    }
    between();
    if (this.closing) return;
    const byName = new Map(next.jobs.map((j) => [j.name, j]));
    // Every new instance is in place before any starts, so none judges a dependency by the retired instance.
    const fresh = [...plan.changed, ...plan.added].map((name) =>
      this.create(byName.get(name)!, old.get(name)?.carry()),
    );
    for (const job of fresh) this.jobs.set(job.name, job);
    for (const job of fresh) this.launch(job, { trigger: false });
    this.rearmHooks(plan.changed);
    // Keep the map in the file's order, which status lists.
    const ordered = next.jobs.map((j) => [j.name, this.jobs.get(j.name)!] as const);
    this.jobs.clear();
    for (const [name, job] of ordered) this.jobs.set(name, job);
    // A scale (or a reload) that added or removed instances changes what their dependents see.
    const scaled = new Set(
      [...plan.added, ...plan.removed].map((n) => (old.get(n) ?? this.jobs.get(n))?.config.replica?.of),
    );
    for (const group of scaled) if (group !== undefined) this.notifyDependentsOf(group);
  }

  /** Resolves once the given hook jobs have processed `afterSeq` and have no run going, or after `timeoutMs`. */
  waitForHooks(hooks: readonly string[], afterSeq: number, timeoutMs: number): Promise<void> {
    const waits = hooks.map((name) => this.jobs.get(name)?.settled(afterSeq) ?? Promise.resolve());
    return new Promise<void>((resolve) => {
      const timer = setLongTimeout(resolve, timeoutMs);
      void Promise.all(waits).then(() => {
        timer.clear();
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------------------

  /** The sd_notify sockets' directory, made on first use; those left by a pidpilot killed with SIGKILL go then. */
  private makeNotifyDir(): NotifyDir {
    const dir = new NotifyDir();
    if (dir.removedStale.length > 0)
      this.deps.log.info(`removed ${dir.removedStale.length} sd_notify socket dir(s) left by a pidpilot that is gone`);
    return dir;
  }

  /** Builds a job instance; `carry` continues a replaced instance's run numbers and restart count. */
  private create(config: JobConfig, carry?: JobCarry): Job {
    const host = new InstanceHost(this.hostOps, config);
    const job = new Job(config, (push) => new JobRuntime(config, host, push), carry);
    host.job = job;
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

  /**
   * Restarting or reloading jobs re-arms the `once` hooks that watch them: an ended
   * `once: "stopping"` hook of a restarted job runs again at the real shutdown.
   */
  private rearmHooks(replaced: readonly string[]): void {
    const sources = new Set(
      replaced.map((name) => (this.jobs.get(name) ? publishedName(this.jobs.get(name)!.config) : name)),
    );
    for (const hook of [...this.jobs.values()]) {
      const when = hook.config.when;
      if (when.kind !== 'event' || when.mode !== 'once' || !sources.has(when.source) || replaced.includes(hook.name))
        continue;
      if (!isTerminal(hook.currentState)) continue;
      hook.close();
      this.launch(this.create(hook.config, hook.carry()), { trigger: false });
    }
  }

  /** Stops an instance that is being replaced or removed; it closes its bus subscription. */
  private async retire(job: Job, reason: string, timeoutMs?: number): Promise<void> {
    this.retiring.add(job);
    try {
      await this.stop(job, reason, timeoutMs);
    } finally {
      job.close();
      this.retiring.delete(job);
    }
  }

  /** Who depends on whom (again after a reload), and the teardown order. */
  private index(jobs: readonly JobConfig[]): TeardownGraph {
    this.dependents.clear();
    for (const job of jobs) {
      for (const dep of job.dependsOn) {
        const list = this.dependents.get(dep.job) ?? [];
        list.push(job.name);
        this.dependents.set(dep.job, list);
      }
    }
    const graph = buildTeardownGraph(jobs);
    for (const cycle of graph.cycles) {
      this.deps.log.warn(
        `stop hooks and dependencies form a cycle (${cycle.join(' -> ')}); that edge is ignored when ordering shutdown`,
      );
    }
    return graph;
  }

  private stateChanged(job: Job): void {
    const state = job.currentState;
    const before = this.lastStates.get(job.name) ?? 'pending';
    this.lastStates.set(job.name, state);
    this.active += Number(isActive(state)) - Number(isActive(before));
    // An instance being replaced (reload, restart) ending is not the job ending.
    if (this.retiring.has(job)) return;
    if (job.config.replica) this.groupEvents.stateChanged(job.name, job.snapshot().runs);
    this.notifyDependents(job);
    this.deps.observers.emit('state', job.name, state, job.currentReason);
  }

  /** Hands `job` the current view of each of its dependencies. */
  private tellDependencies(job: Job): void {
    for (const dep of job.config.dependsOn) {
      const view = this.viewOf(dep.job, dep.condition);
      if (view) job.dependencyChanged(dep.job, view);
    }
  }

  /** Hands each dependent of `job` its view now, so no state it passes through is missed. */
  private notifyDependents(job: Job): void {
    // A retired instance's last states (stopping, stopped) are not the job's: its replacement reports.
    if (this.retiring.has(job) || this.jobs.get(job.name) !== job) return;
    this.notifyDependentsOf(job.config.replica?.of ?? job.name);
  }

  private notifyDependentsOf(name: string): void {
    for (const dependent of this.dependents.get(name) ?? []) {
      const job = this.jobs.get(dependent);
      const condition = job?.config.dependsOn.find((d) => d.job === name)?.condition;
      const view = condition && this.viewOf(name, condition);
      if (view) job.dependencyChanged(name, view);
    }
  }

  /** A job's view, or a replicated job's over its current instances (replicas.ts). */
  private viewOf(name: string, condition: DependencyCondition): DependencyView | undefined {
    const job = this.jobs.get(name);
    if (job) return dependencyView(job);
    const instances = this.instancesOf(name);
    if (instances.length === 0) return undefined;
    return this.groupDependency.view(name, condition, new Map(instances.map((i) => [i.name, dependencyView(i)])));
  }

  /** The current instances of a replicated job, less those being removed or replaced. */
  private instancesOf(group: string): Job[] {
    return [...this.jobs.values()].filter((job) => job.config.replica?.of === group && !this.retiring.has(job));
  }
}

/** What a dependent needs to know of a dependency to judge its condition. */
function dependencyView(job: Job): DependencyView {
  const snap = job.snapshot();
  return {
    state: snap.state,
    ready: snap.ready,
    hasSetup: job.config.setup.length > 0,
    lastRunSucceeded: snap.lastRun?.outcome === 'succeeded',
  };
}
