/**
 * A job with `replicas` seen as one (jobs/replicas.ts, docs/events.md#replicas): the events it
 * publishes from its instances', `dependsOn` over its instances, and the graph code (teardown
 * order, hooks, run mode, the picture).
 */
import { describe, expect, it } from 'vitest';
import { Bus } from '../../../src/events/bus.js';
import type { BusEvent, EventCode } from '../../../src/events/event.js';
import type { DependencyView } from '../../../src/jobs/dependencies.js';
import { buildTeardownGraph, jobsNeededBy } from '../../../src/jobs/graph.js';
import { graphOf } from '../../../src/jobs/graph-model.js';
import { GroupDependency, GroupEvents } from '../../../src/jobs/replicas.js';
import { unknownSources } from '../../../src/jobs/teardown.js';
import { check } from '../config/helpers.js';

/** A bus with GroupEvents over instances w-1…w-n of `w`; `removed` ones speak for nobody. */
function groupBus(n: number) {
  const bus = new Bus();
  const instances = Array.from({ length: n }, (_, i) => `w-${i + 1}`);
  const removed = new Set<string>();
  const events = new GroupEvents(bus, {
    groupOf: (name) => (instances.includes(name) && !removed.has(name) ? 'w' : undefined),
    instancesOf: () => instances.filter((i) => !removed.has(i)),
  });
  bus.observe(events.observe);
  const seen: string[] = [];
  bus.observe((e: BusEvent) => {
    if (e.source === 'w') seen.push(e.code);
  });
  const publish = (code: EventCode, source: string): string[] => {
    seen.length = 0;
    bus.publish(code, source);
    return [...seen];
  };
  return { publish, events, removed };
}

describe('the events of a job with replicas', () => {
  it('healthy once every instance is; unhealthy at any; a new run forgets the last one', () => {
    const { publish, events } = groupBus(2);
    expect(publish('healthy', 'w-1')).toEqual([]);
    expect(publish('healthy', 'w-2')).toEqual(['healthy']);
    expect(publish('healthy', 'w-1')).toEqual(['healthy']); // each check again, as ContainerPilot's
    expect(publish('unhealthy', 'w-1')).toEqual(['unhealthy']);
    expect(publish('healthy', 'w-2')).toEqual([]); // w-1 is unhealthy now
    expect(publish('healthy', 'w-1')).toEqual(['healthy']);
    events.stateChanged('w-1', 1);
    events.stateChanged('w-1', 2); // a new run of w-1
    expect(publish('healthy', 'w-2')).toEqual([]);
  });

  it('exitSuccess when all exited 0; exitFailed and failed at any', () => {
    const { publish } = groupBus(3);
    expect(publish('exitSuccess', 'w-1')).toEqual([]);
    expect(publish('exitFailed', 'w-2')).toEqual(['exitFailed']);
    expect(publish('failed', 'w-2')).toEqual(['failed']);
    expect(publish('exitSuccess', 'w-3')).toEqual([]);
  });

  it('stopping at the first instance to stop, stopped when the last has', () => {
    const { publish } = groupBus(2);
    expect(publish('stopping', 'w-2')).toEqual(['stopping']);
    expect(publish('stopping', 'w-1')).toEqual([]);
    expect(publish('stopped', 'w-2')).toEqual([]);
    expect(publish('stopped', 'w-1')).toEqual(['stopped']);
  });

  it('instances removed by scale speak for nobody, and the rest decide alone', () => {
    const { publish, removed } = groupBus(3);
    publish('healthy', 'w-1');
    publish('healthy', 'w-2');
    removed.add('w-3');
    expect(publish('stopping', 'w-3')).toEqual([]);
    expect(publish('unhealthy', 'w-3')).toEqual([]);
    expect(publish('healthy', 'w-2')).toEqual(['healthy']);
  });
});

describe('dependsOn a job with replicas', () => {
  const view = (state: DependencyView['state'], ready = false): DependencyView => ({
    state,
    ready,
    hasSetup: false,
    lastRunSucceeded: false,
  });
  it('is met once every instance has met it (met stays met), failed at the first failure', () => {
    const group = new GroupDependency();
    const judge = (views: Record<string, DependencyView>) => group.view('w', 'healthy', new Map(Object.entries(views)));
    expect(judge({ 'w-1': view('running', true), 'w-2': view('running') }).ready).toBe(false);
    // w-1 was met once: it stays met while it restarts
    expect(judge({ 'w-1': view('backoff'), 'w-2': view('running', true) }).ready).toBe(true);
    expect(judge({ 'w-1': view('running', true), 'w-2': view('failed') }).state).toBe('failed');
    expect(new GroupDependency().view('w', 'healthy', new Map([['w-1', view('stopped')]])).state).toBe('stopped');
  });
});

describe('a job with replicas in the graph code', () => {
  const cfg = check(`{ jobs: [
    { name: "w", exec: "a", replicas: 2 },
    { name: "after", exec: "b", dependsOn: ["w"] },
    { name: "hook", exec: "c", when: { source: "w", once: "stopping" } },
    { name: "typo", exec: "d", when: { source: "w-9", once: "healthy" } },
  ] }`);

  it('stops its dependents and hooks after every instance, and hooks each', () => {
    const graph = buildTeardownGraph(cfg.jobs);
    expect(graph.stopAfter('w-1')).toEqual(['after']);
    expect(graph.stopAfter('w-2')).toEqual(['after']);
    expect(graph.preStopHooks('w-1')).toEqual(['hook']);
    expect(graph.preStopHooks('w-2')).toEqual(['hook']);
    expect(graph.stopAfter('hook')).toEqual(['w-1', 'w-2']);
  });

  it('run mode takes every instance; its name is a known source, an instance that does not exist is not', () => {
    expect(jobsNeededBy(cfg.jobs, 'after').map((j) => j.name)).toEqual(['w-1', 'w-2', 'after']);
    expect(unknownSources(cfg.jobs, () => false).map((u) => [u.job.name, u.source])).toEqual([['typo', 'w-9']]);
  });

  it('is one node in the picture, with its count', () => {
    const g = graphOf(cfg);
    expect(g.nodes.map((n) => n.label)).toEqual(['w ×2', 'after', 'hook', 'typo', 'w-9']);
    const label = (id: string) => g.nodes.find((n) => n.id === id)!.label;
    expect(g.edges.map((e) => [label(e.from), label(e.to), e.label])).toEqual([
      ['w ×2', 'after', 'succeeded'],
      ['w ×2', 'hook', 'once stopping'],
      ['w-9', 'typo', 'once healthy'],
    ]);
  });
});
