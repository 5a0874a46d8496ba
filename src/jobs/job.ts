/**
 * One job as a state table: an async loop over its own input queue, one handler per
 * input (JOB_INPUTS), each deciding by `switch` on the current state (JOB_STATES); an
 * input a state does not accept is ignored on purpose and logged at debug. Every state
 * change goes through `transition(state, reason)`. The table is in docs/architecture.md.
 *
 * The machine asks for effects (spawn, timers, publish, stop) through `JobEffects` and
 * never awaits inside a step: what it started comes back as another input. Health is
 * data beside the state, and so are the budgets the restart policy spends; what an exit
 * leads to is decided by the pure `afterExit`.
 *
 * Semantics follow ContainerPilot's jobs (SPEC §2.1, §3.3): `when` once/each/interval/
 * timeout, `restarts`, health checks publishing `healthy`/`unhealthy`, stop hooks; plus
 * pidpilot's restart backoff, run records, dependencies and setup.
 */
import type { JobConfig } from '../config/types.js';
import type { BusEvent } from '../events/event.js';
import { GLOBAL_SOURCE } from '../events/event.js';
import { AsyncQueue } from '../events/queue.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { NotifyMessage } from '../process/notify.js';
import type { RunRecord } from '../process/types.js';
import { afterExit, describeExit } from './after-exit.js';
import { Backoff } from './backoff.js';
import { type DependencyView, judgeDependency } from './dependencies.js';
import type { InputSink, JobEffects, JobInput, RunHandle, Timer } from './effects.js';
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

export class Job {
  readonly name: string;
  readonly log: Logger;
  private readonly fx: JobEffects;
  private readonly inputs = new AsyncQueue<JobInput>();
  private readonly backoff: Backoff;
  private readonly checkSource: string;

  private state: JobState = 'pending';
  private reason: string;

  // Data beside the state.
  private health: HealthStatus = 'unknown';
  private ready = false;
  /** pidpilot-wide modes this job has been told about. */
  private maintenance = false;
  private shuttingDown = false;
  /** Setup is done for the current run (a health flap does not run it again). */
  private setupDone = false;
  private setupRun: RunHandle | null = null;

  // The budgets the restart policy spends (see after-exit.ts).
  private startsRemain: number;
  private restartsRemain: number;
  /** Restarts this instance's policy has decided (`restart 3 of 5`). */
  private policyRestarts = 0;
  private intervalRunsRemain: number;
  /** A trigger came while a run was going: start again when it ends. */
  private startQueued = false;

  private run: RunHandle | null = null;
  private runStartedAt: number | null = null;
  private runNumber: number;
  private restarts: number;
  private readonly records: RunRecord[];
  /** The health check going on (its number), 0 when none. */
  private check = 0;
  private checks = 0;
  /** Each dependency: met yet (then it stays met for this job), and whether it has setup (for reasons). */
  private readonly dependencies = new Map<string, { met: boolean; hasSetup: boolean }>();
  /**
   * How a stop in progress ends the job (`failed` when the stop is a setup failure's;
   * `restart` when a liveness check or the watchdog asked for a new process).
   */
  private ending: { state: 'stopped' | 'failed' | 'restart'; reason: string } | null = null;
  /** Thresholds, restart budget, sd_notify status (jobs/liveness/). */
  private readonly liveness: LivenessTracker;
  /** The job whose run's end triggered the next run (its outcome goes into the run's environment). */
  private triggeredBy: string | undefined;
  /** The cleanup going on (its number), and what the run's end leads to once it is done. */
  private cleanups = 0;
  private afterCleanup: { cleanup: number; record: RunRecord; then: 'decide' | 'finishStop' } | null = null;
  private stoppingPublished = false;

  /** Sequence number of the last bus event this job has processed. */
  private processedSeq = 0;
  private readonly settledWaiters: Array<{ afterSeq: number; resolve: () => void }> = [];
  private loopDone: Promise<void> | null = null;

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

  /** Start consuming inputs. Resolves when the job has reached a terminal state and its loop ended. */
  start(): Promise<void> {
    this.loopDone ??= this.loop();
    return this.loopDone;
  }

