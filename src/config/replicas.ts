/**
 * `replicas: N` (docs/configuration.md#replicas): a job run as N instances `name-1` … `name-N`.
 * The configuration holds the instances as ordinary jobs, in the job's place, each marked with
 * `replica` (so status, history, logs and discovery see N jobs), and the definition as written in
 * `Config.replicated`, from which `pidpilot scale` builds another count. Pure.
 */
import type { Config, JobConfig, ReplicaGroup } from './types.js';

/** The most instances a job may have (in the file and through `scale`). */
export const MAX_REPLICAS = 100;

export function replicaName(job: string, index: number): string {
  return `${job}-${index}`;
}

/** The name dependents and triggers use for a job instance: its job's name for a replica. */
export function groupName(job: JobConfig): string {
  return job.replica?.of ?? job.name;
}

/**
 * Instance `index` of `job`: `PIDPILOT_REPLICA` in its environment and, like foreman's instances,
 * port + index − 1 — its `port` (advertised and as `PORT`), or a numeric `PORT` its `env` sets
 * (what `pidpilot init -from Procfile` writes).
 */
export function replicaConfig(job: JobConfig, index: number): JobConfig {
  const env: Record<string, string> = { ...job.env, PIDPILOT_REPLICA: String(index) };
  const instance: JobConfig = { ...job, name: replicaName(job.name, index), env, replica: { of: job.name, index } };
  if (job.port !== undefined) {
    instance.port = job.port + index - 1;
    env.PORT = String(instance.port);
  } else if (job.env.PORT !== undefined && /^[0-9]+$/.test(job.env.PORT)) {
    env.PORT = String(Number(job.env.PORT) + index - 1);
  }
  return instance;
}

/** The highest `replicas` a job's port leaves room for (port + N − 1 ≤ 65535). */
export function maxReplicasOf(job: JobConfig): number {
  const base = job.port ?? (job.env.PORT !== undefined && /^[0-9]+$/.test(job.env.PORT) ? Number(job.env.PORT) : 0);
  return Math.max(1, Math.min(MAX_REPLICAS, 65536 - base));
}

/** `jobs` with each job of `groups` replaced, in its place, by its instances. */
export function expandReplicas(
  jobs: readonly JobConfig[],
  groups: Readonly<Record<string, ReplicaGroup>>,
): JobConfig[] {
  return jobs.flatMap((job) => {
    const group = groups[job.name];
    if (!group) return [job];
    return Array.from({ length: group.replicas }, (_, i) => replicaConfig(group.job, i + 1));
  });
}

/** `config` with `job` run as `replicas` instances (`pidpilot scale`, or a reload keeping a scale). */
export function withReplicas(config: Config, job: string, replicas: number): Config {
  const groups = config.replicated ?? {};
  const group = groups[job];
  if (!group) throw new Error(`${job} has no replicas`);
  const first = config.jobs.findIndex((j) => j.replica?.of === job);
  const others = config.jobs.filter((j) => j.replica?.of !== job);
  const instances = Array.from({ length: replicas }, (_, i) => replicaConfig(group.job, i + 1));
  const jobs = [...others.slice(0, first), ...instances, ...others.slice(first)];
  return { ...config, jobs, replicated: { ...groups, [job]: { ...group, replicas } } };
}

/** The instances of `job` in `jobs` (none when it has no replicas). */
export function replicasOf(jobs: Iterable<JobConfig>, job: string): JobConfig[] {
  return [...jobs].filter((j) => j.replica?.of === job);
}
