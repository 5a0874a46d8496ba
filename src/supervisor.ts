/**
 * The supervisor wires the parts together: it builds the bus and the job loops from a
 * validated Config, publishes `startup`, turns signals into events, notices when there
 * is nothing left to do, and runs the ordered shutdown of SPEC §5.
 *
 * It owns no job state: it talks to jobs only by pushing inputs and reads them through
 * snapshots. `run()` resolves with the exit status pidpilot should exit with.
 */
import type { Readable } from 'node:stream';
import type { Config, JobConfig } from './config/types.js';
import { Bus } from './events/bus.js';
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
import type { LineWriter } from './log/types.js';
import { resolveStateDir } from './state/dir.js';
import { HistoryStore } from './state/store.js';
import type { HistoryReader } from './state/types.js';

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
  /** Record events, runs and output in the state dir (SPEC §7). Off by default (in-process tests). */
  history?: boolean;
}

/** After the global stop bound and a SIGKILL of everything, how long to wait for the reaping to be noticed. */
const AFTER_KILL_GRACE_MS = 500;

export class Supervisor {
  readonly bus = new Bus();
  private readonly log: Logger;
  private readonly relayFn: RelayFn;
  private readonly jobs = new Map<string, Job>();
  private readonly loops = new Map<string, Promise<void>>();
  private readonly graph: TeardownGraph;
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
  private readonly store: HistoryStore | null;

  constructor(
    readonly config: Config,
    options: SupervisorOptions,
  ) {
    this.log = options.log;
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
    this.store = options.history ? this.openHistory() : null;
    const host = this.jobHost();
    for (const jobConfig of config.jobs) this.jobs.set(jobConfig.name, new Job(jobConfig, host));
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

  /** The recorded history (SPEC §7), or null when it is not recorded. */
  get history(): HistoryReader | null {
    return this.store;
  }

  /** `writer`, also capturing job output into the history. */
  captureOutput(writer: LineWriter): LineWriter {
    return this.store ? this.store.captureWriter(writer) : writer;
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
    this.store?.recordRun(job.name, record);
    // The main job's own end decides the status; being stopped by a shutdown does not (that exits 0).
    if (job.name === this.config.main && !this.shuttingDown) this.exitStatus = exitStatusOf(record);
  }

  private onStateChanged(job: Job): void {
    const state = job.currentState;
    const before = this.lastStates.get(job.name) ?? 'pending';
    this.lastStates.set(job.name, state);
    this.activeJobs += Number(isActive(state)) - Number(isActive(before));
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

  /** History is auxiliary: a state dir that cannot be used is reported and pidpilot runs without it. */
  private openHistory(): HistoryStore | null {
    const dir = resolveStateDir(this.config);
    let store: HistoryStore;
    try {
      store = new HistoryStore({ dir, ...this.config.state, warn: (m) => this.log.warn(m) });
    } catch (err) {
      this.log.warn(`history is not recorded: ${err instanceof Error ? err.message : String(err)}`);
      return null;
    }
    this.bus.observe((e) => store.recordEvent(e, e.code === 'failed' ? this.jobs.get(e.source)?.snapshot().reason : undefined));
    return store;
  }

  private forceKill(): void {
    killAllGroups('SIGKILL');
    setTimeout(() => this.end(), AFTER_KILL_GRACE_MS).unref();
  }

  private end(): void {
    if (this.deadline) clearTimeout(this.deadline);
    if (this.keepAlive) clearInterval(this.keepAlive);
    if (this.quiescenceCheck) clearImmediate(this.quiescenceCheck);
    this.store?.close();
    this.finish(this.exitStatus);
  }
}