  /** Queue an input (the supervisor's: dependency changes, stop, launch). */
  push(input: JobInput): void {
    this.inputs.push(input);
  }

  /** A dependency's state or readiness changed (`view` is its snapshot at that moment). */
  dependencyChanged(job: string, view: DependencyView): void {
    this.inputs.push({ kind: 'dependency', job, view });
  }

  /** Ask the job to stop (shutdown, control). Idempotent; watch `snapshot().state` or `settled()`. */
  requestStop(reason: string): void {
    this.inputs.push({ kind: 'stop', reason });
  }

  /** Detach from the bus (a replaced instance hears nothing more). */
  close(): void {
    this.fx.close();
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
    return this.run !== null || this.state === 'starting' || this.state === 'backoff' || this.state === 'cleanup' || this.startQueued;
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

  private isSettled(afterSeq: number): boolean {
    if (isTerminal(this.state)) return this.run === null;
    return this.processedSeq >= afterSeq && !this.busy;
  }

  // ---------------------------------------------------------------------------
  // The loop

  private async loop(): Promise<void> {
    for (;;) {
      const next = await this.inputs.next();
      if (next.done) return;
      try {
        this.apply(next.value);
      } catch (err) {
        // A bug in one step must not kill the loop silently and leave the job stuck.
        this.log.error({ err }, `internal error: ${String(err)}`);
      }
      this.notifySettled();
      if (isTerminal(this.state) && this.run === null && this.check === 0 && this.setupRun === null) this.inputs.close();
    }
  }

  /** One step: the input goes to its handler. Public for the table tests, which drive it without a loop. */
  apply(input: JobInput): void {
    switch (input.kind) {
      case 'event':
        this.onEvent(input.event);
        this.processedSeq = input.event.seq;
        return;
      case 'exited':
        return this.onExited(input.run, input.record);
      case 'timer':
        return this.onTimer(input.timer);
      case 'checkDone':
        if (input.check === this.check) this.check = 0;
        return;
      case 'hooksDone':
        return this.onHooksDone();
      case 'stop':
        return this.onStop(input.reason);
      case 'dependency':
        return this.onDependency(input.job, input.view);
      case 'setupDone':
        return this.onSetupDone(input.run, input.index, input.record);
      case 'launch':
        return this.onLaunch(input.trigger, input.maintenance);
      case 'notify':
        return this.onNotify(input.run, input.msg);
      case 'cleanupDone':
        return this.onCleanupDone(input.cleanup);
    }
  }

  private onEvent({ code, source }: BusEvent): void {
    if (source === GLOBAL_SOURCE) {
      if (code === 'startup') return this.onStartup();
      if (code === 'shutdown') return this.onShutdown();
      if (code === 'enterMaintenance' || code === 'exitMaintenance') return this.onMaintenance(code === 'enterMaintenance');
    }
    if (source === this.checkSource) return this.onCheckResult(code === 'exitSuccess');
    const when = this.config.when;
    if (when.kind === 'event' && source === when.source && code === when.code) {
      // A run started by another job's end learns how that run ended (PIDPILOT_RESULT …).
      this.triggeredBy = code === 'stopped' || code === 'exitFailed' || code === 'exitSuccess' ? source : undefined;
      this.onTrigger();
    }
  }

  private onTimer(timer: Timer): void {
    switch (timer) {
      case 'interval':
        return this.onIntervalTick();
      case 'restart':
        return this.onRestartDue();
      case 'whenTimeout':
        return this.onWhenTimeout();
      case 'health':
        return this.onHealthTick();
      case 'watchdog':
        return this.onWatchdogTimeout();
    }
  }

  private ignored(input: string): void {
    this.log.debug(`${input} ignored in state ${this.state}`);
  }

  // ---------------------------------------------------------------------------
  // Inputs: one handler each, deciding by state.

  private onStartup(): void {
    switch (this.state) {
      case 'pending': {
        const when = this.config.when;
        if (when.kind === 'event' && when.timeout !== undefined) this.fx.setTimer('whenTimeout', when.timeout);
        if (when.kind === 'startup') return this.onTrigger();
        if (when.kind === 'interval') return this.onIntervalTick();
        return;
      }
      default:
        return this.ignored('startup');
    }
  }

  /** An instance built after `startup` (reload, start, restart) starts as if it had seen it. */
  private onLaunch(trigger: boolean, maintenance: boolean): void {
    this.maintenance = maintenance;
    switch (this.state) {
      case 'pending':
        this.onStartup();
        if (trigger && this.config.when.kind === 'event') this.onTrigger();
        return;
      default:
        return this.ignored('launch');
    }
  }

  private onTrigger(): void {
    if (this.shuttingDown && !isStopHook(this.config)) return this.ignored('trigger (shutting down)');
    if (this.startsRemain <= 0) return this.ignored('trigger (no starts left)');
    switch (this.state) {
      case 'pending':
        this.fx.clearTimer('whenTimeout');
        // `when` and `dependsOn` must both hold: wait for the dependencies in `waiting`.
        if (!this.dependenciesMet()) return this.transition('waiting', this.waitingFor());
        this.startsRemain--;
        return this.startRun();
      case 'starting':
      case 'running':
      case 'maintenance':
      case 'backoff':
      case 'cleanup':
        // Never two runs of one job at once: remember the trigger and start when the run ends.
        this.startQueued = true;
        return;
      case 'waiting':
      case 'draining':
      case 'stopping':
      case 'stopped':
      case 'completed':
      case 'failed':
        return this.ignored('trigger');
    }
  }

  private onIntervalTick(): void {
    const when = this.config.when;
    if (when.kind !== 'interval' || this.shuttingDown) return this.ignored('interval tick');
    switch (this.state) {
      case 'pending':
        // The first tick waits for the dependencies.
        if (!this.dependenciesMet()) return this.transition('waiting', this.waitingFor());
        if (this.intervalRunsRemain <= 0) return this.finish(this.records.at(-1));
        this.fx.setTimer('interval', when.interval);
        this.intervalRunsRemain--;
        return this.startRun();
      case 'starting':
      case 'running':
      case 'maintenance':
        if (this.intervalRunsRemain > 0) this.fx.setTimer('interval', when.interval);
        this.log.debug('interval elapsed while the last run is still going: not started twice');
        return;
      default:
        return this.ignored('interval tick');
    }
  }

  private onRestartDue(): void {
    switch (this.state) {
      case 'backoff':
        // During shutdown a job waiting to restart waits for its stop instead (its dependents stop first).
        if (this.shuttingDown) return this.ignored('restart delay (shutting down)');
        this.restarts++;
        return this.startRun();
      default:
        return this.ignored('restart delay');
    }
  }

  private onWhenTimeout(): void {
    const when = this.config.when;
    switch (this.state) {
      case 'pending':
        if (this.runNumber > 0 || when.kind !== 'event') return this.ignored('when.timeout');
        this.fx.publish('timerExpired');
        return this.end('failed', `when.timeout: no ${when.code} from ${when.source} within ${when.timeout}ms`);
      default:
        return this.ignored('when.timeout');
    }
  }

  private onHealthTick(): void {
    const health = this.config.health;
    switch (this.state) {
      case 'running':
        if (!health || this.shuttingDown) return this.ignored('health tick');
        this.fx.setTimer('health', health.interval);
        if (this.check !== 0) return; // the previous check is still going
        this.check = ++this.checks;
        return this.fx.startCheck(this.check);
      default:
        return this.ignored('health tick');
    }
  }

  private onCheckResult(passed: boolean): void {
    switch (this.state) {
      case 'running': {
        const verdict = this.liveness.check(passed, Date.now() - (this.runStartedAt ?? Date.now()));
        if (verdict.ignored) return this.log.debug('health check failed in the start period: not counted');
        if (verdict.health === undefined) return; // below its threshold: nothing changes yet
        // ContainerPilot publishes on every check, not only on changes; `once: healthy` relies on it.
        this.setHealth(verdict.health);
        this.fx.publish(verdict.health);
        if (verdict.health === 'healthy') this.becameLive();
        if (verdict.act?.kind === 'restart') this.livenessRestart(verdict.act.reason);
        else if (verdict.act?.kind === 'stop') this.failAndStop(verdict.act.reason);
        return;
      }
      default:
        // A check that finished after its run's exit was handled says nothing about the job now.
        return this.ignored('check result');
    }
  }

  private onExited(run: RunHandle, record: RunRecord): void {
    if (run !== this.run) return this.ignored('exit of an earlier run');
    this.run = null;
    this.runStartedAt = null;
    this.keepRecord(record);
    this.fx.clearTimer('health');
    this.fx.clearTimer('watchdog');
    this.stopCheck();
    this.stopSetup();
    this.health = 'unknown';
    this.setReady(false);
    let then: 'decide' | 'finishStop';
    switch (this.state) {
      case 'draining':
      case 'stopping':
        then = 'finishStop';
        break;
      case 'starting':
      case 'running':
      case 'maintenance':
        then = 'decide';
        break;
      default:
        return this.ignored('exit');
    }
    // The cleanup commands run after every end of the process, before what the end leads to.
    if (this.config.cleanup.length === 0) return then === 'decide' ? this.decideAfterExit(record) : this.finishStop();
    const cleanup = ++this.cleanups;
    this.afterCleanup = { cleanup, record, then };
    this.transition('cleanup', `run ${record.run} ended (${describeExit(record)}): cleanup running`);
    this.fx.runCleanup(cleanup, record);
  }

  private onCleanupDone(cleanup: number): void {
    const after = this.afterCleanup;
    switch (this.state) {
      case 'cleanup':
        if (after === null || after.cleanup !== cleanup) return this.ignored('end of an earlier cleanup');
        this.afterCleanup = null;
        // A stop that came during the cleanup wins over a restart.
        if (after.then === 'finishStop' || (this.ending !== null && this.ending.state !== 'restart')) return this.finishStop();
        return this.decideAfterExit(after.record);
      default:
        return this.ignored('cleanup done');
    }
  }

  /** An sd_notify message: READY=1 ends `starting`; STATUS= is shown in the reason; WATCHDOG=1 feeds the watchdog. */
  private onNotify(run: RunHandle, msg: NotifyMessage): void {
    if (run !== this.run) return this.ignored('sd_notify message of an earlier run');
    if (msg.status !== undefined) this.liveness.status = msg.status || undefined;
    if (msg.watchdogMs !== undefined) this.liveness.watchdogMs = msg.watchdogMs > 0 ? msg.watchdogMs : undefined;
    if (msg.stopping) this.log.info('the process says it is stopping (STOPPING=1)');
    switch (this.state) {
      case 'starting':
        if (!msg.ready) return this.transition('starting', this.notifyWaitReason());
        this.log.info(`ready (READY=1)${this.liveness.status ? `: ${this.liveness.status}` : ''}`);
        this.armWatchdog();
        return this.becameRunning();
      case 'running':
      case 'maintenance':
        if (msg.watchdog === 'trigger') return this.livenessRestart('watchdog triggered by the process (WATCHDOG=trigger)');
        if (msg.watchdog === 'ping' || msg.watchdogMs !== undefined) this.armWatchdog();
        return this.refreshReason();
      default:
        return this.ignored('sd_notify message');
    }
  }

  private onWatchdogTimeout(): void {
    switch (this.state) {
      case 'running':
      case 'maintenance':
        return this.livenessRestart(this.liveness.watchdogReason());
      default:
        return this.ignored('watchdog timeout');
    }
  }

  private onSetupDone(run: RunHandle, index: number, record: RunRecord): void {
    if (run !== this.setupRun) return this.ignored('end of an abandoned setup command');
    this.setupRun = null;
    switch (this.state) {
      case 'running':
      case 'maintenance': {
        if (record.outcome !== 'succeeded') {
          const argv = this.config.setup[index]!;
          return this.failAndStop(`setup command ${index + 1} (${argv.join(' ')}) ${record.outcome}: ${describeExit(record)}`);
        }
        if (index + 1 < this.config.setup.length) return this.runSetup(index + 1);
        this.setupDone = true;
        return this.markReady();
      }
      default:
        return this.ignored('setup done');
    }
  }

  private onDependency(name: string, view: DependencyView): void {
    const dep = this.dependencies.get(name);
    if (!dep || dep.met) return;
    dep.hasSetup = view.hasSetup;
    const condition = this.config.dependsOn.find((d) => d.job === name)!.condition;
    const verdict = judgeDependency(condition, view);
    switch (this.state) {
      case 'pending':
      case 'waiting':
        break;
      case 'starting':
      case 'running':
      case 'maintenance':
      case 'backoff':
      case 'cleanup':
        if (verdict === 'met') dep.met = true;
        return;
      default:
        return this.ignored('dependency change');
    }
    if (verdict === 'waiting') return this.state === 'waiting' ? this.transition('waiting', this.waitingFor()) : undefined;
    if (verdict === 'met') {
      dep.met = true;
      if (this.state !== 'waiting') return;
      if (!this.dependenciesMet()) return this.transition('waiting', this.waitingFor());
      // The start that was due goes ahead.
      this.transition('pending', pendingReason(this.config, this.runNumber > 0));
      return this.config.when.kind === 'interval' ? this.onIntervalTick() : this.onTrigger();
    }
    // A job that has never started never will: it fails, and so do its own dependents (AWS Batch).
    if (this.runNumber > 0) return;
    this.end('failed', verdict === 'failed' ? `dependency "${name}" failed` : `dependency "${name}" ${view.state} before it was ${condition}`);
  }

  private onShutdown(): void {
    if (isTerminal(this.state)) return this.ignored('shutdown');
    this.shuttingDown = true;
    // ContainerPilot: a stop hook that may fire many times still runs once more during shutdown.
    if (isStopHook(this.config) && this.startsRemain > 1) this.startsRemain = 1;
    this.fx.clearTimer('health');
    this.stopCheck();
  }

  private onMaintenance(on: boolean): void {
    this.maintenance = on;
    switch (this.state) {
      case 'running':
        if (!on) return;
        this.fx.clearTimer('health');
        this.stopCheck();
        return this.transition('maintenance', 'maintenance mode: health checks paused');
      case 'maintenance':
        if (on) return;
        this.health = 'unknown';
        this.transition('running', this.runningReason());
        return this.startHealthChecks();
      default:
        return; // remembered: a run started later begins in maintenance
    }
  }

  private onStop(reason: string): void {
    switch (this.state) {
      case 'stopping':
      case 'cleanup':
        // A process being replaced (liveness restart) or cleaned up after: it stops there.
        if (this.ending === null || this.ending.state === 'restart') {
          this.ending = { state: 'stopped', reason };
          this.startQueued = false;
          for (const timer of ['interval', 'restart', 'whenTimeout'] as const) this.fx.clearTimer(timer);
          if (this.state === 'stopping') this.transition('stopping', `${reason}: ${this.config.stopSignal} sent`);
          return;
        }
        return this.ignored('stop');
      case 'draining':
      case 'stopped':
      case 'completed':
      case 'failed':
        return this.ignored('stop');
      default:
        break;
    }
    this.ending ??= { state: 'stopped', reason };
    for (const timer of ['interval', 'restart', 'whenTimeout', 'health', 'watchdog'] as const) this.fx.clearTimer(timer);
    this.stopCheck();
    this.stopSetup();
    this.startQueued = false;
    if (isStopHook(this.config)) {
      // A hook is stopped only after the job it hooks has stopped, so its trigger has
      // already been delivered: let a run that is going finish (bounded by the global stop).
      if (this.run === null) return this.finishStop();
      return this.transition('stopping', `${reason}: letting the run finish`);
    }
    this.transition('draining', `${reason}: pre-stop hooks running`);
    this.stoppingPublished = true;
    const stopping = this.fx.publish('stopping');
    if (!this.fx.waitForPreStopHooks(stopping)) this.onHooksDone();
  }

  private onHooksDone(): void {
    switch (this.state) {
      case 'draining': {
        const reason = this.ending?.reason ?? 'stop';
        if (this.run === null) return this.finishStop();
        this.transition('stopping', `${reason}: ${this.config.stopSignal} sent`);
        return this.fx.stopRun(this.run, this.config.stopTimeout, reason);
      }
      default:
        return this.ignored('hooks done');
    }
  }

  // ---------------------------------------------------------------------------
  // Decisions and actions

  private decideAfterExit(record: RunRecord): void {
    const policy = { interval: this.config.when.kind === 'interval', stopHook: isStopHook(this.config), restarts: this.config.restarts };
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
        return this.restartAfter(delay, backoffReason(delay, describeExit(record), this.policyRestarts, this.config.restarts));
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
  private restartAfter(delay: number, reason: string): void {
    if (delay <= 0) {
      this.restarts++;
      return this.startRun();
    }
    this.log.info(`restarting in ${delay}ms`);
    this.transition('backoff', reason);
    return this.fx.setTimer('restart', delay);
  }

  /**
   * A live process judged dead (health check past its threshold, watchdog): stop it with its
   * stop signal and stopTimeout, then start it again through the backoff, as a restart —
   * unless the restart budget is spent, which fails the job.
   */
  private livenessRestart(reason: string): void {
    const run = this.run;
    if (run === null) return;
    const overBudget = this.liveness.spendRestart();
    if (overBudget !== null) return this.failAndStop(`${reason}; ${overBudget}`);
    this.log.warn(`restarting: ${reason}`);
    this.ending = { state: 'restart', reason };
    this.fx.clearTimer('health');
    this.fx.clearTimer('watchdog');
    this.stopCheck();
    this.stopSetup();
    this.transition('stopping', `restarting: ${reason}; ${this.config.stopSignal} sent`);
    this.fx.stopRun(run, this.config.stopTimeout, reason);
  }

  private armWatchdog(): void {
    const ms = this.liveness.watchdogMs;
    if (ms === undefined) return this.fx.clearTimer('watchdog');
    this.fx.setTimer('watchdog', ms);
  }

  private notifyWaitReason(): string {
    const status = this.liveness.status;
    return `run ${this.runNumber}: waiting for READY=1${status ? `; ${status}` : ''}`;
  }

  private startRun(): void {
    this.startQueued = false;
    this.setupDone = false;
    this.liveness.newRun();
    this.transition('starting', this.config.exec ? `starting run ${this.runNumber + 1}` : 'starting');
    if (this.config.exec) {
      const triggeredBy = this.triggeredBy;
      this.triggeredBy = undefined;
      const run = this.fx.spawnMain(++this.runNumber, { restarts: this.restarts, ...(triggeredBy ? { triggeredBy } : {}) });
      this.run = run;
      this.runStartedAt = Date.now();
      if (run.pid === null) return; // spawn failed: the 'exited' input follows
      // sd_notify: started only when the process says READY=1 (onNotify).
      if (this.config.notify) return this.transition('starting', this.notifyWaitReason());
    }
    this.becameRunning();
  }

  /** The process is up (spawned, or READY=1 for a notify job): running, with checks and setup. */
  private becameRunning(): void {
    this.transition(this.maintenance ? 'maintenance' : 'running', this.maintenance ? 'maintenance mode: health checks paused' : this.runningReason());
    if (!this.maintenance) this.startHealthChecks();
    if (!this.config.health) this.becameLive();
  }

  /** Healthy, or started without a health check: run the setup commands, then the job is ready. */
  private becameLive(): void {
    if (this.ready || this.setupRun !== null || !isLive(this.state)) return;
    if (this.setupDone || this.config.setup.length === 0) return this.markReady();
    if (this.shuttingDown) return;
    this.runSetup(0);
  }

  private runSetup(index: number): void {
    const argv = this.config.setup[index]!;
    this.log.info(`setup ${index + 1}/${this.config.setup.length}: ${argv.join(' ')}`);
    this.setupRun = this.fx.spawnSetup(index);
    this.refreshReason(`setup ${index + 1}/${this.config.setup.length} running`);
  }

  /** A terminal failure of a live job: stop it like a stop request, then end `failed`. */
  private failAndStop(reason: string): void {
    this.log.error(reason);
    this.ending = { state: 'failed', reason };
    const run = this.run;
    this.onStop(reason);
    // A stop hook's run is otherwise left to finish by onStop: this one has failed.
    if (isStopHook(this.config) && run !== null) this.fx.stopRun(run, this.config.stopTimeout, reason);
  }

  /** An interval job out of runs: it ends like its last run did. */
  private finish(last: RunRecord | undefined): void {
    if (last && last.outcome !== 'succeeded') return this.end('failed', `last run ${last.outcome}: ${describeExit(last)}`);
    this.end('completed', `all ${this.config.restarts + 1} runs done`);
  }

  private finishStop(): void {
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
  private end(state: 'completed' | 'failed' | 'stopped', reason: string): void {
    if (isTerminal(this.state)) return;
    for (const timer of ['interval', 'restart', 'whenTimeout', 'health', 'watchdog'] as const) this.fx.clearTimer(timer);
    this.stopCheck();
    this.stopSetup();
    this.setReady(false);
    if (state === 'failed') this.log.error(`failed: ${reason}`);
    this.transition(state, reason);
    if (state === 'failed') this.fx.publish('failed');
    if (!this.stoppingPublished) this.fx.publish('stopping');
    this.fx.publish('stopped');
  }

  private startHealthChecks(): void {
    if (this.config.health && !this.shuttingDown) this.fx.setTimer('health', this.config.health.interval);
  }

  private stopCheck(): void {
    if (this.check === 0) return;
    this.fx.stopCheck();
    this.check = 0;
  }

  private stopSetup(): void {
    if (this.setupRun === null) return;
    this.fx.stopRun(this.setupRun, 0, 'stop');
    this.setupRun = null;
  }

  private markReady(): void {
    if (this.ready || !isLive(this.state)) return;
    this.setReady(true);
    this.refreshReason();
    this.fx.publish('ready');
  }

  private setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.fx.readyChanged();
  }

  private setHealth(health: HealthStatus): void {
    const was = this.health;
    this.health = health;
    if (health === 'unhealthy' && was !== 'unhealthy') this.log.warn(`unhealthy: health check failed: ${this.fx.lastCheckDetail()}`);
    if (health === 'healthy' && was === 'unhealthy') this.log.info('healthy again');
    if (health !== was) this.refreshReason();
  }

  /** The reason of a running job, from its data: run number and restarts, health, setup. */
  private runningReason(setup?: string): string {
    const base = this.config.exec ? runReason(this.runNumber, this.policyRestarts, this.config.restarts) : 'active (no exec)';
    // What the process says of itself (sd_notify STATUS=) is part of the reason.
    const run = this.liveness.status ? `${base}; ${this.liveness.status}` : base;
    if (setup) return `${run}; ${setup}`;
    if (this.health === 'unhealthy') return `${run}; health check failing`;
    if (this.config.health && !this.ready) return `${run}; waiting for a passing health check`;
    if (this.config.setup.length > 0 && !this.ready) return `${run}; setup pending`;
    return run;
  }

  private refreshReason(setup?: string): void {
    if (this.state === 'running') this.transition('running', this.runningReason(setup));
  }

  private dependenciesMet(): boolean {
    for (const d of this.dependencies.values()) if (!d.met) return false;
    return true;
  }

  private waitingFor(): string {
    const unmet = this.config.dependsOn.filter((d) => !this.dependencies.get(d.job)!.met);
    return waitingReason(unmet.map((d) => ({ ...d, hasSetup: this.dependencies.get(d.job)!.hasSetup })));
  }

  /** Every state change goes through here, so it is logged and observed in one place. */
  private transition(to: JobState, reason: string): void {
    if (this.state === to && this.reason === reason) return;
    const from = this.state;
    this.state = to;
    this.reason = reason;
    if (from !== to) this.log.debug(`state ${from} -> ${to} (${reason})`);
    this.fx.stateChanged();
  }

  private keepRecord(record: RunRecord): void {
    this.records.push(record);
    if (this.records.length > KEEP_RUNS) this.records.shift();
  }

  private notifySettled(): void {
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
