/**
 * A job with `replicas` seen as one (docs/configuration.md#replicas, docs/events.md#replicas): its
 * instances `web-1` … `web-N` are ordinary jobs; their dependents and the jobs their events
 * trigger name `web`. Here:
 * - `GroupDependency` judges `dependsOn: web` over every instance: met once each instance has met
 *   the condition (a met instance stays met), failed as soon as one fails, unreachable when one
 *   ended without meeting it;
 * - `GroupEvents` publishes the job's own events from `web`: `healthy`, `exitSuccess`, `ready` and
 *   `stopped` when the last instance gets there, `unhealthy`, `exitFailed`, `failed` and
 *   `timerExpired` at each instance's, `stopping` when the first instance begins to stop.
 * Instances being removed by `scale` (or replaced) speak for nobody.
 */
import type { DependencyCondition, JobConfig } from '../config/types.js';
import type { Bus } from '../events/bus.js';
import type { BusEvent, EventCode } from '../events/event.js';
import { type DependencyView, judgeDependency } from './dependencies.js';

/** The groups of `jobs`: each replicated job's name → its instances' names, in order. */
export function groupsOf(jobs: Iterable<JobConfig>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const job of jobs) {
    if (!job.replica) continue;
    const list = groups.get(job.replica.of);
    if (list) list.push(job.name);
    else groups.set(job.replica.of, [job.name]);
  }
  return groups;
}

/** A view that `judgeDependency` judges as `verdict` whatever the condition. */
const VIEWS = {
  met: { state: 'completed', ready: true, hasSetup: false, lastRunSucceeded: true },
  failed: { state: 'failed', ready: false, hasSetup: false, lastRunSucceeded: false },
  unreachable: { state: 'stopped', ready: false, hasSetup: false, lastRunSucceeded: false },
  waiting: { state: 'waiting', ready: false, hasSetup: true, lastRunSucceeded: false },
} as const satisfies Record<string, DependencyView>;

export class GroupDependency {
  /** Instances that have met each condition, by `group:condition`. */
  private readonly met = new Map<string, Set<string>>();

  /** The view of `group` a dependent waiting for `condition` gets, from its instances' views. */
  view(group: string, condition: DependencyCondition, instances: ReadonlyMap<string, DependencyView>): DependencyView {
    const key = `${group}:${condition}`;
    let met = this.met.get(key);
    if (!met) this.met.set(key, (met = new Set()));
    let verdict: keyof typeof VIEWS = 'met';
    for (const [name, view] of instances) {
      const judged = judgeDependency(condition, view);
      if (judged === 'met') met.add(name);
      if (judged === 'failed') return VIEWS.failed;
      if (met.has(name)) continue;
      if (judged === 'unreachable') verdict = 'unreachable';
      else if (verdict === 'met') verdict = 'waiting';
    }
    return VIEWS[verdict];
  }
}

type Family = 'health' | 'exit' | 'ready' | 'stop';
const FAMILY: Partial<Record<EventCode, Family>> = {
  healthy: 'health',
  unhealthy: 'health',
  exitSuccess: 'exit',
  exitFailed: 'exit',
  ready: 'ready',
  stopping: 'stop',
  stopped: 'stop',
};
/** Published by the group when every instance's last event of its kind is this one. */
const ALL: ReadonlySet<EventCode> = new Set(['healthy', 'exitSuccess', 'ready', 'stopped']);
/** Published by the group at each instance's. */
const ANY: ReadonlySet<EventCode> = new Set(['unhealthy', 'exitFailed', 'failed', 'timerExpired']);

export interface GroupMembership {
  /** The group of an instance, if `name` is one (and not being removed or replaced). */
  groupOf(name: string): string | undefined;
  /** The current instances of `group`. */
  instancesOf(group: string): readonly string[];
}

export class GroupEvents {
  /** Each instance's last event of each family. */
  private readonly last = new Map<string, Map<Family, EventCode>>();
  /** Each instance's run number when its state last changed. */
  private readonly runs = new Map<string, number>();
  /** Groups whose `stopping` was published, until they have stopped or run again. */
  private readonly stopping = new Set<string>();

  constructor(
    private readonly bus: Bus,
    private readonly groups: GroupMembership,
  ) {}

  /** The bus observer. */
  readonly observe = (event: BusEvent): void => {
    const group = this.groups.groupOf(event.source);
    const family = FAMILY[event.code];
    if (group === undefined || (family === undefined && !ANY.has(event.code))) return;
    if (family !== undefined) this.lastOf(event.source).set(family, event.code);
    if (ANY.has(event.code)) return void this.bus.publish(event.code, group);
    if (event.code === 'stopping') {
      if (!this.stopping.has(group)) {
        this.stopping.add(group);
        this.bus.publish('stopping', group);
      }
      return;
    }
    if (ALL.has(event.code) && this.allAt(group, family!, event.code)) {
      if (event.code === 'stopped') this.stopping.delete(group);
      this.bus.publish(event.code, group);
    }
  };

  /** An instance changed state; a new run (`runs` moved on) forgets what its earlier runs reached. */
  stateChanged(name: string, runs: number): void {
    if (this.runs.get(name) === runs) return;
    this.runs.set(name, runs);
    this.last.delete(name);
    const group = this.groups.groupOf(name);
    if (group !== undefined && this.groups.instancesOf(group).every((n) => !this.last.get(n)?.has('stop')))
      this.stopping.delete(group);
  }

  /** An instance is gone (scale, reload). */
  forget(name: string): void {
    this.last.delete(name);
    this.runs.delete(name);
  }

  private allAt(group: string, family: Family, code: EventCode): boolean {
    return this.groups.instancesOf(group).every((n) => this.last.get(n)?.get(family) === code);
  }

  private lastOf(name: string): Map<Family, EventCode> {
    let map = this.last.get(name);
    if (!map) this.last.set(name, (map = new Map()));
    return map;
  }
}
