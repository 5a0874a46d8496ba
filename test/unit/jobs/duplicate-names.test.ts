/**
 * Jobs of one name (docs/containerpilot.md#duplicate-job-names) as the graph code sees them:
 * a `when.source` of the shared name belongs to every duplicate, for teardown order, hooks,
 * run mode and the "nothing can publish it" warning.
 */
import { describe, expect, it } from 'vitest';
import { buildTeardownGraph, jobsNeededBy } from '../../../src/jobs/graph.js';
import { checkSourceOf, jobsPublishing, publishedName, publishersOf } from '../../../src/jobs/naming.js';
import { unknownSources } from '../../../src/jobs/teardown.js';
import { check } from '../config/helpers.js';

const cfg = check(`{ jobs: [
  { name: "w", exec: "a" },
  { name: "w", exec: "b", health: { exec: "c", interval: 5, ttl: 10 } },
  { name: "hook", exec: "d", when: { source: "w", once: "stopping" } },
  { name: "on-check", exec: "e", when: { source: "check.w", once: "exitSuccess" } },
] }`);

describe('duplicate job names in the graph', () => {
  it('the second is w#2 and publishes as w; check.w is both jobs’ check', () => {
    expect(cfg.jobs.map((j) => [j.name, publishedName(j), checkSourceOf(j)])).toEqual([
      ['w', 'w', 'check.w'],
      ['w#2', 'w', 'check.w'],
      ['hook', 'hook', 'check.hook'],
      ['on-check', 'on-check', 'check.on-check'],
    ]);
    expect(jobsPublishing('w', cfg.jobs)).toEqual(['w', 'w#2']);
    expect(jobsPublishing('check.w', cfg.jobs)).toEqual(['w', 'w#2']);
    expect(jobsPublishing('w#2', cfg.jobs)).toEqual([]);
  });

  it('the index of publishers answers as jobsPublishing does, for duplicates, checks and replicas', () => {
    const mixed = check(`{ jobs: [
      { name: "w", exec: "a" },
      { name: "w", exec: "b" },
      { name: "r", exec: "c", replicas: 2 },
      { name: "x", exec: "d" },
    ] }`);
    const publishers = publishersOf(mixed.jobs);
    for (const source of ['w', 'check.w', 'w#2', 'r', 'r-1', 'check.r-2', 'check.r', 'x', 'nobody', 'check.nobody'])
      expect([...publishers(source)].sort()).toEqual(jobsPublishing(source, mixed.jobs).sort());
    expect(publishers('r')).toEqual(['r-1', 'r-2']);
  });

  it('a stopping hook of the shared name hooks both, and stops after both', () => {
    const graph = buildTeardownGraph(cfg.jobs);
    expect(graph.preStopHooks('w')).toEqual(['hook']);
    expect(graph.preStopHooks('w#2')).toEqual(['hook']);
    expect(graph.stopAfter('hook')).toEqual(['w', 'w#2']);
  });

  it('run mode takes every job that publishes the source a target waits for', () => {
    expect(jobsNeededBy(cfg.jobs, 'hook').map((j) => j.name)).toEqual(['w', 'w#2', 'hook']);
  });

  it('a source only a duplicate publishes is known; the name#2 form is not a source', () => {
    expect(unknownSources(cfg.jobs, () => false)).toEqual([]);
    const typo = check(
      '{ jobs: [{ name: "w", exec: "a" }, { name: "w", exec: "b" }, { name: "x", exec: "c", when: { source: "w#2", once: "stopped" } }] }',
    );
    expect(unknownSources(typo.jobs, () => false).map((u) => u.source)).toEqual(['w#2']);
  });
});
