/**
 * Cross-job rules of `replicas` (docs/configuration.md#replicas), checked once every job has been
 * read: no other job may have the name (or the `CONTAINERPILOT_{NAME}_PID`) of an instance the job
 * has or could get through `scale` (`web-1` … `web-100`), and `main` cannot be a replicated job.
 * Then each replicated job is replaced by its instances (config/replicas.ts).
 */
import { expandReplicas, MAX_REPLICAS } from '../replicas.js';
import type { JobConfig, ReplicaGroup } from '../types.js';
import type { At } from './core.js';
import { envNameOf } from './job.js';

export interface JobEntry {
  name: string;
  /** Where the job is, and its index in `jobs`. */
  at: At;
  index: number;
  replicas?: number;
}

/** Reports names that clash with instances, and a replicated `main`; false when it reported any. */
export function checkReplicaNames(entries: readonly JobEntry[], main: At | undefined, mainName?: string): boolean {
  let ok = true;
  for (const group of entries) {
    if (group.replicas === undefined) continue;
    const prefix = `${envNameOf(group.name)}_`;
    for (const other of entries) {
      if (other === group) continue;
      const env = envNameOf(other.name);
      if (!env.startsWith(prefix)) continue;
      const k = env.slice(prefix.length);
      if (!/^[1-9][0-9]*$/.test(k) || Number(k) > MAX_REPLICAS) continue;
      other.at
        .child('name')
        .error(
          `job ${JSON.stringify(other.name)} clashes with instance ${group.name}-${k} of ${JSON.stringify(group.name)} (jobs[${group.index}], replicas: ${group.replicas}): a replicated job's instances are named ${group.name}-1 … ${group.name}-${MAX_REPLICAS} (with \`scale\`)`,
          { expected: `a name that is not ${group.name}-<number>` },
        );
      ok = false;
    }
    if (main && mainName === group.name) {
      main.error(
        `main cannot be ${JSON.stringify(group.name)}: it has replicas, and pidpilot's exit follows one process`,
        { expected: 'a job without replicas' },
      );
      ok = false;
    }
  }
  return ok;
}

/** The groups of `entries`, and `jobs` with each replicated job replaced by its instances. */
export function expandJobs(
  jobs: readonly JobConfig[],
  entries: readonly JobEntry[],
): { jobs: JobConfig[]; replicated?: Record<string, ReplicaGroup> } {
  const groups: Record<string, ReplicaGroup> = {};
  for (const entry of entries) {
    if (entry.replicas === undefined) continue;
    const job = jobs.find((j) => j.name === entry.name);
    if (job) groups[entry.name] = { job, replicas: entry.replicas };
  }
  if (Object.keys(groups).length === 0) return { jobs: [...jobs] };
  return { jobs: expandReplicas(jobs, groups), replicated: groups };
}
