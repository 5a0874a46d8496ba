/**
 * How the optional parts (discovery and watches, history, telemetry, later the dashboard)
 * attach to a supervisor from outside, at the composition root (cli/run-supervisor.ts):
 * they see the bus, the observer emitter and the child environment, and the supervisor
 * calls the hooks they register at the moments that concern them. None of them imports
 * the Supervisor class.
 */
import type { Config } from './config/types.js';
import type { StatusSnapshot } from './control/target.js';
import type { Bus } from './events/bus.js';
import type { Observers } from './events/observers.js';
import type { ChildEnv } from './jobs/child-env.js';

export interface SupervisorPart {
  /** True for the sources this part publishes for as long as pidpilot runs (`watch.<name>`). */
  publishes?(source: string): boolean;
  /** `startup` was published. */
  started?(): void;
  /** Maintenance mode changed (docs/control-api.md). */
  maintenance?(on: boolean): void;
  /** A reload's changed and removed jobs have stopped; the new ones have not started yet. */
  reloaded?(config: Config): void;
  /**
   * The shutdown began. pidpilot's exit waits for `closed`; the jobs are stopped once
   * `beforeJobsStop` has resolved (a part bounds it: discovery's deregistration).
   */
  shutdown?(stopTimeoutMs: number): { closed: Promise<void>; beforeJobsStop?: Promise<void> };
  /** The supervisor has ended: flush and close. */
  close?(): void;
}

/** What a part sees of the supervisor it attaches to. */
export interface PartHost {
  readonly config: Config;
  readonly bus: Bus;
  readonly observers: Observers;
  readonly env: ChildEnv;
  /** The reason of the current instance of `job`'s state, if there is such a job. */
  reasonOf(job: string): string | undefined;
  status(): StatusSnapshot;
  attach(part: SupervisorPart): void;
}
