/**
 * The schedule inputs of a job's state table (job.ts has the others): `intervalTick`
 * (`when.interval`) and `cronTick` (`when.cron`). A tick in `pending` starts a run and arms
 * the next tick; a tick that comes while a run is going does what `when.overlap` says:
 * `skip` drops it, `queue` starts one run as soon as the current one has ended (at most
 * one queued: a second tick is dropped), `replace` stops the current run with the job's
 * stop signal and `stopTimeout`, then starts a new one. Dropped, queued and replaced ticks
 * are logged and counted (`ticks` in the job's snapshot, `pidpilot_job_ticks_total`).
 *
 * A cron job's next tick is computed by the effects (`armCronTick`, from the wall clock and
 * the job's time zone); an interval job's is `when.interval` after this one. Both wait on
 * the job's long timers (job-timers.ts).
 */
import { isScheduled } from '../config/types.js';
import { JobStopInputs } from './job-stop.js';
import { pendingReason, replaceReason, tickReason } from './reasons.js';

export abstract class JobSchedule extends JobStopInputs {
  /** `startup` of a scheduled job: an interval job runs at once (ContainerPilot); a cron job waits for its first tick. */
  protected startSchedule(): void {
    const when = this.config.when;
    if (when.kind === 'interval') return this.onScheduleTick('interval tick');
    if (when.kind !== 'cron') return;
    if (!this.armNextTick()) return this.end('completed', `the schedule "${when.cron}" has no tick left`);
    this.transition('pending', pendingReason(this.config, this.runNumber > 0, this.nextTick));
  }

  /** A tick of the job's schedule: start a run, or — while one is going — what `when.overlap` says. */
  protected onScheduleTick(input: 'interval tick' | 'cron tick' | 'due tick'): void {
    if (!isScheduled(this.config.when) || this.shuttingDown) return this.ignored(input);
    switch (this.state) {
      case 'pending':
        // The first tick waits for the dependencies; once they are met, the run it was due starts.
        if (!this.dependenciesMet()) return this.transition('waiting', this.waitingFor());
        if (this.intervalRunsRemain <= 0) return this.finish(this.records.at(-1));
        // The schedule's last tick (a cron expression past its last year): this run is the last.
        if (!this.armNextTick()) this.intervalRunsRemain = 1;
        this.intervalRunsRemain--;
        return this.startRun();
      case 'starting':
      case 'running':
      case 'maintenance':
      case 'cleanup': {
        if (this.intervalRunsRemain <= 0) return this.ignored(`${input} (no runs left)`);
        const last = !this.armNextTick();
        this.overlap();
        // No tick after this one: the job ends after the runs this tick leaves to do.
        if (last) this.intervalRunsRemain = this.startQueued || this.ending?.state === 'replace' ? 1 : 0;
        return;
      }
      case 'backoff':
      case 'stopping':
        // Being stopped for good: no more ticks. Otherwise a new run, or what the end of this one
        // leads to, comes anyway (a liveness restart, a start that timed out, a tick replacing the run).
        if (this.ending?.state === 'stopped' || this.ending?.state === 'failed') return this.ignored(input);
        if (this.intervalRunsRemain > 0) this.armNextTick();
        return this.log.debug(`${input}: a new run is about to start`);
      default:
        return this.ignored(input);
    }
  }

  /** A tick while run `runNumber` is going or being cleaned up after. */
  private overlap(): void {
    const when = this.config.when;
    if (!isScheduled(when)) return;
    const ticks = this.ticks!;
    const run = this.runNumber;
    const policy =
      when.overlap === 'replace' && (this.run === null || this.state === 'cleanup') ? 'queue' : when.overlap;
    switch (policy) {
      case 'skip':
        ticks.skipped++;
        return this.tickNote(tickReason('skipped', run));
      case 'queue':
        if (this.startQueued) {
          ticks.skipped++;
          return this.tickNote(tickReason('already queued', run));
        }
        ticks.queued++;
        this.startQueued = true;
        return this.tickNote(tickReason('queued', run));
      case 'replace': {
        ticks.replaced++;
        const reason = replaceReason(run, this.config.stopSignal);
        this.log.info(reason);
        this.ending = { state: 'replace', reason };
        for (const timer of ['health', 'watchdog'] as const) this.fx.clearTimer(timer);
        this.stopCheck();
        this.stopSetup();
        this.transition('stopping', reason);
        return this.fx.stopRun(this.run!, this.config.stopTimeout, `replaced by a tick of the schedule`);
      }
    }
  }

  /** A tick that did not start a run: logged, and shown in the reason of a running job. */
  private tickNote(note: string): void {
    this.log.info(note);
    if (this.state === 'running') this.transition('running', `${this.runningReason()}; ${note}`);
  }

  /** Arms the next tick; false when the schedule has none left. */
  private armNextTick(): boolean {
    const when = this.config.when;
    if (when.kind === 'interval') {
      this.fx.setTimer('interval', when.interval);
      return true;
    }
    this.nextTick = this.fx.armCronTick();
    return this.nextTick !== null;
  }

  /** The run a tick replaced has ended (and been cleaned up after): the new run starts now. */
  protected startReplacement(): void {
    this.ending = null;
    if (this.shuttingDown) return this.end('stopped', 'shutdown');
    if (this.intervalRunsRemain <= 0) return this.finish(this.records.at(-1));
    this.intervalRunsRemain--;
    this.startRun();
  }
}
