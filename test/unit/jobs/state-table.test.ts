/**
 * The job's state table, driven without processes or real time: each row puts a job in a
 * state through inputs, applies one more input, and checks the next state, its reason and
 * the effects the job asked for (spawns, timers, publishes, stops), in order.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobConfig } from '../../../src/config/types.js';
import type { EventCode } from '../../../src/events/event.js';
import type { DependencyView } from '../../../src/jobs/dependencies.js';
import type { JobEffects, JobInput, RunHandle, Timer } from '../../../src/jobs/effects.js';
import { Job } from '../../../src/jobs/job.js';
import type { JobState } from '../../../src/jobs/state.js';
import { createLogger } from '../../../src/log/logger.js';
import type { NotifyMessage } from '../../../src/process/notify.js';
import type { RunRecord } from '../../../src/process/types.js';
import { HEALTH_DEFAULTS, job, MemorySink } from '../../support/jobs.js';

/** Records every effect asked for, as a short line. */
class Recorder implements JobEffects {
  readonly log = createLogger({ level: 'debug', format: 'default', output: 'stdout' }, new MemorySink()).logger;
  readonly calls: string[] = [];
  readonly runs: RunHandle[] = [];
  readonly setups: RunHandle[] = [];
  hooks = false;
  seq = 0;
  spawnMain(run: number): RunHandle {
    this.calls.push(`spawn ${run}`);
    const handle = { pid: 1000 + run };
    this.runs.push(handle);
    return handle;
  }
  runCleanup(cleanup: number, record: RunRecord): void {
    this.calls.push(`cleanup ${cleanup} after run ${record.run}`);
  }
  spawnSetup(index: number): RunHandle {
    this.calls.push(`setup ${index}`);
    const handle = { pid: 2000 + index };
    this.setups.push(handle);
    return handle;
  }
  stopRun(run: RunHandle, graceMs: number): void {
    this.calls.push(`stop ${run.pid} ${graceMs}`);
  }
  startCheck(check: number): void {
    this.calls.push(`check ${check}`);
  }
  lastCheckDetail(): string {
    return 'exit code 1';
  }
  stopCheck(): void {
    this.calls.push('stopCheck');
  }
  setTimer(timer: Timer, ms: number): void {
    this.calls.push(`timer ${timer} ${ms}`);
  }
  clearTimer(): void {}
  /** The next cron tick: a fixed time, one minute after the last. */
  nextTick = Date.UTC(2026, 11, 2, 15, 0, 0);
  armCronTick(): number | null {
    this.calls.push('arm cron');
    const at = this.nextTick;
    this.nextTick += 60_000;
    return at;
  }
  publish(code: EventCode): number {
    this.calls.push(`publish ${code}`);
    return ++this.seq;
  }
  waitForPreStopHooks(): boolean {
    if (this.hooks) this.calls.push('waitHooks');
    return this.hooks;
  }
  stateChanged(): void {}
  readyChanged(): void {}
  close(): void {}
}

