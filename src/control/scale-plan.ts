/**
 * `scale JOB N` (docs/control-api.md#scale), decided from the configuration alone: the
 * configuration with N instances of the job, or why it cannot be (nothing changes then); and
 * what a reload does with a scale (docs/configuration.md#replicas): a job keeps the count it was
 * scaled to while the file's `replicas` for it stays what it was; a new value in the file wins.
 */
import { MAX_REPLICAS, maxReplicasOf, withReplicas } from '../config/replicas.js';
import type { Config } from '../config/types.js';
import type { ScaleResult } from './target.js';

export type ScaleRefusal = Extract<ScaleResult, { ok: false }>;

export function planScale(config: Config, job: string, replicas: number): Config | ScaleRefusal {
  const group = config.replicated?.[job];
  if (!group) {
    const found = config.jobs.find((j) => j.name === job);
    if (!found) return { ok: false, status: 404, error: `no such job: ${job}` };
    const error = found.replica
      ? `${job} is an instance of ${found.replica.of}: scale ${found.replica.of}`
      : `job ${job} has no replicas: give it \`replicas\` in the configuration (and reload) to scale it`;
    return { ok: false, status: 409, error };
  }
  const max = maxReplicasOf(group.job);
  if (!Number.isSafeInteger(replicas) || replicas < 1 || replicas > max)
    return {
      ok: false,
      status: 422,
      error: `replicas of ${job} must be a whole number from 1 to ${max}${max < MAX_REPLICAS ? ` (its port ${group.job.port ?? group.job.env.PORT} + replicas − 1 must stay ≤ 65535)` : ''}, not ${replicas}`,
    };
  return withReplicas(config, job, replicas);
}

/** The counts jobs were scaled to, and the file's count each scale was made over. */
export class Scales {
  private readonly scaled = new Map<string, { replicas: number; fileReplicas: number }>();

  constructor(private fileCounts: ReadonlyMap<string, number>) {}

  /** A scale was applied. */
  set(job: string, replicas: number): void {
    this.scaled.set(job, { replicas, fileReplicas: this.fileCounts.get(job) ?? replicas });
  }

  /** `next`, freshly loaded, with the scales that still hold applied; scales the file overrode are forgotten. */
  keep(next: Config): Config {
    this.fileCounts = replicaCounts(next);
    let config = next;
    for (const [job, { replicas, fileReplicas }] of this.scaled) {
      if (this.fileCounts.get(job) !== fileReplicas) this.scaled.delete(job);
      else if (replicas !== fileReplicas) config = withReplicas(config, job, replicas);
    }
    return config;
  }
}

export function replicaCounts(config: Config): Map<string, number> {
  return new Map(Object.entries(config.replicated ?? {}).map(([name, g]) => [name, g.replicas]));
}
