/**
 * The environment every child of a job gets (docs/configuration.md, docs/control-api.md): pidpilot's own environment as
 * changed by `putenv`, the job's `env` over it, then what pidpilot itself sets —
 * `CONTAINERPILOT_PID`, `CONTAINERPILOT_{JOB}_PID` of every running job, and
 * `CONTAINERPILOT_{JOB}_IP` of every job registered in discovery — and last the job's
 * lifecycle variables (`PIDPILOT_JOB`, `PIDPILOT_RUN`, `PIDPILOT_RESTARTS`: jobs/liveness/env.ts),
 * which its runtime keeps per run.
 */

import { setMember } from '../config/json5-objects.js';
import type { JobConfig } from '../config/types.js';
import { applyEnvChanges } from '../control/env-limits.js';
import type { EnvChanges } from '../control/target.js';
import { type LayeredEnv, PreparedEnv } from '../process/child-env-block.js';
import { pidEnvName } from './naming.js';

export class ChildEnv {
  /** pidpilot's environment as changed by putenv (and discovery's `_IP` names); reload renders against it. */
  private readonly baseEnv: Record<string, string> = {};
  /** CONTAINERPILOT_{JOB}_PID of every job whose process is running. */
  private readonly pidEnv = new Map<string, string>();
  /** The names each `setGroup` owner set, replaced as a whole (discovery's `_IP` names on reload). */
  private readonly groups = new Map<string, string[]>();
  /**
   * The base environment checked and encoded once for every spawn of every job (a chain of
   * quick jobs spawns hundreds of times a second); made again after the base changes.
   */
  private prepared: PreparedEnv | null = null;
  /** CONTAINERPILOT_PID: pidpilot's own pid. */
  private readonly ownPid = String(process.pid);

  constructor(env: Readonly<Record<string, string | undefined>>) {
    for (const [k, v] of Object.entries(env)) if (v !== undefined) this.baseEnv[k] = v;
    this.baseEnv.CONTAINERPILOT_PID = this.ownPid;
  }

  /** The base environment (what a reload renders the configuration against). */
  get base(): Readonly<Record<string, string>> {
    return this.baseEnv;
  }

  /** `putenv`: throws (422) past the bounds of control/env-limits.ts, changing nothing. */
  put(changes: EnvChanges): void {
    applyEnvChanges(this.baseEnv, changes);
    this.prepared = null;
  }

  /** Replaces the variables `owner` set before by `values` (e.g. discovery's `CONTAINERPILOT_{JOB}_IP`). */
  setGroup(owner: string, values: ReadonlyMap<string, string>): void {
    for (const name of this.groups.get(owner) ?? []) delete this.baseEnv[name];
    for (const [name, value] of values) this.baseEnv[name] = value;
    this.groups.set(owner, [...values.keys()]);
    this.prepared = null;
  }

  /** The job's main process started (pid) or ended (null). */
  pidChanged(job: string, pid: number | null): void {
    const key = pidEnvName(job);
    if (pid === null) this.pidEnv.delete(key);
    else this.pidEnv.set(key, String(pid));
  }

  /**
   * The complete environment for a child of `job` in its current run (`lifecycle`: PIDPILOT_JOB/RUN/RESTARTS),
   * with `extra` (a run's PIDPILOT_RESULT…) last.
   */
  forJob(
    job: JobConfig,
    lifecycle: Readonly<Record<string, string>> = {},
    extra?: Readonly<Record<string, string>>,
  ): LayeredEnv {
    // The job's own `env` wins over pidpilot's environment, not over the variables pidpilot sets.
    // (CONTAINERPILOT_PID is always pidpilot's own, whatever a putenv did to the base environment.)
    this.prepared ??= new PreparedEnv({ ...this.baseEnv });
    // Set one by one, in the order an object spread of the layers gives: a spread is V8's generic
    // copy (bench/README.md, chain hop, sixth round).
    const overlay: Record<string, string> = {};
    for (const k in job.env) setMember(overlay, k, job.env[k]!);
    overlay.CONTAINERPILOT_PID = this.ownPid;
    for (const [k, v] of this.pidEnv) overlay[k] = v;
    for (const k in lifecycle) overlay[k] = lifecycle[k]!;
    if (extra !== undefined) for (const k in extra) setMember(overlay, k, extra[k]!);
    return { base: this.prepared, overlay };
  }
}