const sh = (s: string): string[] => ['sh', '-c', s];
const ev = (code: EventCode, source = 'global'): JobInput => ({
  kind: 'event',
  event: { seq: 0, time: 0, code, source },
});
const startup = ev('startup');
const exit = (fx: Recorder, code: number, durationMs = 10): JobInput => {
  const run = fx.runs.at(-1)!;
  const record: RunRecord = {
    run: fx.runs.length,
    pid: run.pid,
    startedAt: 0,
    endedAt: durationMs,
    durationMs,
    code,
    signal: null,
    outcome: code === 0 ? 'succeeded' : 'failed',
  };
  return { kind: 'exited', run, record };
};
const setupEnd = (fx: Recorder, code: number): JobInput => {
  const run = fx.setups.at(-1)!;
  const record: RunRecord = {
    run: 1,
    pid: run.pid,
    startedAt: 0,
    endedAt: 1,
    durationMs: 1,
    code,
    signal: null,
    outcome: code === 0 ? 'succeeded' : 'failed',
  };
  return { kind: 'setupDone', run, index: fx.setups.length - 1, record };
};
const notify = (fx: Recorder, msg: Omit<NotifyMessage, 'other'>): JobInput => ({
  kind: 'notify',
  run: fx.runs.at(-1)!,
  msg: { other: [], ...msg },
});
/** `notifyTimeout` has passed since the run started (the clock is moved on), and its timer fires. */
const readyTimeout = (ms: number): JobInput => {
  const now = Date.now() + ms;
  vi.spyOn(Date, 'now').mockReturnValue(now);
  return { kind: 'timer', timer: 'ready' };
};
const depView = (fields: Partial<DependencyView>): DependencyView => ({
  state: 'pending',
  ready: false,
  hasSetup: false,
  lastRunSucceeded: false,
  ...fields,
});
const server = (fields: Partial<JobConfig> = {}): JobConfig => job('svc', { exec: sh('sleep 1000'), ...fields });
const onEvent = (source: string, mode: 'once' | 'each' = 'once', code: EventCode = 'healthy'): Partial<JobConfig> => ({
  when: { kind: 'event', source, code, mode },
});
const cron = (overlap: 'skip' | 'queue' | 'replace'): JobConfig['when'] => ({
  kind: 'cron',
  cron: '0 * * * *',
  timezone: 'UTC',
  overlap,
});
const cronTick: JobInput = { kind: 'timer', timer: 'cron' };
const health = { exec: sh('true'), interval: 50, ttl: 100, timeout: 100, logging: { raw: false }, ...HEALTH_DEFAULTS };

interface Row {
  name: string;
  config: JobConfig;
  hooks?: boolean;
  /** Inputs that bring the job to the state under test. */
  given: Array<JobInput | ((fx: Recorder) => JobInput)>;
  from: JobState;
  input: (fx: Recorder) => JobInput;
  to: JobState;
  reason?: string | RegExp;
  /** The effects of `input` alone, in order. */
  effects: string[];
}

