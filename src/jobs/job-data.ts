/**
 * A job's data (job.ts has the inputs, job-actions.ts the actions): the state and its
 * reason, health and readiness beside it, the budgets the restart policy spends, the run
 * going on; what others read of it (snapshot, busy, idle, settled), and the one
 * `transition()` every state change goes through. Effects are asked for through
 * `JobEffects` only.
 */
import { isScheduled, type JobConfig } from '../config/types.js';
import { AsyncQueue } from '../events/queue.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { RunRecord } from '../process/types.js';
import { Backoff } from './backoff.js';
import type { InputSink, JobEffects, JobInput, RunHandle } from './effects.js';
import { LivenessTracker } from './liveness/tracker.js';
import { checkSourceOf } from './naming.js';
import { pendingReason, waitingReason } from './reasons.js';
import type { HealthStatus, JobSnapshot, JobState, TickCounts } from './state.js';
import { isTerminal } from './state.js';

/** How many run records a job keeps in memory. */
const KEEP_RUNS = 20;

/** What a replaced instance hands its successor: run numbers and restart counts are monotonic. */
export interface JobCarry {
  runs: number;
  restarts: number;
  records: readonly RunRecord[];
}

export abstract class JobData {
  readonly name: string;
  readonly log: Logger;
  protected readonly fx: JobEffects;
  protected readonly inputs = new AsyncQueue<JobInput>();
  protected readonly backoff: Backoff;
  protected readonly checkSource: string;

  protected state: JobState = 'pending';
  protected reason: string;

  // Data beside the state.
  protected health: HealthStatus = 'unknown';
  protected ready = false;
  /** pidpilot-wide modes this job has been told about. */
  protected maintenance = false;
  protected shuttingDown = false;
  /** Setup is done for the current run (a health flap does not run it again). */
  protected setupDone = false;
  protected setupRun: RunHandle | null = null;

  // The budgets the restart policy spends (see after-exit.ts).
  protected startsRemain: number;
  protected restartsRemain: number;
  /** Restarts this instance's policy has decided (`restart 3 of 5`). */
  protected policyRestarts = 0;
  protected intervalRunsRemain: number;
  /** A trigger came while a run was going: start again when it ends. */
  protected startQueued = false;

  protected run: RunHandle | null = null;
  protected runStartedAt: number | null = null;
  protected runNumber: number;
  protected restarts: number;
  protected readonly records: RunRecord[];
  /** The health check going on (its number), 0 when none. */
  protected check = 0;
  protected checks = 0;
  /** Each dependency: met yet (then it stays met for this job), and whether it has setup (for reasons). */
  protected readonly dependencies = new Map<string, { met: boolean; hasSetup: boolean }>();
  /**
   * How a stop in progress ends the job (`failed` when the stop is a setup failure's;
   * `restart` when a liveness check or the watchdog asked for a new process; `startFailed`
   * when no READY=1 came in time: the run then counts as a failed one, through the restart policy;
   * `replace` when a schedule's tick replaces the run, job-schedule.ts).
   */
  protected ending: { state: 'stopped' | 'failed' | 'restart' | 'startFailed' | 'replace'; reason: string } | null =
    null;
  /** A scheduled job's ticks that did not simply start a run (job-schedule.ts), and its next tick (epoch ms). */
  protected readonly ticks: TickCounts | null;
  protected nextTick: number | null = null;
  /** Thresholds, restart budget, sd_notify status (jobs/liveness/). */
  protected readonly liveness: LivenessTracker;
  /** The job whose run's end triggered the next run (its outcome goes into the run's environment). */
  protected triggeredBy: string | undefined;
  protected stoppingPublished = false;

  /** Sequence number of the last bus event this job has processed. */
  protected processedSeq = 0;
  protected readonly settledWaiters: Array<{ afterSeq: number; resolve: () => void }> = [];

