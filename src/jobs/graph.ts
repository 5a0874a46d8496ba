/**
 * Relations between jobs that order their teardown (docs/lifecycle.md).
 *
 * `stopAfter(job)` lists the jobs that must have stopped before `job` is stopped:
 * - a pre-stop/post-stop hook (a job whose `when` waits for another job's
 *   `stopping`/`stopped`) stops after the job it hooks, so it can still run;
 * - a dependency (`dependsOn`) stops after its dependents (Batect's teardown).
 * Edges that would form a cycle are dropped (reported by `cycles`), so teardown can
 * never deadlock; the global stop bound still applies. A job with `replicas` stands for each of
 * its instances: its hooks and dependents stop before every instance.
 */
import type { JobConfig } from '../config/types.js';
import { jobsPublishing } from './naming.js';
import { groupsOf } from './replicas.js';

export interface TeardownGraph {
  stopAfter(job: string): readonly string[];
  /** Pre-stop hooks of a job: jobs triggered by its `stopping` event. */
  preStopHooks(job: string): readonly string[];
  /** Cycles found and broken, each as a list of job names. */
  readonly cycles: readonly string[][];
}

/** True for a job that runs as a hook of another job's teardown. */
export function isStopHook(job: JobConfig): boolean {
  return job.when.kind === 'event' && (job.when.code === 'stopping' || job.when.code === 'stopped');
}

export function buildTeardownGraph(jobs: readonly JobConfig[]): TeardownGraph {
  const edges = new Map<string, string[]>(jobs.map((j) => [j.name, []]));
  const preStop = new Map<string, string[]>(jobs.map((j) => [j.name, []]));

  for (const job of jobs) {
    if (job.when.kind !== 'event' || !isStopHook(job) || job.when.source.startsWith('check.')) continue;
    // A hook of a name that duplicates share hooks each of them (as ContainerPilot's did).
    for (const hooked of jobsPublishing(job.when.source, jobs)) {
      if (hooked === job.name) continue;
      edges.get(job.name)!.push(hooked);
      if (job.when.code === 'stopping') preStop.get(hooked)!.push(job.name);
    }
  }
  const groups = groupsOf(jobs);
  for (const job of jobs) {
    for (const dep of job.dependsOn) {
      for (const name of groups.get(dep.job) ?? [dep.job]) {
        const after = edges.get(name);
        if (after && !after.includes(job.name)) after.push(job.name);
      }
    }
  }

  const cycles = breakCycles(edges);
  return {
    stopAfter: (job) => edges.get(job) ?? [],
    preStopHooks: (job) => preStop.get(job) ?? [],
    cycles,
  };
}

/** Depth-first search; removes the edge that closes each cycle found. */
function breakCycles(edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];

  const visit = (node: string): void => {
    state.set(node, 'visiting');
    path.push(node);
    const out = edges.get(node) ?? [];
    for (let i = 0; i < out.length; i++) {
      const next = out[i]!;
      const s = state.get(next);
      if (s === 'visiting') {
        cycles.push([...path.slice(path.indexOf(next)), next]);
        out.splice(i--, 1);
      } else if (s === undefined) {
        visit(next);
      }
    }
    path.pop();
    state.set(node, 'done');
  };

  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/** The job a `when.source` refers to (`check.x` is published for job x), if it names one. */
export function sourceJob(source: string, names: ReadonlySet<string>): string | undefined {
  const name = source.startsWith('check.') ? source.slice('check.'.length) : source;
  return names.has(name) ? name : undefined;
}

/**
 * Run mode (README.md): `target` and exactly the jobs it needs, transitively through
 * `dependsOn` and `when` sources, in the order of the file.
 */
export function jobsNeededBy(jobs: readonly JobConfig[], target: string): JobConfig[] {
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const groups = groupsOf(jobs);
  const needed = new Set<string>();
  const visit = (name: string): void => {
    for (const instance of groups.get(name) ?? []) visit(instance);
    const job = byName.get(name);
    if (!job || needed.has(name)) return;
    needed.add(name);
    for (const dep of job.dependsOn) visit(dep.job);
    if (job.when.kind === 'event') for (const source of jobsPublishing(job.when.source, jobs)) visit(source);
  };
  visit(target);
  return jobs.filter((j) => needed.has(j.name));
}