const rows: Row[] = [
  {
    name: 'startup starts a startup job',
    config: server(),
    given: [],
    from: 'pending',
    input: () => startup,
    to: 'running',
    reason: 'run 1',
    effects: ['spawn 1', 'publish ready'],
  },
  {
    name: 'startup arms when.timeout of an event job',
    config: server({ when: { kind: 'event', source: 'db', code: 'healthy', mode: 'once', timeout: 500 } }),
    given: [],
    from: 'pending',
    input: () => startup,
    to: 'pending',
    reason: 'waiting for event healthy from db',
    effects: ['timer whenTimeout 500'],
  },
  {
    name: 'a trigger with unmet dependencies waits',
    config: server({ dependsOn: [{ job: 'db', condition: 'healthy' }] }),
    given: [{ kind: 'dependency', job: 'db', view: depView({ hasSetup: true }) }],
    from: 'pending',
    input: () => startup,
    to: 'waiting',
    reason: 'waiting for db: healthy and set up',
    effects: [],
  },
  {
    name: 'the last dependency met starts it',
    config: server({ dependsOn: [{ job: 'db', condition: 'started' }] }),
    given: [startup],
    from: 'waiting',
    input: () => ({ kind: 'dependency', job: 'db', view: depView({ state: 'running' }) }),
    to: 'running',
    effects: ['spawn 1', 'publish ready'],
  },
  {
    name: 'a failed dependency fails a waiting job',
    config: server({ dependsOn: [{ job: 'db', condition: 'started' }] }),
    given: [startup],
    from: 'waiting',
    input: () => ({ kind: 'dependency', job: 'db', view: depView({ state: 'failed' }) }),
    to: 'failed',
    reason: 'dependency "db" failed',
    effects: ['publish failed', 'publish stopping', 'publish stopped'],
  },
  {
    name: 'when.timeout fails a pending job',
    config: server({ when: { kind: 'event', source: 'db', code: 'healthy', mode: 'once', timeout: 50 } }),
    given: [startup],
    from: 'pending',
    input: () => ({ kind: 'timer', timer: 'whenTimeout' }),
    to: 'failed',
    reason: 'when.timeout: no healthy from db within 50ms',
    effects: ['publish timerExpired', 'publish failed', 'publish stopping', 'publish stopped'],
  },
  {
    name: 'an exit with restarts left and no delay restarts at once',
    config: server({ restarts: 2 }),
    given: [startup],
    from: 'running',
    input: (fx) => exit(fx, 1),
    to: 'running',
    reason: 'run 2 (restart 1 of 2)',
    effects: ['spawn 2', 'publish ready'],
  },
  {
    name: 'an exit with a backoff delay goes to backoff',
    config: server({ restarts: 2, restartBackoff: { initial: 400, max: 1000, factor: 2, resetAfter: 10_000 } }),
    given: [startup],
    from: 'running',
    input: (fx) => exit(fx, 1),
    to: 'backoff',
    reason: 'restarting in 400ms after exit code 1 (restart 1 of 2)',
    effects: ['timer restart 400'],
  },
  {
    name: 'the restart delay runs out: start again',
    config: server({ restarts: Infinity, restartBackoff: { initial: 400, max: 1000, factor: 2, resetAfter: 10_000 } }),
    given: [startup, (fx) => exit(fx, 1)],
    from: 'backoff',
    input: () => ({ kind: 'timer', timer: 'restart' }),
    to: 'running',
    reason: 'run 2 (restart 1)',
    effects: ['spawn 2', 'publish ready'],
  },
  {
    name: 'the restart delay runs out during shutdown: it waits for its stop',
    config: server({ restarts: 2, restartBackoff: { initial: 400, max: 1000, factor: 2, resetAfter: 10_000 } }),
    given: [startup, (fx) => exit(fx, 1), ev('shutdown')],
    from: 'backoff',
    input: () => ({ kind: 'timer', timer: 'restart' }),
    to: 'backoff',
    effects: [],
  },
  {
    name: 'restarts exhausted: failed, saying why',
    config: server({ restarts: 1 }),
    given: [startup, (fx) => exit(fx, 1)],
    from: 'running',
    input: (fx) => exit(fx, 3),
    to: 'failed',
    reason: 'restarts exhausted after exit code 3',
    effects: ['publish failed', 'publish stopping', 'publish stopped'],
  },
  {
    name: 'a one-shot that exits 0 completes',
    config: job('once', { exec: sh('true') }),
    given: [startup],
    from: 'running',
    input: (fx) => exit(fx, 0),
    to: 'completed',
    reason: 'run 1 exited 0',
    effects: ['publish stopping', 'publish stopped'],
  },
  {
    name: 'a trigger during a run is queued, not a second run',
    config: server(onEvent('x', 'each', 'changed')),
    given: [startup, ev('changed', 'x')],
    from: 'running',
    input: () => ev('changed', 'x'),
    to: 'running',
    effects: [],
  },
  {
    name: 'a queued trigger starts it again when the run ends',
    config: server(onEvent('x', 'each', 'changed')),
    given: [startup, ev('changed', 'x'), ev('changed', 'x')],
    from: 'running',
    input: (fx) => exit(fx, 0),
    to: 'running',
    reason: 'run 2',
    effects: ['spawn 2', 'publish ready'],
  },
  {
    name: 'an `each` job waits for its next trigger',
    config: server(onEvent('x', 'each', 'changed')),
    given: [startup, ev('changed', 'x')],
    from: 'running',
    input: (fx) => exit(fx, 0),
    to: 'pending',
    reason: 'waiting for event changed from x',
    effects: [],
  },
  {
    name: 'a stop with pre-stop hooks drains them first',
    config: server(),
    hooks: true,
    given: [startup],
    from: 'running',
    input: () => ({ kind: 'stop', reason: 'shutdown' }),
    to: 'draining',
    reason: 'shutdown: pre-stop hooks running',
    effects: ['publish stopping', 'waitHooks'],
  },
  {
    name: 'hooks done: the stop signal goes out',
    config: server(),
    hooks: true,
    given: [startup, { kind: 'stop', reason: 'shutdown' }],
    from: 'draining',
    input: () => ({ kind: 'hooksDone' }),
    to: 'stopping',
    reason: 'shutdown: SIGTERM sent',
    effects: ['stop 1001 10000'],
  },
  {
    name: 'a stop without hooks sends the signal at once',
    config: server(),
    given: [startup],
    from: 'running',
    input: () => ({ kind: 'stop', reason: 'stop' }),
    to: 'stopping',
    effects: ['publish stopping', 'stop 1001 10000'],
  },
  {
    name: 'the exit after a stop ends it stopped',
    config: server({ restarts: 5 }),
    given: [startup, { kind: 'stop', reason: 'shutdown' }],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'stopped',
    reason: 'shutdown',
    effects: ['publish stopped'],
  },
  {
    name: 'a pending job stopped ends stopped',
    config: server(onEvent('x')),
    given: [startup],
    from: 'pending',
    input: () => ({ kind: 'stop', reason: 'shutdown' }),
    to: 'stopped',
    reason: 'shutdown',
    effects: ['publish stopping', 'publish stopped'],
  },
  {
    name: 'a stop hook lets its run finish',
    config: job('hook', { exec: sh('true'), ...onEvent('svc', 'once', 'stopping') }),
    given: [startup, ev('stopping', 'svc')],
    from: 'running',
    input: () => ({ kind: 'stop', reason: 'shutdown' }),
    to: 'stopping',
    reason: 'shutdown: letting the run finish',
    effects: [],
  },
  {
    name: 'a failing check: unhealthy is data, the state stays running',
    config: server({ health }),
    given: [startup],
    from: 'running',
    input: () => ev('exitFailed', 'check.svc'),
    to: 'running',
    reason: 'run 1; health check failing',
    effects: ['publish unhealthy'],
  },
  {
    name: 'a passing check runs the setup commands',
    config: server({ health, setup: [sh('true'), sh('true')] }),
    given: [startup],
    from: 'running',
    input: () => ev('exitSuccess', 'check.svc'),
    to: 'running',
    reason: 'run 1; setup 1/2 running',
    effects: ['publish healthy', 'setup 0'],
  },
  {
    name: 'the last setup command done: ready',
    config: server({ setup: [sh('true')] }),
    given: [startup],
    from: 'running',
    input: (fx) => setupEnd(fx, 0),
    to: 'running',
    reason: 'run 1',
    effects: ['publish ready'],
  },
  {
    name: 'a failing setup command fails the job through a stop',
    config: server({ setup: [sh('false')] }),
    given: [startup],
    from: 'running',
    input: (fx) => setupEnd(fx, 1),
    to: 'stopping',
    effects: ['publish stopping', 'stop 1001 10000'],
  },
  {
    name: '… whose exit ends it failed',
    config: server({ setup: [sh('false')] }),
    given: [startup, (fx) => setupEnd(fx, 1)],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'failed',
    reason: 'setup command 1 (sh -c false) failed: exit code 1',
    effects: ['publish failed', 'publish stopped'],
  },
  {
    name: 'a health tick starts a check',
    config: server({ health }),
    given: [startup],
    from: 'running',
    input: () => ({ kind: 'timer', timer: 'health' }),
    to: 'running',
    effects: ['timer health 50', 'check 1'],
  },
  {
    name: 'maintenance pauses the checks',
    config: server({ health }),
    given: [startup, { kind: 'timer', timer: 'health' }],
    from: 'running',
    input: () => ev('enterMaintenance'),
    to: 'maintenance',
    effects: ['stopCheck'],
  },
  {
    name: 'a check result in maintenance is ignored',
    config: server({ health }),
    given: [startup, ev('enterMaintenance')],
    from: 'maintenance',
    input: () => ev('exitFailed', 'check.svc'),
    to: 'maintenance',
    effects: [],
  },
  {
    name: 'leaving maintenance resumes the checks',
    config: server({ health }),
    given: [startup, ev('enterMaintenance')],
    from: 'maintenance',
    input: () => ev('exitMaintenance'),
    to: 'running',
    effects: ['timer health 50'],
  },
  {
    name: 'an interval tick during a run does not start it twice',
    config: server({ when: { kind: 'interval', interval: 100, overlap: 'queue' }, restarts: 3 }),
    given: [startup],
    from: 'running',
    input: () => ({ kind: 'timer', timer: 'interval' }),
    to: 'running',
    effects: ['timer interval 100'],
  },
  {
    name: 'an interval tick during a run is queued by default (ContainerPilot)',
    config: server({ when: { kind: 'interval', interval: 100, overlap: 'queue' }, restarts: 3 }),
    given: [startup, { kind: 'timer', timer: 'interval' }],
    from: 'running',
    input: (fx) => exit(fx, 0),
    to: 'running',
    reason: 'run 2',
    effects: ['spawn 2', 'publish ready'],
  },
  {
    name: 'startup of a cron job arms its first tick, no run yet',
    config: server({ restarts: Infinity, when: cron('skip') }),
    given: [],
    from: 'pending',
    input: () => startup,
    to: 'pending',
    reason: 'next run at 2026-12-02T15:00:00Z',
    effects: ['arm cron'],
  },
  {
    name: 'a cron tick starts a run and arms the next',
    config: server({ restarts: Infinity, when: cron('skip') }),
    given: [startup],
    from: 'pending',
    input: () => cronTick,
    to: 'running',
    reason: 'run 1',
    effects: ['arm cron', 'spawn 1', 'publish ready'],
  },
  {
    name: 'a cron tick with unmet dependencies waits for them',
    config: server({ restarts: Infinity, when: cron('skip'), dependsOn: [{ job: 'db', condition: 'started' }] }),
    given: [startup],
    from: 'pending',
    input: () => cronTick,
    to: 'waiting',
    reason: 'waiting for db: started',
    effects: [],
  },
  {
    name: '… the due run starts once they are met',
    config: server({ restarts: Infinity, when: cron('skip'), dependsOn: [{ job: 'db', condition: 'started' }] }),
    given: [startup, cronTick],
    from: 'waiting',
    input: () => ({ kind: 'dependency', job: 'db', view: depView({ state: 'running' }) }),
    to: 'running',
    effects: ['arm cron', 'spawn 1', 'publish ready'],
  },
  {
    name: 'the run ends: pending, with the next tick in the reason',
    config: server({ restarts: Infinity, when: cron('skip') }),
    given: [startup, cronTick],
    from: 'running',
    input: (fx) => exit(fx, 1),
    to: 'pending',
    reason: 'next run at 2026-12-02T15:01:00Z',
    effects: [],
  },
  {
    name: 'overlap skip: a tick during a run is dropped, said in the reason',
    config: server({ restarts: Infinity, when: cron('skip') }),
    given: [startup, cronTick],
    from: 'running',
    input: () => cronTick,
    to: 'running',
    reason: 'run 1; tick skipped: run 1 still running',
    effects: ['arm cron'],
  },
  {
    name: '… and the run that ends waits for the next tick',
    config: server({ restarts: Infinity, when: cron('skip') }),
    given: [startup, cronTick, cronTick],
    from: 'running',
    input: (fx) => exit(fx, 0),
    to: 'pending',
    effects: [],
  },
  {
    name: 'overlap queue: a tick during a run is queued',
    config: server({ restarts: Infinity, when: cron('queue') }),
    given: [startup, cronTick],
    from: 'running',
    input: () => cronTick,
    to: 'running',
    reason: 'run 1; tick queued: run 1 still running',
    effects: ['arm cron'],
  },
  {
    name: '… one at most: the next tick is dropped',
    config: server({ restarts: Infinity, when: cron('queue') }),
    given: [startup, cronTick, cronTick],
    from: 'running',
    input: () => cronTick,
    to: 'running',
    reason: 'run 1; tick skipped: run 1 still running and the next run already queued',
    effects: ['arm cron'],
  },
  {
    name: '… the queued run starts when the run ends',
    config: server({ restarts: Infinity, when: cron('queue') }),
    given: [startup, cronTick, cronTick, cronTick],
    from: 'running',
    input: (fx) => exit(fx, 0),
    to: 'running',
    reason: 'run 2',
    effects: ['spawn 2', 'publish ready'],
  },
  {
    name: 'overlap replace: a tick during a run stops it with its stop signal',
    config: server({ restarts: Infinity, when: cron('replace'), stopSignal: 'SIGINT', stopTimeout: 3000 }),
    given: [startup, cronTick],
    from: 'running',
    input: () => cronTick,
    to: 'stopping',
    reason: 'tick replaces run 1: SIGINT sent',
    effects: ['arm cron', 'stop 1001 3000'],
  },
  {
    name: '… and starts a new run when it has ended, not counted as a restart',
    config: server({ restarts: Infinity, when: cron('replace') }),
    given: [startup, cronTick, cronTick],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'running',
    reason: 'run 2',
    effects: ['spawn 2', 'publish ready'],
  },
  {
    name: '… a stop while the replaced run ends wins: stopped',
    config: server({ restarts: Infinity, when: cron('replace') }),
    given: [startup, cronTick, cronTick, { kind: 'stop', reason: 'shutdown' }],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'stopped',
    reason: 'shutdown',
    effects: ['publish stopping', 'publish stopped'],
  },
  {
    name: 'a cron tick during shutdown is ignored',
    config: server({ restarts: Infinity, when: cron('skip') }),
    given: [startup, ev('shutdown')],
    from: 'pending',
    input: () => cronTick,
    to: 'pending',
    effects: [],
  },
  {
    name: 'launch: a replacement instance starts as at startup, triggered',
    config: server(onEvent('x', 'once', 'changed')),
    given: [],
    from: 'pending',
    input: () => ({ kind: 'launch', trigger: true, maintenance: false }),
    to: 'running',
    effects: ['spawn 1', 'publish ready'],
  },
  // Liveness, readiness and teardown (issue 17).
  {
    name: 'a failed check below failureThreshold changes nothing',
    config: server({ health: { ...health, failureThreshold: 2, onUnhealthy: 'restart' } }),
    given: [startup, ev('exitSuccess', 'check.svc')],
    from: 'running',
    input: () => ev('exitFailed', 'check.svc'),
    to: 'running',
    reason: 'run 1',
    effects: [],
  },
  {
    name: 'failureThreshold reached with onUnhealthy restart: the process is stopped to be restarted',
    config: server({ health: { ...health, failureThreshold: 2, onUnhealthy: 'restart' } }),
    given: [startup, ev('exitSuccess', 'check.svc'), ev('exitFailed', 'check.svc')],
    from: 'running',
    input: () => ev('exitFailed', 'check.svc'),
    to: 'stopping',
    reason: 'restarting: health check failed 2 times; SIGTERM sent',
    effects: ['publish unhealthy', 'stop 1001 10000'],
  },
  {
    name: '… whose exit starts it again, counted as a restart',
    config: server({ health: { ...health, onUnhealthy: 'restart' } }),
    given: [startup, ev('exitFailed', 'check.svc')],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'running',
    effects: ['spawn 2', 'timer health 50'],
  },
  {
    name: '… or waits out the backoff',
    config: server({
      health: { ...health, onUnhealthy: 'restart' },
      restartBackoff: { initial: 400, max: 1000, factor: 2, resetAfter: 10_000 },
    }),
    given: [startup, ev('exitFailed', 'check.svc')],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'backoff',
    reason: 'restarting in 400ms: health check failed 1 time',
    effects: ['timer restart 400'],
  },
  {
    name: '… but a stop that comes meanwhile wins',
    config: server({ health: { ...health, onUnhealthy: 'restart' } }),
    given: [startup, ev('exitFailed', 'check.svc'), { kind: 'stop', reason: 'shutdown' }],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'stopped',
    reason: 'shutdown',
    effects: ['publish stopping', 'publish stopped'],
  },
  {
    name: 'onUnhealthy stop fails the job through a stop',
    config: server({ health: { ...health, onUnhealthy: 'stop' } }),
    given: [startup],
    from: 'running',
    input: () => ev('exitFailed', 'check.svc'),
    to: 'stopping',
    reason: 'health check failed 1 time: SIGTERM sent',
    effects: ['publish unhealthy', 'publish stopping', 'stop 1001 10000'],
  },
  {
    name: 'a failed check in the start period is not counted',
    config: server({ health: { ...health, startPeriod: 60_000, onUnhealthy: 'restart' } }),
    given: [startup],
    from: 'running',
    input: () => ev('exitFailed', 'check.svc'),
    to: 'running',
    effects: [],
  },
  {
    name: 'a restart beyond the restart budget fails the job',
    config: server({ restarts: 5, restartLimit: { burst: 1, interval: 60_000 } }),
    given: [startup, (fx) => exit(fx, 1)],
    from: 'running',
    input: (fx) => exit(fx, 1),
    to: 'failed',
    reason: 'restarted too often: more than 1 restart within 60s',
    effects: ['publish failed', 'publish stopping', 'publish stopped'],
  },
  {
    name: 'notify: spawned, it is starting until READY=1',
    config: server({ notify: true }),
    given: [],
    from: 'pending',
    input: () => startup,
    to: 'starting',
    reason: 'run 1: waiting for READY=1',
    effects: ['spawn 1'],
  },
  {
    name: 'notify: STATUS= before READY=1 shows in the reason',
    config: server({ notify: true }),
    given: [startup],
    from: 'starting',
    input: (fx) => notify(fx, { status: 'loading data' }),
    to: 'starting',
    reason: 'run 1: waiting for READY=1; loading data',
    effects: [],
  },
  {
    name: 'notify: READY=1 makes it running (and ready) and arms the watchdog',
    config: server({ notify: true, watchdog: 1000 }),
    given: [startup],
    from: 'starting',
    input: (fx) => notify(fx, { ready: true, status: 'serving' }),
    to: 'running',
    reason: 'run 1; serving',
    effects: ['timer watchdog 1000', 'publish ready'],
  },
  {
    name: 'notify: WATCHDOG=1 re-arms the watchdog',
    config: server({ notify: true, watchdog: 1000 }),
    given: [startup, (fx) => notify(fx, { ready: true })],
    from: 'running',
    input: (fx) => notify(fx, { watchdog: 'ping' }),
    to: 'running',
    effects: ['timer watchdog 1000'],
  },
  {
    name: 'notify: the watchdog runs out: the process is stopped to be restarted',
    config: server({ notify: true, watchdog: 1000 }),
    given: [startup, (fx) => notify(fx, { ready: true })],
    from: 'running',
    input: () => ({ kind: 'timer', timer: 'watchdog' }),
    to: 'stopping',
    reason: 'restarting: watchdog: no WATCHDOG=1 within 1s; SIGTERM sent',
    effects: ['stop 1001 10000'],
  },
  {
    name: 'notify with notifyTimeout: spawned, the READY=1 timer is armed',
    config: server({ notify: true, notifyTimeout: 30_000 }),
    given: [],
    from: 'pending',
    input: () => startup,
    to: 'starting',
    reason: 'run 1: waiting for READY=1',
    effects: ['spawn 1', 'timer ready 30000'],
  },
  {
    name: 'notify: no READY=1 within notifyTimeout: the process is stopped',
    config: server({ notify: true, notifyTimeout: 30_000 }),
    given: [startup],
    from: 'starting',
    input: () => readyTimeout(30_000),
    to: 'stopping',
    reason: 'no READY=1 within 30s; SIGTERM sent',
    effects: ['stop 1001 10000'],
  },
  {
    // JobTimers marks a firing stale once the timer is armed again (the next run's) or cleared.
    name: 'notify: a READY=1 timeout armed for an earlier run (queued as it ended) is ignored',
    config: server({ notify: true, notifyTimeout: 30_000 }),
    given: [startup],
    from: 'starting',
    input: () => ({ kind: 'timer', timer: 'ready', stale: () => true }),
    to: 'starting',
    effects: [],
  },
  {
    name: 'notify: the run stopped for no READY=1 is a failed start: the restart policy restarts it',
    config: server({ notify: true, notifyTimeout: 30_000, restarts: 1 }),
    given: [startup, () => readyTimeout(30_000)],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'starting',
    reason: 'run 2: waiting for READY=1',
    effects: ['spawn 2', 'timer ready 30000'],
  },
  {
    name: 'notify: the run stopped for no READY=1, no restarts left: failed with that reason',
    config: server({ notify: true, notifyTimeout: 30_000 }),
    given: [startup, () => readyTimeout(30_000)],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'failed',
    reason: 'last run failed: no READY=1 within 30s',
    effects: ['publish failed', 'publish stopping', 'publish stopped'],
  },
  {
    name: 'notify: no READY=1 in time, the restart budget spent: failed',
    config: server({ notify: true, notifyTimeout: 30_000, restarts: 5, restartLimit: { burst: 1, interval: 60_000 } }),
    given: [startup, () => readyTimeout(30_000), (fx) => exit(fx, 143), () => readyTimeout(30_000)],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'failed',
    reason: 'restarted too often: more than 1 restart within 60s',
    effects: ['publish failed', 'publish stopping', 'publish stopped'],
  },
  {
    name: 'notify: a message of an earlier run is ignored',
    config: server({ notify: true, restarts: 1 }),
    given: [startup, (fx) => exit(fx, 1)],
    from: 'starting',
    input: (fx) => ({ kind: 'notify', run: fx.runs[0]!, msg: { ready: true, other: [] } }),
    to: 'starting',
    effects: [],
  },
  {
    name: 'cleanup: the process ended: its cleanup runs before what the end leads to',
    config: server({ restarts: 1, cleanup: [sh('true')] }),
    given: [startup],
    from: 'running',
    input: (fx) => exit(fx, 1),
    to: 'cleanup',
    reason: 'run 1 ended (exit code 1): cleanup running',
    effects: ['cleanup 1 after run 1'],
  },
  {
    name: 'cleanup done: the restart goes ahead',
    config: server({ restarts: 1, cleanup: [sh('true')] }),
    given: [startup, (fx) => exit(fx, 1)],
    from: 'cleanup',
    input: () => ({ kind: 'cleanupDone', cleanup: 1 }),
    to: 'running',
    reason: 'run 2 (restart 1 of 1)',
    effects: ['spawn 2', 'publish ready'],
  },
  {
    name: 'cleanup: a stop during it is kept for its end',
    config: server({ restarts: 1, cleanup: [sh('true')] }),
    given: [startup, (fx) => exit(fx, 1)],
    from: 'cleanup',
    input: () => ({ kind: 'stop', reason: 'shutdown' }),
    to: 'cleanup',
    effects: [],
  },
  {
    name: 'cleanup done after a stop: stopped',
    config: server({ restarts: 1, cleanup: [sh('true')] }),
    given: [startup, (fx) => exit(fx, 1), { kind: 'stop', reason: 'shutdown' }],
    from: 'cleanup',
    input: () => ({ kind: 'cleanupDone', cleanup: 1 }),
    to: 'stopped',
    reason: 'shutdown',
    effects: ['publish stopping', 'publish stopped'],
  },
  {
    name: 'cleanup after a stop ends it stopped',
    config: server({ cleanup: [sh('true')] }),
    given: [startup, { kind: 'stop', reason: 'shutdown' }],
    from: 'stopping',
    input: (fx) => exit(fx, 143),
    to: 'cleanup',
    effects: ['cleanup 1 after run 1'],
  },
  {
    name: 'a trigger after the job ended is ignored',
    config: job('once', { exec: sh('true'), ...onEvent('x', 'each', 'changed') }),
    given: [startup, ev('changed', 'x'), { kind: 'stop', reason: 'stop' }, (fx) => exit(fx, 0)],
    from: 'stopped',
    input: () => ev('changed', 'x'),
    to: 'stopped',
    effects: [],
  },
];

