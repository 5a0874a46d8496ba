/**
 * The health and liveness inputs and actions of a job's state table, between the actions of
 * job-actions.ts and the other inputs of job.ts: health ticks and check results
 * (thresholds, start period, onUnhealthy), the cleanup state after each end of the
 * process, sd_notify readiness and status, the watchdog, and the liveness restart
 * (stop the process with its stop signal, then start it again through the backoff).
 * Like every handler, each decides by `switch` on the current state.
 */
import type { NotifyMessage } from '../process/notify.js';
import type { RunRecord } from '../process/types.js';
import { describeExit } from './after-exit.js';
import type { RunHandle } from './effects.js';
import { JobActions } from './job-actions.js';

export abstract class JobLiveness extends JobActions {
  /** The cleanup going on (its number), and what the run's end leads to once it is done. */
  private cleanups = 0;
  private afterCleanup: { cleanup: number; record: RunRecord; then: 'decide' | 'finishStop' } | null = null;

  /** The process has ended: the cleanup commands run first, then what the end leads to. */
  protected afterRunEnd(record: RunRecord, then: 'decide' | 'finishStop'): void {
    if (this.config.cleanup.length === 0) return then === 'decide' ? this.decideAfterExit(record) : this.finishStop();
    const cleanup = ++this.cleanups;
    this.afterCleanup = { cleanup, record, then };
    this.transition('cleanup', `run ${record.run} ended (${describeExit(record)}): cleanup running`);
    this.fx.runCleanup(cleanup, record);
  }

  protected onHealthTick(): void {
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

  protected onCheckResult(passed: boolean): void {
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

  protected onCleanupDone(cleanup: number): void {
    const after = this.afterCleanup;
    switch (this.state) {
      case 'cleanup':
        if (after === null || after.cleanup !== cleanup) return this.ignored('end of an earlier cleanup');
        this.afterCleanup = null;
        // A stop that came during the cleanup wins over a restart.
        if (after.then === 'finishStop' || (this.ending !== null && this.ending.state !== 'restart'))
          return this.finishStop();
        return this.decideAfterExit(after.record);
      default:
        return this.ignored('cleanup done');
    }
  }

  /** An sd_notify message: READY=1 ends `starting`; STATUS= is shown in the reason; WATCHDOG=1 feeds the watchdog. */
  protected onNotify(run: RunHandle, msg: NotifyMessage): void {
    if (run !== this.run) return this.ignored('sd_notify message of an earlier run');
    if (msg.status !== undefined) this.liveness.status = msg.status || undefined;
    if (msg.watchdogMs !== undefined) this.liveness.watchdogMs = msg.watchdogMs > 0 ? msg.watchdogMs : undefined;
    if (msg.stopping) this.log.info('the process says it is stopping (STOPPING=1)');
    switch (this.state) {
      case 'starting':
        if (!msg.ready) return this.transition('starting', this.notifyWaitReason());
        this.fx.clearTimer('ready');
        this.log.info(`ready (READY=1)${this.liveness.status ? `: ${this.liveness.status}` : ''}`);
        this.armWatchdog();
        return this.becameRunning();
      case 'running':
      case 'maintenance':
        if (msg.watchdog === 'trigger')
          return this.livenessRestart('watchdog triggered by the process (WATCHDOG=trigger)');
        if (msg.watchdog === 'ping' || msg.watchdogMs !== undefined) this.armWatchdog();
        return this.refreshReason();
      default:
        return this.ignored('sd_notify message');
    }
  }

  protected onWatchdogTimeout(): void {
    switch (this.state) {
      case 'running':
      case 'maintenance':
        return this.livenessRestart(this.liveness.watchdogReason());
      default:
        return this.ignored('watchdog timeout');
    }
  }

  /**
   * `notifyTimeout` ran out before READY=1 (systemd's TimeoutStartSec): the process is stopped
   * with its stop signal and stopTimeout, and its run then counts as a failed start.
   */
  protected onReadyTimeout(): void {
    const run = this.run;
    const limit = this.config.notifyTimeout;
    switch (this.state) {
      case 'starting': {
        // (A timeout that fired for an earlier run is dropped as stale before it gets here: job-timers.ts.)
        if (run === null || limit === undefined) return this.ignored('READY=1 timeout without a run');
        const reason = this.liveness.readyTimeoutReason();
        this.log.error(`${reason}: stopping it`);
        this.ending = { state: 'startFailed', reason };
        this.transition('stopping', `${reason}; ${this.config.stopSignal} sent`);
        return this.fx.stopRun(run, this.config.stopTimeout, reason);
      }
      default:
        return this.ignored('READY=1 timeout');
    }
  }

  /**
   * A live process judged dead (health check past its threshold, watchdog): stop it with its
   * stop signal and stopTimeout, then start it again through the backoff, as a restart —
   * unless the restart budget is spent, which fails the job.
   */
  protected livenessRestart(reason: string): void {
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

  protected notifyWaitReason(): string {
    const status = this.liveness.status;
    return `run ${this.runNumber}: waiting for READY=1${status ? `; ${status}` : ''}`;
  }
}
