/**
 * A job's data and the actions its state table takes (job.ts has the inputs): the state
 * and its reason, health and readiness beside it, the budgets the restart policy spends,
 * the run going on; starting a run, setup, ending, and the one `transition()` every
 * state change goes through. Effects are asked for through `JobEffects` only.
 */
import type { JobConfig } from '../config/types.js';
import { AsyncQueue } from '../events/queue.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { RunRecord } from '../process/types.js';
import { afterExit, describeExit } from './after-exit.js';
import { Backoff } from './backoff.js';
import type { InputSink, JobEffects, JobInput, RunHandle } from './effects.js';
import { isStopHook } from './graph.js';
import { LivenessTracker } from './liveness/tracker.js';
import { backoffReason, pendingReason, runReason, waitingReason } from './reasons.js';
import type { HealthStatus, JobSnapshot, JobState } from './state.js';
import { isLive, isTerminal } from './state.js';

/** How many run records a job keeps in memory. */
const KEEP_RUNS = 20;

/** What a replaced instance hands its successor: run numbers and restart counts are monotonic. */
export interface JobCarry {
  runs: number;
  restarts: number;
  records: readonly RunRecord[];
}

export abstract class JobCore {
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
   * `restart` when a liveness check or the watchdog asked for a new process).
   */
  protected ending: { state: 'stopped' | 'failed' | 'restart'; reason: string } | null = null;
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
    this.checkSource = `check.${config.name}`;
    this.backoff = new Backoff(config.restartBackoff);
    this.liveness = new LivenessTracker(config);
    const when = config.when;
    this.startsRemain = when.kind === 'event' && when.mode === 'each' ? Infinity : 1;
    this.restartsRemain = when.kind === 'interval' ? 0 : config.restarts;
    this.intervalRunsRemain = when.kind === 'interval' ? config.restarts + 1 : 0;
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
  // ---------------------------------------------------------------------------
  // Decisions and actions

  protected decideAfterExit(record: RunRecord): void {
    const policy = {
      interval: this.config.when.kind === 'interval',
      stopHook: isStopHook(this.config),
      restarts: this.config.restarts,
    };
    const decision = afterExit(record, policy, {
      startsRemain: this.startsRemain,
      restartsRemain: this.restartsRemain,
      intervalRunsRemain: this.intervalRunsRemain,
      startQueued: this.startQueued,
      shuttingDown: this.shuttingDown,
    });
    switch (decision.next) {
      case 'rerun':
        this.startQueued = false;
        this.startsRemain--;
        return this.startRun();
      case 'restart': {
        const overBudget = this.liveness.spendRestart();
        if (overBudget !== null) return this.end('failed', overBudget);
        this.restartsRemain--;
        this.policyRestarts++;
        const delay = this.backoff.next(record.durationMs);
        return this.restartAfter(
          delay,
          backoffReason(delay, describeExit(record), this.policyRestarts, this.config.restarts),
        );
      }
      case 'wait':
        return this.transition('pending', pendingReason(this.config, true));
      case 'complete':
        return this.end('completed', `run ${record.run} exited 0`);
      case 'fail':
        return this.end('failed', decision.reason);
    }
  }

  /** Starts again now, or after `delay` in `backoff` (a restart of either kind: policy or liveness). */
  protected restartAfter(delay: number, reason: string): void {
    if (delay <= 0) {
      this.restarts++;
      return this.startRun();
    }
    this.log.info(`restarting in ${delay}ms`);
    this.transition('backoff', reason);
    return this.fx.setTimer('restart', delay);
  }

  protected startRun(): void {
    this.startQueued = false;
    this.setupDone = false;
    this.liveness.newRun();
    this.transition('starting', this.config.exec ? `starting run ${this.runNumber + 1}` : 'starting');
    if (this.config.exec) {
      const triggeredBy = this.triggeredBy;
      this.triggeredBy = undefined;
      const run = this.fx.spawnMain(++this.runNumber, {
        restarts: this.restarts,
        ...(triggeredBy ? { triggeredBy } : {}),
      });
      this.run = run;
      this.runStartedAt = Date.now();
      if (run.pid === null) return; // spawn failed: the 'exited' input follows
      // sd_notify: started only when the process says READY=1 (job-liveness.ts).
      if (this.config.notify) return this.transition('starting', this.notifyWaitReason());
    }
    this.becameRunning();
  }

  /** The process is up (spawned, or READY=1 for a notify job): running, with checks and setup. */
  protected becameRunning(): void {
    this.transition(
      this.maintenance ? 'maintenance' : 'running',
      this.maintenance ? 'maintenance mode: health checks paused' : this.runningReason(),
    );
    if (!this.maintenance) this.startHealthChecks();
    if (!this.config.health) this.becameLive();
  }

  /** Healthy, or started without a health check: run the setup commands, then the job is ready. */
  protected becameLive(): void {
    if (this.ready || this.setupRun !== null || !isLive(this.state)) return;
    if (this.setupDone || this.config.setup.length === 0) return this.markReady();
    if (this.shuttingDown) return;
    this.runSetup(0);
  }

  protected runSetup(index: number): void {
    const argv = this.config.setup[index]!;
    this.log.info(`setup ${index + 1}/${this.config.setup.length}: ${argv.join(' ')}`);
    this.setupRun = this.fx.spawnSetup(index);
    this.refreshReason(`setup ${index + 1}/${this.config.setup.length} running`);
  }

  /** A terminal failure of a live job: stop it like a stop request, then end `failed`. */
  protected failAndStop(reason: string): void {
    this.log.error(reason);
    this.ending = { state: 'failed', reason };
    const run = this.run;
    this.onStop(reason);
    // A stop hook's run is otherwise left to finish by onStop: this one has failed.
    if (isStopHook(this.config) && run !== null) this.fx.stopRun(run, this.config.stopTimeout, reason);
  }

  /** An interval job out of runs: it ends like its last run did. */
  protected finish(last: RunRecord | undefined): void {
    if (last && last.outcome !== 'succeeded')
      return this.end('failed', `last run ${last.outcome}: ${describeExit(last)}`);
    this.end('completed', `all ${this.config.restarts + 1} runs done`);
  }

  protected finishStop(): void {
    const ending = this.ending ?? { state: 'stopped' as const, reason: 'stop' };
    if (ending.state !== 'restart') return this.end(ending.state, ending.reason);
    this.ending = null;
    // A liveness restart: the process has ended; start it again as a restart, not during a shutdown.
    if (this.shuttingDown) return this.end('stopped', 'shutdown');
    const delay = this.backoff.next(this.records.at(-1)?.durationMs ?? 0);
    this.restartAfter(delay, `restarting in ${delay}ms: ${ending.reason}`);
  }

  /**
   * Terminal: no more starts. Publishes `stopping`/`stopped` like ContainerPilot does
   * when a job's loop ends (post-stop hooks rely on it), and `failed` on failure.
   */
  protected end(state: 'completed' | 'failed' | 'stopped', reason: string): void {
    if (isTerminal(this.state)) return;
    for (const timer of ['interval', 'restart', 'whenTimeout', 'health', 'watchdog'] as const)
      this.fx.clearTimer(timer);
    this.stopCheck();
    this.stopSetup();
    this.setReady(false);
    if (state === 'failed') this.log.error(`failed: ${reason}`);
    this.transition(state, reason);
    if (state === 'failed') this.fx.publish('failed');
    if (!this.stoppingPublished) this.fx.publish('stopping');
    this.fx.publish('stopped');
  }

  protected startHealthChecks(): void {
    if (this.config.health && !this.shuttingDown) this.fx.setTimer('health', this.config.health.interval);
  }

  protected stopCheck(): void {
    if (this.check === 0) return;
    this.fx.stopCheck();
    this.check = 0;
  }

  protected stopSetup(): void {
    if (this.setupRun === null) return;
    this.fx.stopRun(this.setupRun, 0, 'stop');
    this.setupRun = null;
  }

  protected markReady(): void {
    if (this.ready || !isLive(this.state)) return;
    this.setReady(true);
    this.refreshReason();
    this.fx.publish('ready');
  }

  protected setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.fx.readyChanged();
  }

  protected setHealth(health: HealthStatus): void {
    const was = this.health;
    this.health = health;
    if (health === 'unhealthy' && was !== 'unhealthy')
      this.log.warn(`unhealthy: health check failed: ${this.fx.lastCheckDetail()}`);
    if (health === 'healthy' && was === 'unhealthy') this.log.info('healthy again');
    if (health !== was) this.refreshReason();
  }

  /** The reason of a running job, from its data: run number and restarts, health, setup. */
  protected runningReason(setup?: string): string {
    const base = this.config.exec
      ? runReason(this.runNumber, this.policyRestarts, this.config.restarts)
      : 'active (no exec)';
    // What the process says of itself (sd_notify STATUS=) is part of the reason.
    const run = this.liveness.status ? `${base}; ${this.liveness.status}` : base;
    if (setup) return `${run}; ${setup}`;
    if (this.health === 'unhealthy') return `${run}; health check failing`;
    if (this.config.health && !this.ready) return `${run}; waiting for a passing health check`;
    if (this.config.setup.length > 0 && !this.ready) return `${run}; setup pending`;
    return run;
  }

  protected refreshReason(setup?: string): void {
    if (this.state === 'running') this.transition('running', this.runningReason(setup));
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

  /** A stop request (job.ts); a failure of a live job stops it the same way. */
  protected abstract onStop(reason: string): void;
  /** The reason while a notify job waits for READY=1 (job-liveness.ts). */
  protected abstract notifyWaitReason(): string;
}