describe('the job state table', () => {
  afterEach(() => vi.restoreAllMocks());
  it.each(rows.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const fx = new Recorder();
    fx.hooks = row.hooks ?? false;
    const j = new Job(row.config, () => fx);
    for (const input of row.given) j.apply(typeof input === 'function' ? input(fx) : input);
    expect(j.currentState).toBe(row.from);
    fx.calls.length = 0;
    j.apply(row.input(fx));
    expect(j.currentState).toBe(row.to);
    if (typeof row.reason === 'string') expect(j.currentReason).toBe(row.reason);
    else if (row.reason) expect(j.currentReason).toMatch(row.reason);
    expect(fx.calls).toEqual(row.effects);
  });

  it('run numbers and restart counts continue in a replacing instance', () => {
    const fx = new Recorder();
    const first = new Job(server({ restarts: 3 }), () => fx);
    first.apply(startup);
    first.apply(exit(fx, 1));
    const second = new Job(server({ restarts: 3 }), () => fx, first.carry());
    second.apply({ kind: 'launch', trigger: false, maintenance: false });
    expect(fx.calls.at(-2)).toBe('spawn 3');
    expect(second.snapshot()).toMatchObject({ runs: 3, restarts: 1, lastRun: { run: 1, code: 1 } });
  });
});
