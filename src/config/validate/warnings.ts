/**
 * What `validate` and the start-up log warn of: a configuration that runs, but maybe not as
 * its author meant.
 */
import type { Config, JobConfig } from '../types.js';
import { dependencyWarnings } from './dependencies.js';

/**
 * Jobs that share a name (docs/containerpilot.md#duplicate-job-names): ContainerPilot ran them
 * all, so pidpilot does too, and says which entries they are and how each is addressed.
 */
export function duplicateNameWarnings(jobs: readonly JobConfig[]): string[] {
  return jobs.flatMap((job) => {
    const dup = job.duplicateOf;
    if (!dup) return [];
    const name = JSON.stringify(dup.name);
    return [
      `jobs[${dup.firstIndex}] and jobs[${dup.index}] are both named ${name}: both run, publish their events and register in Consul under that name (as ContainerPilot does); status, control, dependsOn and the history call jobs[${dup.index}] ${JSON.stringify(job.name)}`,
    ];
  });
}

export function configWarnings(config: Pick<Config, 'jobs' | 'replicated'>): string[] {
  return [...duplicateNameWarnings(config.jobs), ...dependencyWarnings(config)];
}
