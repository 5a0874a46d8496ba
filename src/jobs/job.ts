/**
 * One job: an async loop over its own input queue, applying one state-machine step
 * per input. All of a job's state lives here and nothing else mutates it; the rest of
 * pidpilot talks to a job by pushing inputs (bus events, timer ticks, process exits,
 * stop requests) and reads it through `snapshot()`.
 *
 * Semantics follow ContainerPilot's jobs (SPEC §2.1, §3.3): `when` once/each/interval/
 * timeout, `restarts`, health checks publishing `healthy`/`unhealthy`, stop hooks; plus
 * pidpilot's restart backoff, run records and explicit states.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { JobConfig } from '../config/types.js';
import type { Bus } from '../events/bus.js';
import type { BusEvent, EventCode } from '../events/event.js';
import { GLOBAL_SOURCE } from '../events/event.js';
import { AsyncQueue } from '../events/queue.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import { ProcessRun, type RunOptions } from '../process/run.js';
import type { RunRecord } from '../process/types.js';
import { Backoff } from './backoff.js';
import { type DependencyVerdict, type DependencyView, judgeDependency } from './dependencies.js';
import { isStopHook } from './graph.js';
import { type BuiltinCheck, httpCheck, tcpCheck } from './health.js';
import type { HealthStatus, JobSnapshot, JobState } from './state.js';
import { isTerminal } from './state.js';
import { type LongTimer, setLongTimeout } from '../events/long-timer.js';

/** How one health check went. */
export interface CheckEnd {
  outcome: 'succeeded' | 'failed' | 'errored';
  durationMs: number;
}

/** What a job needs from the supervisor. */
export interface JobHost {
  readonly bus: Bus;
  readonly log: Logger;
  /** The complete environment for a child of this job. */
  childEnv(job: JobConfig): Record<string, string>;
  /**
   * Relay one output stream of a child (`source` is the job name or `check.<job>`).
   * Resolves once the stream has ended and its lines reached the log. Never rejects.
   */
  relay(stream: Readable, source: string, name: 'stdout' | 'stderr'): Promise<void>;
  /** The job's main process started (pid) or ended (null). */
  pidChanged(job: Job, pid: number | null): void;
  /** A run ended (for history and metrics). */
  runEnded(job: Job, record: RunRecord): void;
  /** A health check ended, and how long it took (for metrics). Not called for one abandoned by a stop. */
  checkEnded(job: Job, check: CheckEnd): void;
  /** The job's state changed. */
  stateChanged(job: Job): void;
  /** The job became ready or stopped being ready (its dependents may be waiting for it). */
  readyChanged(job: Job): void;
  /** Resolves once the given hook jobs have no run going (or `timeoutMs` passed). */
  waitForHooks(hooks: readonly string[], afterSeq: number, timeoutMs: number): Promise<void>;
  /** Pre-stop hooks of this job (jobs triggered by its `stopping`). */
  preStopHooks(job: string): readonly string[];
}

type Timer = 'interval' | 'restart' | 'whenTimeout' | 'health';

type JobInput =
  | { kind: 'event'; event: BusEvent }
  | { kind: 'exited'; run: ProcessRun; record: RunRecord }
  | { kind: 'timer'; timer: Timer }
  | { kind: 'checkDone' }
  | { kind: 'hooksDone' }
  | { kind: 'stop'; reason: string }
  | { kind: 'dependency'; job: string; view: DependencyView }
  | { kind: 'setupDone'; run: ProcessRun; index: number; record: RunRecord };

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

/** How many run records a job keeps in memory. */
const KEEP_RUNS = 20;

export class Job {
  readonly name: string;
  /** The host's logger with this job's name bound. */
  private readonly log: Logger;
  private readonly inputs = new AsyncQueue<JobInput>();
  private readonly backoff: Backoff;
  private readonly checkSource: string;

  private state: JobState = 'pending';
  private reason: string | undefined;
  private health: HealthStatus = 'unknown';
  private ready = false;
  private maintenance = false;
  private shuttingDown = false;

