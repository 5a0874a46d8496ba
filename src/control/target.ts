/**
 * What the control server (docs/control-api.md) needs from the supervisor. The server only
 * parses, validates and answers; every change of state goes through this interface,
 * so the routes are tested against a small in-memory target and the supervisor
 * implements it for real.
 */
import type { ConfigErrorInit } from '../config/errors.js';
import type { MetricType } from '../config/types.js';
import type { JobGraph } from '../jobs/graph-model.js';
import type { JobSnapshot } from '../jobs/state.js';
import type { HistoryReader } from '../state/types.js';

/** Changes to the environment later children get: a string sets, `null` unsets. */
export type EnvChanges = Readonly<Record<string, string | null>>;

export type ReloadResult =
  | {
      ok: true;
      /** Jobs whose definition did not change: untouched, same process. */
      unchanged: string[];
      restarted: string[];
      started: string[];
      stopped: string[];
      /** Top-level sections that changed but take effect only on a restart of pidpilot. */
      notApplied: string[];
    }
  | { ok: false; errors: ConfigErrorInit[] };

export type JobAction = 'start' | 'stop' | 'restart';

export type JobActionResult =
  | { ok: true; job: string; action: JobAction; state: string }
  | { ok: false; status: 404 | 409; error: string };

/** `scale JOB N` (docs/control-api.md): the instances started and stopped, or why nothing changed. */
export type ScaleResult =
  | { ok: true; job: string; replicas: number; started: string[]; stopped: string[] }
  | { ok: false; status: 404 | 409 | 422; error: string };

export interface StatusSnapshot {
  version: string;
  pid: number;
  /** Milliseconds since the epoch when this pidpilot started. */
  startedAt: number;
  maintenance: boolean;
  shuttingDown: boolean;
  jobs: JobSnapshot[];
  watches: string[];
}

/** User metrics declared under `telemetry.metrics`, fed by `/v3/metric` and `-putmetric`. */
export interface MetricRecorder {
  /** The metric `key` names (its exposed name, or ContainerPilot's `__x` form), or undefined when unknown. */
  resolve(key: string): { name: string; type: MetricType } | undefined;
  /** Record `value` on a metric `resolve` returned: counters add, gauges set, histograms/summaries observe. */
  record(name: string, value: number): void;
}

export interface ControlTarget {
  /** Throws an HttpError (422) and changes nothing when the result would be past the bounds of env-limits.ts. */
  putEnv(changes: EnvChanges): void;
  reload(): Promise<ReloadResult>;
  /** Returns whether the mode changed (enable twice: the second is a no-op). */
  setMaintenance(on: boolean): boolean;
  status(): StatusSnapshot;
  jobExists(name: string): boolean;
  /** The instances of a job with `replicas` (`web-1` …), none for any other name. */
  instancesOf(name: string): string[];
  jobAction(name: string, action: JobAction, opts?: { timeoutMs?: number }): Promise<JobActionResult>;
  /** Runs `replicas` instances of a job with `replicas`; refuses (changing nothing) what it cannot do. */
  scale(name: string, replicas: number): Promise<ScaleResult>;
  /** The dependency and trigger graph of the running configuration (the dashboard draws it). */
  jobGraph(): JobGraph;
  /** Null when telemetry is not configured: no metric is known then. */
  readonly metrics: MetricRecorder | null;
  /** Null until the persisted history (docs/history.md) is wired in: events/runs/logs then answer 503. */
  readonly history: HistoryReader | null;
}
