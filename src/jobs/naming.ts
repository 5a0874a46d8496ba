/**
 * Names and numbers derived from jobs, shared by the supervisor and the CLI.
 */
import { constants } from 'node:os';
import type { JobConfig } from '../config/types.js';
import type { RunRecord } from '../process/types.js';

/**
 * The name a job publishes its events (and its check's, `check.<name>`) and registers its
 * service under: its own, or for a duplicate (`web#2`) the name it shares with the first.
 */
export function publishedName(job: Pick<JobConfig, 'name' | 'duplicateOf'>): string {
  return job.duplicateOf?.name ?? job.name;
}

/** The source of a job's health-check results; duplicates share it (one service, one health, as in ContainerPilot). */
export function checkSourceOf(job: Pick<JobConfig, 'name' | 'duplicateOf'>): string {
  return `check.${publishedName(job)}`;
}

/**
 * The names of the jobs whose events carry `source` (`check.<name>` counts as its job's), or
 * make them: the instances of a job with `replicas` make its events (jobs/replicas.ts).
 */
export function jobsPublishing(
  source: string,
  jobs: Iterable<Pick<JobConfig, 'name' | 'duplicateOf' | 'replica'>>,
): string[] {
  const check = source.startsWith('check.');
  const name = check ? source.slice('check.'.length) : source;
  const found: string[] = [];
  for (const job of jobs) if (publishedName(job) === name || (!check && job.replica?.of === name)) found.push(job.name);
  return found;
}

/**
 * `jobsPublishing` for many sources over one set of jobs: the jobs are indexed once, so a
 * check that asks for every job's source costs O(jobs), not O(jobs²) (a 200-job chain asked
 * 40,000 times per check). The names come grouped (published name, then instances), not in
 * the file's order.
 */
export function publishersOf(
  jobs: Iterable<Pick<JobConfig, 'name' | 'duplicateOf' | 'replica'>>,
): (source: string) => readonly string[] {
  const byName = new Map<string, string[]>();
  const byGroup = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, name: string): void => {
    const list = map.get(key);
    if (list) list.push(name);
    else map.set(key, [name]);
  };
  for (const job of jobs) {
    add(byName, publishedName(job), job.name);
    if (job.replica) add(byGroup, job.replica.of, job.name);
  }
  return (source) => {
    if (source.startsWith('check.')) return byName.get(source.slice('check.'.length)) ?? [];
    const named = byName.get(source);
    const group = byGroup.get(source);
    if (group === undefined) return named ?? [];
    return named === undefined ? group : [...new Set([...named, ...group])];
  };
}

/** `CONTAINERPILOT_{JOB}_PID`: job name upper-cased, `-` → `_` (ContainerPilot's spelling). */
export function pidEnvName(job: string): string {
  return `CONTAINERPILOT_${envNamePart(job)}_PID`;
}

export function envNamePart(job: string): string {
  return job.toUpperCase().replace(/-/g, '_');
}

/** A run's exit status as a shell reports it: the code, or 128 + signal number if it was killed. */
export function exitStatusOf(record: Pick<RunRecord, 'code' | 'signal'>): number {
  if (record.code !== null) return record.code;
  if (record.signal !== null) return 128 + (constants.signals[record.signal] ?? 0);
  return 1;
}