  /** Starts the trigger may still cause (`once`: 1, `each`: unlimited). */
  private startsRemain: number;
  /** Restarts the policy may still perform (non-interval jobs). */
  private restartsRemain: number;
  /** Runs an interval job may still perform. */
  private intervalRunsRemain: number;
  /** A trigger that arrived while a run was going: start again when it ends. */
  private triggerPending = false;

  private run: ProcessRun | null = null;
  private runStartedAt: number | null = null;
  private runNumber = 0;
  private restarts = 0;
  private readonly records: RunRecord[] = [];
  /** The health check going on (exec or built-in). */
  private check: { stop(): void } | null = null;
  /** Dependencies by name: waiting until met (then they stay met for this job). */
  private readonly dependencies = new Map<string, 'waiting' | 'met'>();
  /** A start (trigger or first interval tick) came before the dependencies were met. */
  private awaitingDependencies = false;
  /** The setup command going on, and whether setup is done for the current activation. */
  private setupRun: ProcessRun | null = null;
  private setupDone = false;
  /** Set when the job is being stopped because it failed (setup): it ends `failed`, not `stopped`. */
  private failAfterStop: string | null = null;
  private warnedUser = false;
  private readonly timers = new Map<Timer, LongTimer>();
  /** Sequence number of the last bus event this job has processed. */
  private processedSeq = 0;
  private stopReason: string | null = null;
  private readonly settledWaiters: Array<{ afterSeq: number; resolve: () => void }> = [];
  private loopDone: Promise<void> | null = null;

  constructor(
    readonly config: JobConfig,
    private readonly host: JobHost,
  ) {
    this.name = config.name;
    this.log = host.log.child({ job: config.name });
    this.checkSource = `check.${config.name}`;
    this.backoff = new Backoff(config.restartBackoff);
    const when = config.when;
    this.startsRemain = when.kind === 'event' && when.mode === 'each' ? Infinity : 1;
    this.restartsRemain = when.kind === 'interval' ? 0 : config.restarts;
    this.intervalRunsRemain = when.kind === 'interval' ? config.restarts + 1 : 0;
    for (const dep of config.dependsOn) this.dependencies.set(dep.job, 'waiting');
    const sources = [GLOBAL_SOURCE, this.checkSource, ...(when.kind === 'event' ? [when.source] : [])];
    host.bus.subscribe(
      `job:${this.name}`,
      (code, source) => this.wants(code, source),
      { push: (event) => this.inputs.push({ kind: 'event', event }) },
      sources,
    );
  }

  /** Start consuming inputs. Resolves when the job has reached a terminal state and its loop ended. */
  start(): Promise<void> {
    this.loopDone ??= this.loop();
    return this.loopDone;
  }

  /** A dependency's state or readiness changed (`view` is its snapshot at that moment). */
  dependencyChanged(job: string, view: DependencyView): void {
    this.inputs.push({ kind: 'dependency', job, view });
  }

  /** Dependencies not met yet (for the supervisor's "can anything still run" check). */
  unmetDependencies(): string[] {
    return [...this.dependencies].filter(([, s]) => s === 'waiting').map(([name]) => name);
  }

  /** Ask the job to stop (shutdown, control). Idempotent; watch `snapshot().state` or `settled()`. */
  requestStop(reason: string): void {
    this.inputs.push({ kind: 'stop', reason });
  }

  snapshot(): JobSnapshot {
    return {
      name: this.name,
      state: this.state,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      pid: this.run?.pid ?? null,
      health: this.health,
      ready: this.ready,
      runs: this.runNumber,
      restarts: this.restarts,
      startedAt: this.runStartedAt,
      lastRun: this.records.at(-1) ?? null,
      dependencies: this.config.dependsOn.map((d) => ({ ...d, met: this.dependencies.get(d.job) === 'met' })),
    };
  }

  get currentState(): JobState {
    return this.state;
  }

