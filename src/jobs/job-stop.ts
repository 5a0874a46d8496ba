/**
 * The stop path of a job's state table (job.ts has the other inputs): `shutdown` (no more
 * starts, checks stop), `stop` (the pre-stop hooks are told through `stopping`, then the
 * stop signal; a stop hook's run is let finish) and `hooksDone`. Ordering between jobs is
 * the supervisor's (teardown.ts); each job's own stop never awaits: what it started comes
 * back as an input.
 */
import { isStopHook } from './graph.js';
import { JobLiveness } from './job-liveness.js';
import { isTerminal } from './state.js';

export abstract class JobStopInputs extends JobLiveness {
  protected onShutdown(): void {
    if (isTerminal(this.state)) return this.ignored('shutdown');
    this.shuttingDown = true;
    // ContainerPilot: a stop hook that may fire many times still runs once more during shutdown.
    if (isStopHook(this.config) && this.startsRemain > 1) this.startsRemain = 1;
    this.fx.clearTimer('health');
    this.stopCheck();
  }

  protected onStop(reason: string): void {
    switch (this.state) {
      case 'stopping':
      case 'cleanup':
        // A process being replaced (liveness restart, a start that timed out, a schedule's tick) or cleaned up after: it stops there.
        if (
          this.ending === null ||
          this.ending.state === 'restart' ||
          this.ending.state === 'startFailed' ||
          this.ending.state === 'replace'
        ) {
          this.ending = { state: 'stopped', reason };
          this.startQueued = false;
          for (const timer of ['interval', 'cron', 'restart', 'whenTimeout'] as const) this.fx.clearTimer(timer);
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
    for (const timer of ['interval', 'cron', 'restart', 'whenTimeout', 'health', 'watchdog', 'ready'] as const)
      this.fx.clearTimer(timer);
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

  protected onHooksDone(): void {
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
}