  constructor(
    readonly config: JobConfig,
    effects: (push: InputSink) => JobEffects,
    carry?: JobCarry,
  ) {
    this.name = config.name;
    this.checkSource = checkSourceOf(config);
    this.backoff = new Backoff(config.restartBackoff);
    this.liveness = new LivenessTracker(config);
    const when = config.when;
    this.startsRemain = when.kind === 'event' && when.mode === 'each' ? Infinity : 1;
    this.restartsRemain = isScheduled(when) ? 0 : config.restarts;
    this.intervalRunsRemain = isScheduled(when) ? config.restarts + 1 : 0;
    this.ticks = isScheduled(when) ? { skipped: 0, queued: 0, replaced: 0 } : null;
    this.runNumber = carry?.runs ?? 0;
    this.restarts = carry?.restarts ?? 0;
    this.records = [...(carry?.records ?? [])];
    for (const dep of config.dependsOn) this.dependencies.set(dep.job, { met: false, hasSetup: false });
    this.reason = pendingReason(config, false);
    this.fx = effects((input) => this.inputs.push(input));
    this.log = this.fx.log;
  }

  /** Dependencies not met yet (for the "can anything still run" check). */
  unmetDependencies(): string[] {
    return [...this.dependencies].filter(([, d]) => !d.met).map(([name]) => name);
  }

  carry(): JobCarry {
    return { runs: this.runNumber, restarts: this.restarts, records: this.records };
  }

  snapshot(): JobSnapshot {
    return {
      name: this.name,
      state: this.state,
      reason: this.reason,
      pid: this.run?.pid ?? null,
      health: this.health,
      ready: this.ready,
      runs: this.runNumber,
      restarts: this.restarts,
      startedAt: this.runStartedAt,
      lastRun: this.records.at(-1) ?? null,
      dependencies: this.config.dependsOn.map((d) => ({ ...d, met: this.dependencies.get(d.job)?.met === true })),
      ...(this.ticks ? { ticks: { ...this.ticks } } : {}),
    };
  }

  get currentState(): JobState {
    return this.state;
  }

  get currentReason(): string {
    return this.reason;
  }

  /** True while a run of this job is going or about to start. */
  get busy(): boolean {
    return (
      this.run !== null ||
      this.state === 'starting' ||
      this.state === 'backoff' ||
      this.state === 'cleanup' ||
      this.startQueued
    );
  }

  /** Nothing queued and nothing running or about to start. */
  get idle(): boolean {
    return this.inputs.length === 0 && !this.busy;
  }

  /**
   * Resolves once this job has processed every bus event up to `afterSeq` and has no
   * run going (or has ended). Used to wait for a pre-stop hook: the `stopping` event
   * must first reach the hook, and then the run it caused must end.
   */
  settled(afterSeq: number): Promise<void> {
    if (this.isSettled(afterSeq)) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push({ afterSeq, resolve }));
  }

  protected isSettled(afterSeq: number): boolean {
    if (isTerminal(this.state)) return this.run === null;
    return this.processedSeq >= afterSeq && !this.busy;
  }

  protected ignored(input: string): void {
    this.log.debug(`${input} ignored in state ${this.state}`);
  }

  protected dependenciesMet(): boolean {
    for (const d of this.dependencies.values()) if (!d.met) return false;
    return true;
  }

  protected waitingFor(): string {
    const unmet = this.config.dependsOn.filter((d) => !this.dependencies.get(d.job)!.met);
    return waitingReason(unmet.map((d) => ({ ...d, hasSetup: this.dependencies.get(d.job)!.hasSetup })));
  }

  /** Every state change goes through here, so it is logged and observed in one place. */
  protected transition(to: JobState, reason: string): void {
    if (this.state === to && this.reason === reason) return;
    const from = this.state;
    this.state = to;
    this.reason = reason;
    if (from !== to) this.log.debug(`state ${from} -> ${to} (${reason})`);
    this.fx.stateChanged();
  }

  protected keepRecord(record: RunRecord): void {
    this.records.push(record);
    if (this.records.length > KEEP_RUNS) this.records.shift();
  }

  protected notifySettled(): void {
    if (this.settledWaiters.length === 0) return;
    for (let i = 0; i < this.settledWaiters.length; i++) {
      const waiter = this.settledWaiters[i]!;
      if (this.isSettled(waiter.afterSeq)) {
        this.settledWaiters.splice(i--, 1);
        waiter.resolve();
      }
    }
  }
}
