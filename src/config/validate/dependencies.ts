/**
 * Cross-job rules of `dependsOn` (docs/configuration.md), checked once every job has been read:
 * a dependency names another job, the graph has no cycle (the error names it), and
 * each dependency gets its condition — as written, or the default: a service (a job with
 * `setup`, `port`, `health`, `restarts` other than never/0, or `when.interval`) is waited
 * for until `started` (`healthy` when it has a health check); only the rest are one-shots,
 * waited for until they have `succeeded`. `dependencyWarnings` names the conditions that
 * can never be met as configured.
 */
import { nearest } from '../errors.js';
import { groupName } from '../replicas.js';
import { type Config, type DependencyCondition, isScheduled, type JobConfig } from '../types.js';
import type { At } from './core.js';
import type { DependencyDraft } from './lifecycle.js';

export interface DependencyDrafts {
  job: JobConfig;
  /** Where the job's `dependsOn` is, for errors. */
  at: At;
  drafts: readonly DependencyDraft[];
}

/** A job that keeps running or runs again (as opposed to a one-shot). */
export function isService(job: JobConfig): boolean {
  return (
    job.health !== undefined ||
    job.setup.length > 0 ||
    job.port !== undefined ||
    job.restarts !== 0 ||
    isScheduled(job.when)
  );
}

export function defaultCondition(dep: JobConfig): DependencyCondition {
  if (dep.health) return 'healthy';
  return isService(dep) ? 'started' : 'succeeded';
}

/** Dependencies that can never be met as configured, in words (for `validate` and the start-up log). */
export function dependencyWarnings(config: Pick<Config, 'jobs' | 'replicated'>): string[] {
  // A replicated job is one dependency (and one dependent: its first instance speaks for it).
  const jobs = config.jobs.filter((j) => (j.replica?.index ?? 1) === 1);
  const byName = new Map(jobs.map((j) => [groupName(j), j]));
  const warnings: string[] = [];
  for (const job of jobs) {
    for (const { job: name, condition } of job.dependsOn) {
      const dep = byName.get(name);
      if (!dep || condition !== 'succeeded') continue;
      const why = !dep.exec
        ? 'it has no exec, so it never exits'
        : dep.restarts === Infinity && !isScheduled(dep.when)
          ? 'it has restarts: "unlimited", so it never ends with a success'
          : null;
      if (why)
        warnings.push(
          `job ${JSON.stringify(groupName(job))} waits for ${JSON.stringify(name)} to have succeeded, but ${why}: ${JSON.stringify(groupName(job))} will never start (use condition "started"?)`,
        );
    }
  }
  return warnings;
}

/** Fills in every job's `dependsOn`, or reports what is wrong (and leaves the jobs as they are). */
export function resolveDependencies(all: readonly DependencyDrafts[], jobs: readonly JobConfig[]): void {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  let ok = true;
  for (const { job, at, drafts } of all) {
    drafts.forEach((d, i) => {
      if (d.job === job.name) {
        at.child(i).error(`job ${JSON.stringify(job.name)} cannot depend on itself`, {
          expected: 'the name of another job',
        });
        ok = false;
      } else if (!byName.has(d.job)) {
        const suggestion = nearest(
          d.job,
          [...byName.keys()].filter((n) => n !== job.name),
        );
        at.child(i).error(
          `no job named ${JSON.stringify(d.job)}${suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ''}`,
          {
            expected: 'the name of a job',
            ...(suggestion ? { suggestion } : {}),
          },
        );
        ok = false;
      }
    });
  }
  if (!ok) return;
  const atOf = new Map(all.map((d) => [d.job.name, d.at]));
  for (const cycle of findCycles(all)) {
    atOf
      .get(cycle[0]!)!
      .error(`dependsOn forms a cycle: ${cycle.join(' -> ')}`, { expected: 'dependencies without a cycle' });
    ok = false;
  }
  if (!ok) return;
  for (const { job, drafts } of all) {
    job.dependsOn = drafts.map((d) => ({ job: d.job, condition: d.condition ?? defaultCondition(byName.get(d.job)!) }));
  }
}

/** Each elementary cycle met by a depth-first search, as `a -> b -> a`, reported once. */
function findCycles(all: readonly DependencyDrafts[]): string[][] {
  const edges = new Map(all.map((d) => [d.job.name, d.drafts.map((x) => x.job)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    state.set(node, 'visiting');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'visiting') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const name of edges.keys()) if (!state.has(name)) visit(name);
  return cycles;
}