  /** True while a run of this job is going or about to start. */
  get busy(): boolean {
    return this.run !== null || this.state === 'starting' || this.triggerPending;
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
        this.step(next.value);
      } catch (err) {
        // A bug in one step must not kill the loop silently and leave the job stuck.
        this.log.error({ err }, `internal error: ${String(err)}`);
      }
      this.notifySettled();
      if (isTerminal(this.state) && this.run === null && this.check === null && this.setupRun === null) {
        this.inputs.close();
      }
    }
  }

  private step(input: JobInput): void {
    switch (input.kind) {
      case 'event':
        this.onEvent(input.event);
        this.processedSeq = input.event.seq;
        return;
      case 'exited':
        return this.onExited(input.run, input.record);
      case 'timer':
        this.timers.delete(input.timer);
        return this.onTimer(input.timer);
      case 'checkDone':
        return; // only lets the loop notice that the last check is gone
      case 'hooksDone':
        return this.onHooksDone();
      case 'stop':
        return this.onStop(input.reason);
      case 'dependency':
        return this.onDependency(input.job, input.view);
      case 'setupDone':
        return this.onSetupDone(input.run, input.index, input.record);
    }
  }

  /** The bus filter: only events this job reacts to reach its queue. */
  private wants(code: EventCode, source: string): boolean {
    if (source === GLOBAL_SOURCE) return true; // startup, shutdown, maintenance
    if (source === this.checkSource) return code === 'exitSuccess' || code === 'exitFailed';
    const when = this.config.when;
    return when.kind === 'event' && source === when.source && code === when.code;
  }

  // ---------------------------------------------------------------------------
  // Inputs

  private onEvent(event: BusEvent): void {
    const { code, source } = event;
    if (source === GLOBAL_SOURCE) {
      if (code === 'startup') return this.onStartup();
      if (code === 'shutdown') return this.onShutdown();
      if (code === 'enterMaintenance') this.setMaintenance(true);
      if (code === 'exitMaintenance') this.setMaintenance(false);
    }
    if (source === this.checkSource) return this.onCheckResult(code === 'exitSuccess');
    const when = this.config.when;
    if (when.kind === 'event' && source === when.source && code === when.code) this.onTrigger();
  }

  private onStartup(): void {
    const when = this.config.when;
    if (when.kind === 'event' && when.timeout !== undefined) this.setTimer('whenTimeout', when.timeout);
    if (when.kind === 'startup') return this.onTrigger();
    if (when.kind === 'interval') return this.onIntervalTick();
  }

  private onShutdown(): void {
    this.shuttingDown = true;
    // ContainerPilot: a stop hook that may fire many times still runs once more during shutdown.
    if (isStopHook(this.config) && this.startsRemain > 1) this.startsRemain = 1;
    this.clearTimer('health');
    this.stopCheck();
  }

  private onTrigger(): void {
    if (isTerminal(this.state) || this.state === 'stopping' || this.stopReason !== null) return;
    if (this.shuttingDown && !isStopHook(this.config)) return;
    if (this.startsRemain <= 0) return;
    this.clearTimer('whenTimeout');
    if (!this.dependenciesMet()) {
      // `when` and `dependsOn` must both hold: start once the dependencies are met.
      this.awaitingDependencies = true;
      return;
    }
    if (this.busy) {
      // Never two runs of one job at once: remember the trigger and start when the run ends.
      this.triggerPending = true;
      return;
    }
    this.startsRemain--;
    this.startRun();
  }

  private onIntervalTick(): void {
    if (isTerminal(this.state) || this.stopReason !== null || this.shuttingDown) return;
    const when = this.config.when;
    if (when.kind !== 'interval') return;
    if (!this.dependenciesMet()) {
      this.awaitingDependencies = true; // the first tick waits for the dependencies
      return;
    }
    if (this.intervalRunsRemain > 0) this.setTimer('interval', when.interval);
    if (this.run !== null) {
      this.log.debug('interval elapsed while the last run is still going: not started twice');
      return;
    }
    if (this.intervalRunsRemain <= 0) return this.finish();
    this.intervalRunsRemain--;
    this.startRun();
  }

  private onTimer(timer: Timer): void {
    switch (timer) {
      case 'interval':
        return this.onIntervalTick();
      case 'restart':
        // During shutdown a job waiting to restart waits for its stop instead (its dependents stop first).
        if (this.state === 'starting' && this.stopReason === null && !this.shuttingDown) {
          this.restarts++;
          this.startRun();
        }
        return;
      case 'whenTimeout':
        if (this.state !== 'pending' || this.runNumber > 0) return;
        this.host.bus.publish('timerExpired', this.name);
        this.log.warn('when.timeout expired before its trigger came: it will not run');
        return this.end('failed', 'when.timeout');
      case 'health':
        return this.onHealthTick();
    }
  }

  private onExited(run: ProcessRun, record: RunRecord): void {
    if (run !== this.run) return;
    this.run = null;
    this.runStartedAt = null;
    this.clearTimer('health');
    this.stopCheck();
    this.stopSetup();
    this.setHealth('unknown');
    this.setReady(false);

    if (this.state === 'stopping') return this.finishStop();
    if (this.stopReason !== null) return this.finishStop(); // a hook finishing during teardown

    if (this.config.when.kind === 'interval') {
      if (this.intervalRunsRemain <= 0) return this.finish(record);
      return this.transition('pending');
    }
    if (this.triggerPending && this.startsRemain > 0 && (!this.shuttingDown || isStopHook(this.config))) {
      this.triggerPending = false;
      this.startsRemain--;
      return this.startRun();
    }
    if (this.restartsRemain > 0 && !this.shuttingDown) {
      this.restartsRemain--;
      const delay = this.backoff.next(record.durationMs);
      this.transition('starting', delay > 0 ? `restart in ${delay}ms` : undefined);
      if (delay > 0) {
        this.log.info(`restarting in ${delay}ms`);
        this.setTimer('restart', delay);
      } else {
        this.restarts++;
        this.startRun();
      }
      return;
    }
    if (this.startsRemain > 0 && !this.shuttingDown) return this.transition('pending');
    this.finish(record);
  }

  private onStop(reason: string): void {
    if (isTerminal(this.state) || this.stopReason !== null) return;
    this.stopReason = reason;
    this.clearTimer('interval');
    this.clearTimer('restart');
    this.clearTimer('whenTimeout');
    this.clearTimer('health');
    this.stopCheck();
    this.stopSetup();
    this.triggerPending = false;
    this.awaitingDependencies = false;

    if (isStopHook(this.config)) {
      // A hook is stopped only after the job it hooks has stopped, so its trigger has
      // already been delivered: let a run that is going finish (bounded by the global stop).
      if (this.run !== null) return;
      return this.finishStop();
    }
    this.transition('stopping', reason);
    const stopping = this.host.bus.publish('stopping', this.name);
    const hooks = this.host.preStopHooks(this.name);
    if (hooks.length === 0) return this.onHooksDone();
    this.host
      .waitForHooks(hooks, stopping.seq, this.config.stopTimeout)
      .then(() => this.inputs.push({ kind: 'hooksDone' }));
  }

  private onHooksDone(): void {
    if (this.state !== 'stopping') return;
    if (this.run === null) return this.finishStop();
    void this.run.stop(this.config.stopTimeout, this.stopReason ?? 'stop');
  }

  private onCheckResult(passed: boolean): void {
    // A check that finished after its run's exit was handled says nothing about the job now.
    if (this.maintenance || !this.active()) return;
    // ContainerPilot publishes on every check, not only on changes; `once: healthy` relies on it.
    this.setHealth(passed ? 'healthy' : 'unhealthy');
    this.host.bus.publish(passed ? 'healthy' : 'unhealthy', this.name);
    if (passed) this.becameLive();
  }

  private onHealthTick(): void {
    const health = this.config.health;
    if (!health || !this.active() || this.maintenance || this.shuttingDown) return;
    this.setTimer('health', health.interval);
    if (this.check !== null) return; // the previous check is still going
    if (!health.exec) return this.startBuiltinCheck(health.http ? httpCheck(health.http, health.timeout) : tcpCheck(health.tcp!, health.timeout));
    const check = ProcessRun.start({
      ...this.processOptions(health.exec),
      timeout: health.timeout,
      stopSignal: 'SIGTERM',
      stdout: health.logging.raw ? 'inherit' : 'pipe',
      stderr: health.logging.raw ? 'inherit' : 'pipe',
    });
    const handle = { stop: () => void check.stop(0, 'stop') };
    this.check = handle;
    this.relayOutput(check, this.checkSource);
    void check.result.then((record) => {
      if (this.check === handle) this.check = null;
      if (record.outcome === 'errored') {
        this.log.warn(`health check could not run: ${record.reason ?? 'unknown'}`);
      }
      if (record.outcome !== 'aborted') {
        this.host.checkEnded(this, { outcome: record.outcome, durationMs: record.durationMs });
        this.host.bus.publish(exitCode(record), this.checkSource);
      }
      this.inputs.push({ kind: 'checkDone' });
    });
  }

  /** `health.http` / `health.tcp`: published exactly like an exec check's exit. */
  private startBuiltinCheck(check: BuiltinCheck): void {
    this.check = check;
    const startedAt = performance.now();
    void check.result.then((result) => {
      if (this.check === check) this.check = null;
      if (result.outcome !== 'succeeded' && result.outcome !== 'aborted') {
        this.log.debug(`health check failed: ${result.reason ?? result.outcome}`);
      }
      if (result.outcome !== 'aborted') {
        this.host.checkEnded(this, { outcome: result.outcome, durationMs: performance.now() - startedAt });
        this.host.bus.publish(result.outcome === 'succeeded' ? 'exitSuccess' : 'exitFailed', this.checkSource);
      }
      this.inputs.push({ kind: 'checkDone' });
    });
  }

  // ---------------------------------------------------------------------------
  // Dependencies and setup (SPEC §2.2)

  private dependenciesMet(): boolean {
    for (const s of this.dependencies.values()) if (s !== 'met') return false;
    return true;
  }

  private onDependency(name: string, view: DependencyView): void {
    if (this.dependencies.get(name) !== 'waiting' || isTerminal(this.state)) return;
    const condition = this.config.dependsOn.find((d) => d.job === name)!.condition;
    const verdict: DependencyVerdict = judgeDependency(condition, view);
    if (verdict === 'waiting') return;
    if (verdict === 'met') {
      this.dependencies.set(name, 'met');
      if (!this.dependenciesMet() || !this.awaitingDependencies) return;
      this.awaitingDependencies = false;
      return this.config.when.kind === 'interval' ? this.onIntervalTick() : this.onTrigger();
    }
    // A job that has never started never will: it fails, and so do its own dependents (AWS Batch).
    if (this.runNumber > 0 || this.state !== 'pending' || this.stopReason !== null) return;
    const reason = verdict === 'failed' ? `dependency "${name}" failed` : `dependency "${name}" ${view.state} before it was ${condition}`;
    this.log.warn(`will not start: ${reason}`);
    this.end('failed', reason);
  }

  /** Healthy, or started without a health check: run the setup commands, then the job is ready. */
  private becameLive(): void {
    if (this.ready || this.setupRun !== null || !this.active()) return;
    if (this.setupDone || this.config.setup.length === 0) return this.markReady();
    if (this.shuttingDown) return;
    this.runSetup(0);
  }

  private runSetup(index: number): void {
    const argv = this.config.setup[index]!;
    this.log.info(`setup ${index + 1}/${this.config.setup.length}: ${argv.join(' ')}`);
    const run = ProcessRun.start({
      ...this.processOptions(argv),
      timeout: this.config.setupTimeout,
      stopSignal: this.config.stopSignal,
      stdout: this.config.logging.raw ? 'inherit' : 'pipe',
      stderr: this.config.logging.raw ? 'inherit' : 'pipe',
    });
    this.setupRun = run;
    const output = this.relayOutput(run, this.name);
    void run.result.then(async (result) => {
      await output;
      this.inputs.push({ kind: 'setupDone', run, index, record: { run: index + 1, ...result } });
    });
  }

  private onSetupDone(run: ProcessRun, index: number, record: RunRecord): void {
    if (run !== this.setupRun) return; // abandoned: the job's process ended or it is being stopped
    this.setupRun = null;
    if (!this.active()) return;
    if (record.outcome !== 'succeeded') {
      const argv = this.config.setup[index]!;
      const why = record.reason ?? (record.signal ? `killed by ${record.signal}` : `exit code ${record.code}`);
      const reason = `setup command ${index + 1} (${argv.join(' ')}) ${record.outcome}: ${why}`;
      this.log.error(reason);
      return this.failAndStop(reason);
    }
    if (index + 1 < this.config.setup.length) return this.runSetup(index + 1);
    this.setupDone = true;
    this.markReady();
  }

  /** A terminal failure of a live job: stop it like a stop request, then end `failed`. */
  private failAndStop(reason: string): void {
    this.failAfterStop = reason;
    this.onStop(reason);
    // A stop hook's run is otherwise left to finish by onStop: this one has failed.
    if (isStopHook(this.config) && this.run !== null) void this.run.stop(this.config.stopTimeout, reason);
  }

  private stopSetup(): void {
    if (this.setupRun !== null) {
      void this.setupRun.stop(0, 'stop');
      this.setupRun = null;
    }
  }

  /** What every process of this job shares: environment, working directory, user. */
  private processOptions(argv: readonly string[]): Pick<RunOptions, 'argv' | 'env'> & Partial<Pick<RunOptions, 'cwd' | 'user'>> {
    const opts: Pick<RunOptions, 'argv' | 'env'> & Partial<Pick<RunOptions, 'cwd' | 'user'>> = { argv, env: this.host.childEnv(this.config) };
    if (this.config.workdir !== undefined) opts.cwd = this.config.workdir;
    if (this.config.user !== undefined) {
      // SPEC §2.2: `user` applies when pidpilot is root; otherwise it could only fail with EPERM.
      if (process.getuid?.() === 0) opts.user = this.config.user;
      else if (!this.warnedUser) {
        this.warnedUser = true;
        this.log.warn('`user` is ignored: pidpilot is not running as root');
      }
    }
    return opts;
  }

  // ---------------------------------------------------------------------------
  // Actions

  private startRun(): void {
    this.triggerPending = false;
    this.setupDone = false;
    this.transition('starting');
    if (!this.config.exec) {
      // A job with nothing to run is simply active: it may still health-check and register.
      this.transition('running');
      this.startHealthChecks();
      if (!this.config.health) this.becameLive();
      return;
    }
    const runNumber = ++this.runNumber;
    const run = ProcessRun.start({
      ...this.processOptions(this.config.exec),
      timeout: this.config.timeout,
      stopSignal: this.config.stopSignal,
      stdout: this.config.logging.raw ? 'inherit' : 'pipe',
      stderr: this.config.logging.raw ? 'inherit' : 'pipe',
    });
    this.run = run;
    this.runStartedAt = Date.now();
    const output = this.relayOutput(run, this.name);
    void run.result.then(async (result) => {
      await output;
      const record: RunRecord = { run: runNumber, ...result };
      this.keepRecord(record);
      this.logExit(record);
      this.host.pidChanged(this, null);
      this.host.runEnded(this, record);
      // Published once the run's last output line is logged, so logs read cause before effect.
      this.host.bus.publish(exitCode(record), this.name);
      this.inputs.push({ kind: 'exited', run, record });
    });
    if (run.pid === null) return; // spawn failed: the 'exited' input follows
    this.host.pidChanged(this, run.pid);
    this.transition('running');
    this.startHealthChecks();
    if (!this.config.health) this.becameLive();
  }

  /** The job ran out of starts: it ends completed, or failed if its last run did not succeed. */
  private finish(last?: RunRecord): void {
    const record = last ?? this.records.at(-1);
    if (record && record.outcome !== 'succeeded') {
      const why = record.reason ?? (record.signal ? `killed by ${record.signal}` : `exit code ${record.code}`);
      return this.end('failed', `last run ${record.outcome}: ${why}`);
    }
    this.end('completed');
  }

  private finishStop(): void {
    if (this.failAfterStop !== null) return this.end('failed', this.failAfterStop);
    this.end('stopped', this.stopReason ?? 'stop');
  }

  /**
   * Terminal: no more starts. Publishes `stopping`/`stopped` like ContainerPilot does
   * when a job's loop ends (post-stop hooks rely on it), and `failed` on failure.
   */
  private end(state: 'completed' | 'failed' | 'stopped', reason?: string): void {
    if (isTerminal(this.state)) return;
    for (const timer of [...this.timers.keys()]) this.clearTimer(timer);
    this.stopCheck();
    this.stopSetup();
    this.setReady(false);
    const alreadyStopping = this.state === 'stopping';
    this.transition(state, reason);
    if (state === 'failed') this.host.bus.publish('failed', this.name);
    if (!alreadyStopping) this.host.bus.publish('stopping', this.name);
    this.host.bus.publish('stopped', this.name);
  }

  private startHealthChecks(): void {
    if (this.config.health && !this.shuttingDown) this.setTimer('health', this.config.health.interval);
  }

  private stopCheck(): void {
    if (this.check !== null) {
      this.check.stop();
      this.check = null;
    }
  }

  private markReady(): void {
    if (this.ready || !this.active()) return;
    this.setReady(true);
    this.host.bus.publish('ready', this.name);
  }

  private setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.host.readyChanged(this);
  }

  private setMaintenance(on: boolean): void {
    if (this.maintenance === on) return;
    this.maintenance = on;
    if (!this.active()) return;
    if (on) {
      this.clearTimer('health');
      this.stopCheck();
      this.transition('maintenance');
    } else {
      this.setHealth('unknown');
      this.transition('running');
      this.startHealthChecks();
    }
  }

  private setHealth(health: HealthStatus): void {
    this.health = health;
    if (this.active() && !this.maintenance) {
      this.transition(health === 'healthy' ? 'healthy' : health === 'unhealthy' ? 'unhealthy' : 'running');
    }
  }

  /** Running (process alive, or an exec-less job that was started) and not on its way out. */
  private active(): boolean {
    return ['running', 'healthy', 'unhealthy', 'maintenance'].includes(this.state);
  }

  /** Every state change goes through here, so it is logged and observed in one place. */
  private transition(to: JobState, reason?: string): void {
    if (this.state === to && this.reason === reason) return;
    const from = this.state;
    this.state = to;
    this.reason = reason;
    this.log.debug(`state ${from} -> ${to}${reason ? ` (${reason})` : ''}`);
    this.host.stateChanged(this);
  }

  /**
   * Relays the run's output; resolves when its streams have ended. After the run has
   * exited, a stream that stays silent for OUTPUT_QUIET_MS — nothing read and nothing
   * waiting for the log — is held open by something outside the process group (a daemon
   * that escaped with setsid): the exit is then reported without it. A stream that is
   * merely waiting for a slow log output is waited for, so no line is lost.
   */
  private relayOutput(run: ProcessRun, source: string): Promise<unknown> {
    const child = run.child;
    if (!child) return Promise.resolve();
    const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
    if (streams.length === 0) return Promise.resolve();
    const ended = Promise.all(
      streams.map((stream) => this.host.relay(stream, source, stream === child.stdout ? 'stdout' : 'stderr')),
    );
    return Promise.race([ended, run.result.then(() => untilQuiet(streams))]);
  }

  private keepRecord(record: RunRecord): void {
    this.records.push(record);
    if (this.records.length > KEEP_RUNS) this.records.shift();
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

  private setTimer(timer: Timer, ms: number): void {
    this.clearTimer(timer);
    this.timers.set(
      timer,
      setLongTimeout(() => this.inputs.push({ kind: 'timer', timer }), ms),
    );
  }

  private clearTimer(timer: Timer): void {
    const handle = this.timers.get(timer);
    if (handle !== undefined) {
      handle.clear();
      this.timers.delete(timer);
    }
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
