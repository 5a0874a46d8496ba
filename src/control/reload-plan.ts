/**
 * What a reload (docs/control-api.md) does, decided from the old and the new configuration alone:
 * jobs whose definition is the same (by `configFingerprint`, whatever the key order)
 * stay untouched, changed ones restart, removed ones stop, new ones start. Top-level
 * sections that are bound at start (logging, control socket, telemetry, dashboard,
 * discovery, state) are reported as not applied rather than half-applied.
 */
import { configFingerprint, stableStringify } from '../config/load.js';
import type { Config } from '../config/types.js';

export interface ReloadPlan {
  unchanged: string[];
  changed: string[];
  added: string[];
  removed: string[];
  notApplied: string[];
}

/** Read at start only; a change needs a restart of pidpilot. */
const BOUND_AT_START = ['logging', 'control', 'telemetry', 'dashboard', 'consul', 'watches', 'state'] as const;

export function planReload(before: Config, after: Config): ReloadPlan {
  const old = new Map(before.jobs.map((j) => [j.name, configFingerprint(j)]));
  const plan: ReloadPlan = { unchanged: [], changed: [], added: [], removed: [], notApplied: [] };
  for (const job of after.jobs) {
    const was = old.get(job.name);
    if (was === undefined) plan.added.push(job.name);
    else if (was === configFingerprint(job)) plan.unchanged.push(job.name);
    else plan.changed.push(job.name);
  }
  const now = new Set(after.jobs.map((j) => j.name));
  for (const name of old.keys()) if (!now.has(name)) plan.removed.push(name);
  for (const key of BOUND_AT_START) {
    if (stableStringify(before[key]) !== stableStringify(after[key])) plan.notApplied.push(key);
  }
  return plan;
}
