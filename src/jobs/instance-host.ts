/**
 * A job instance's JobHost (runtime.ts), made by the JobSet (job-set.ts) for each instance: the
 * set's shared services, and the callbacks bound to this instance as methods.
 */
import type { JobConfig } from '../config/types.js';
import type { Bus } from '../events/bus.js';
import type { CheckEnd, Observers } from '../events/observers.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { NotifyDir } from '../process/notify-dir.js';
import type { RunRecord } from '../process/types.js';
import type { ChildEnv } from './child-env.js';
import type { Job } from './job.js';
import { publishedName } from './naming.js';
import type { JobHost } from './runtime.js';

/** What a JobSet gives the hosts of its job instances (InstanceHost). */
export interface HostOps extends Pick<JobHost, 'bus' | 'log' | 'childEnv' | 'relay' | 'notifyDir' | 'lastRunOf'> {
  readonly env: ChildEnv;
  readonly observers: Observers;
  runEnded(config: JobConfig, record: RunRecord): void;
  stateChanged(job: Job): void;
  readyChanged(job: Job): void;
  waitForPreStopHooks(config: JobConfig, afterSeq: number, timeoutMs: number): Promise<void> | null;
}

/**
 * One job instance's JobHost: the set's shared services, and the callbacks bound to this
 * instance as methods. (An object literal of a dozen closures per job, spread over the
 * shared part, was ≈ 100k instructions a job, its building and the slower property loads on
 * it: bench/README.md, fourth round.)
 */
export class InstanceHost implements JobHost {
  readonly bus: Bus;
  readonly log: Logger;
  readonly childEnv: JobHost['childEnv'];
  readonly relay: JobHost['relay'];
  /** Set right after the job is made (its runtime, which calls these, is made later). */
  job!: Job;

  constructor(
    private readonly ops: HostOps,
    private readonly config: JobConfig,
  ) {
    this.bus = ops.bus;
    this.log = ops.log;
    this.childEnv = ops.childEnv;
    this.relay = ops.relay;
  }

  pidChanged(pid: number | null): void {
    this.ops.env.pidChanged(publishedName(this.config), pid);
  }
  runEnded(record: RunRecord): void {
    this.ops.runEnded(this.config, record);
  }
  runRecorded(record: RunRecord): void {
    this.ops.observers.emit('run', this.config.name, record);
  }
  cleanupStep(source: string, reason: string): void {
    this.ops.observers.emit('cleanup', source, reason);
  }
  checkEnded(check: CheckEnd): void {
    this.ops.observers.emit('check', this.config.name, check);
  }
  stateChanged(): void {
    this.ops.stateChanged(this.job);
  }
  readyChanged(): void {
    this.ops.readyChanged(this.job);
  }
  waitForPreStopHooks(afterSeq: number, timeoutMs: number): Promise<void> | null {
    return this.ops.waitForPreStopHooks(this.config, afterSeq, timeoutMs);
  }
  notifyDir(): NotifyDir {
    return this.ops.notifyDir();
  }
  lastRunOf(name: string): RunRecord | null {
    return this.ops.lastRunOf(name);
  }
}
