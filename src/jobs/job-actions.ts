/**
 * The actions a job's state table takes (job.ts and job-liveness.ts have the inputs,
 * job-data.ts the data): what an exit leads to, starting a run and its setup commands,
 * readiness and health, restarts after a delay, ending. Effects are asked for through
 * `JobEffects` only, and every state change goes through `transition()`.
 */
import { isScheduled } from '../config/types.js';
import type { RunRecord } from '../process/types.js';
import { afterExit, describeExit } from './after-exit.js';
import { isStopHook } from './graph.js';
import { JobData } from './job-data.js';
import { backoffReason, pendingReason, runReason } from './reasons.js';
import type { HealthStatus } from './state.js';
import { isLive, isTerminal } from './state.js';

export abstract class JobActions extends JobData {
  protected decideAfterExit(record: RunRecord): void {
    const policy = {
      interval: isScheduled(this.config.when),
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
        // A scheduled job's queued tick (job-schedule.ts) spends a run, a trigger a start.
        if (policy.interval) this.intervalRunsRemain--;
        else this.startsRemain--;
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
        return this.transition('pending', pendingReason(this.config, true, this.nextTick));
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
      const restarts = this.restarts;
      const run = this.fx.spawnMain(++this.runNumber, triggeredBy ? { restarts, triggeredBy } : { restarts });
      this.run = run;
      this.runStartedAt = Date.now();
      if (run.pid === null) return; // spawn failed: the 'exited' input follows
      // sd_notify: started only when the process says READY=1 (job-liveness.ts), within notifyTimeout.
      if (this.config.notify) {
        if (this.config.notifyTimeout !== undefined) this.fx.setTimer('ready', this.config.notifyTimeout);
        return this.transition('starting', this.notifyWaitReason());
      }
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
    if (ending.state === 'replace') return this.startReplacement();
    if (ending.state === 'startFailed') {
      // No READY=1 in time: the run stopped for it is a failed one, and goes where a failure goes.
      this.ending = null;
      const last = this.records.at(-1)!;
      return this.decideAfterExit({ ...last, outcome: 'failed', reason: ending.reason });
    }
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
    for (const timer of ['interval', 'cron', 'restart', 'whenTimeout', 'health', 'watchdog', 'ready'] as const)
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

  /** A stop request (job.ts); a failure of a live job stops it the same way. */
  protected abstract onStop(reason: string): void;
  /** The reason while a notify job waits for READY=1 (job-liveness.ts). */
  protected abstract notifyWaitReason(): string;
  /** A run a schedule's tick stopped has ended: start the new one (job-schedule.ts). */
  protected abstract startReplacement(): void;
}
