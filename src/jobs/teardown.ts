/**
 * The jobs' side of ending (docs/lifecycle.md): stopping every job in teardown order, and noticing
 * when nothing is left to run, so pidpilot can end by itself.
 */
import type { JobConfig } from '../config/types.js';
import { GLOBAL_SOURCE, SIGNAL_SOURCES } from '../events/event.js';
import type { Job } from './job.js';
import type { JobSet } from './job-set.js';
import { publishersOf } from './naming.js';
import { groupsOf } from './replicas.js';
import { isAwaiting, isTerminal } from './state.js';

/**
 * Stops every job in reverse dependency order: a job gets its `stop` once `after` has
 * resolved and every job that must stop before it (graph.ts) has ended; unrelated jobs stop
 * concurrently. Resolves when every job's loop has ended.
 */
export function stopInOrder(jobs: JobSet, reason: string, after: Promise<unknown>): Promise<void> {
  jobs.closing = true;
  const loops: Array<Promise<void> | undefined> = [];
  const stop = (job: Job) => () => job.requestStop(reason);
  for (const [name, job] of jobs.current) {
    const before = jobs.graph.stopAfter(name);
    // Most jobs wait for nothing but `after`: no Promise.all (and its arrays) for each of them.
    if (before.length === 0) void after.then(stop(job));
    else void Promise.all([...before.map((n) => jobs.loopOf(n)), after]).then(stop(job));
    loops.push(jobs.loopOf(name));
  }
  return Promise.all(loops).then(() => undefined);
}

/** A source other parts publish for as long as pidpilot runs (a watch): never dead. */
export type LiveSource = (source: string) => boolean;

/** True when `source` is the global source, a signal, or one of `live`'s. */
function alwaysLive(source: string, live: LiveSource): boolean {
  return source === GLOBAL_SOURCE || (SIGNAL_SOURCES as readonly string[]).includes(source) || live(source);
}

/**
 * True when no job can run any more: every job has ended, or waits for a trigger or a
 * dependency that can no longer come — its source is a job that has ended or is itself
 * stuck in that way (computed as a fixpoint, so a chain behind a failed job is seen through).
 */
export function nothingLeftToRun(jobs: ReadonlyMap<string, Job>, live: LiveSource): boolean {
  const dead = new Set<string>();
  for (const [name, job] of jobs) if (isTerminal(job.currentState)) dead.add(name);
  const configs = Array.from(jobs.values(), (job) => job.config);
  // A dependency on a job with replicas is dead once every instance is.
  const groups = groupsOf(configs);
  const isDead = (name: string): boolean => dead.has(name) || (groups.get(name)?.every((n) => dead.has(n)) ?? false);
  const publishers = publishersOf(configs);
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, job] of jobs) {
      if (dead.has(name) || !waitsOnlyOn(job, publishers, isDead, live)) continue;
      dead.add(name);
      changed = true;
    }
  }
  return dead.size === jobs.size;
}

/**
 * Awaiting, idle, and what it waits for can only come from jobs in `dead` (or from
 * nowhere): a dependency that is dead and not met, or a trigger whose source is dead.
 */
function waitsOnlyOn(
  job: Job,
  publishers: (source: string) => readonly string[],
  isDead: (name: string) => boolean,
  live: LiveSource,
): boolean {
  if (!isAwaiting(job.currentState) || !job.idle) return false;
  if (job.unmetDependencies().some(isDead)) return true;
  const when = job.config.when;
  if (when.kind !== 'event') return false;
  if (when.timeout !== undefined && job.snapshot().runs === 0) return false; // its timer will still fire
  if (alwaysLive(when.source, live)) return false;
  // Duplicates publish under one name: the source is dead once all of them are.
  return publishers(when.source).every(isDead);
}

/** The jobs whose `when.source` nothing can ever publish (almost always a typo), with that source. */
export function unknownSources(
  jobs: readonly JobConfig[],
  live: LiveSource,
): Array<{ job: JobConfig; source: string }> {
  const unknown: Array<{ job: JobConfig; source: string }> = [];
  const publishers = publishersOf(jobs);
  for (const job of jobs) {
    if (job.when.kind !== 'event') continue;
    const source = job.when.source;
    if (!alwaysLive(source, live) && publishers(source).length === 0) unknown.push({ job, source });
  }
  return unknown;
}
