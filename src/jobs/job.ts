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
 * The class is layered by concern: job-data.ts (the data, what others read, `transition`)
 * ← job-actions.ts (the actions) ← job-liveness.ts (health, cleanup, sd_notify, watchdog
 * inputs) ← job-stop.ts (the shutdown, stop and hooks-done inputs) ← this file (the loop,
 * the dispatch, and the start, trigger, timer, exit, setup, dependency and maintenance inputs).
 *
 * Semantics follow ContainerPilot's jobs (docs/configuration.md, docs/events.md): `when` once/each/interval/
 * timeout, `restarts`, health checks publishing `healthy`/`unhealthy`, stop hooks; plus
 * pidpilot's restart backoff, run records, dependencies and setup.
 */

import { isScheduled } from '../config/types.js';
import type { BusEvent } from '../events/event.js';
import { GLOBAL_SOURCE } from '../events/event.js';
import type { RunRecord } from '../process/types.js';
import { describeExit } from './after-exit.js';
import { type DependencyView, judgeDependency } from './dependencies.js';
import type { JobInput, RunHandle, Timer } from './effects.js';
import { isStopHook } from './graph.js';
import { JobSchedule } from './job-schedule.js';
import { pendingReason } from './reasons.js';
import { isTerminal } from './state.js';

export type { JobCarry } from './job-data.js';

export class Job extends JobSchedule {
  private loopDone: Promise<void> | null = null;

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
      if (isTerminal(this.state) && this.run === null && this.check === 0 && this.setupRun === null)
        this.inputs.close();
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
        if (input.stale?.()) return this.ignored(`${input.timer} timer armed again or cleared before it was handled`);
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
      if (code === 'enterMaintenance' || code === 'exitMaintenance')
        return this.onMaintenance(code === 'enterMaintenance');
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
        return this.onScheduleTick('interval tick');
      case 'cron':
        return this.onScheduleTick('cron tick');
      case 'restart':
        return this.onRestartDue();
      case 'whenTimeout':
        return this.onWhenTimeout();
      case 'health':
        return this.onHealthTick();
      case 'watchdog':
        return this.onWatchdogTimeout();
      case 'ready':
        return this.onReadyTimeout();
    }
  }

  // ---------------------------------------------------------------------------
  // Inputs: one handler each, deciding by state.

  private onStartup(): void {
    switch (this.state) {
      case 'pending': {
        const when = this.config.when;
        if (when.kind === 'event' && when.timeout !== undefined) this.fx.setTimer('whenTimeout', when.timeout);
        if (when.kind === 'startup') return this.onTrigger();
        if (isScheduled(when)) return this.startSchedule();
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

  private onExited(run: RunHandle, record: RunRecord): void {
    if (run !== this.run) return this.ignored('exit of an earlier run');
    this.run = null;
    this.runStartedAt = null;
    this.keepRecord(record);
    this.fx.clearTimer('health');
    this.fx.clearTimer('watchdog');
    this.fx.clearTimer('ready');
    this.stopCheck();
    this.stopSetup();
    this.health = 'unknown';
    this.setReady(false);
    // The cleanup commands run after every end of the process, before what the end leads to.
    switch (this.state) {
      case 'draining':
      case 'stopping':
        return this.afterRunEnd(record, 'finishStop');
      case 'starting':
      case 'running':
      case 'maintenance':
        return this.afterRunEnd(record, 'decide');
      default:
        return this.ignored('exit');
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
          return this.failAndStop(
            `setup command ${index + 1} (${argv.join(' ')}) ${record.outcome}: ${describeExit(record)}`,
          );
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
    if (verdict === 'waiting')
      return this.state === 'waiting' ? this.transition('waiting', this.waitingFor()) : undefined;
    if (verdict === 'met') {
      dep.met = true;
      if (this.state !== 'waiting') return;
      if (!this.dependenciesMet()) return this.transition('waiting', this.waitingFor());
      // The start that was due goes ahead.
      this.transition('pending', pendingReason(this.config, this.runNumber > 0));
      return isScheduled(this.config.when) ? this.onScheduleTick('due tick') : this.onTrigger();
    }
    // A job that has never started never will: it fails, and so do its own dependents (AWS Batch).
    if (this.runNumber > 0) return;
    this.end(
      'failed',
      verdict === 'failed'
        ? `dependency "${name}" failed`
        : `dependency "${name}" ${view.state} before it was ${condition}`,
    );
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
}
