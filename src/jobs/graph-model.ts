/**
 * The picture of a configuration (README.md): jobs, their dependencies (from dependency to
 * dependent, labelled with the condition), their `when` triggers (from the source: a job,
 * its health check, a watch, a signal or `global`) and the watches. `pidpilot graph` prints
 * it as Mermaid or Graphviz; the control socket answers it at `/v3/graph` for the dashboard.
 */
import type { Config } from '../config/types.js';
import { sourceJob } from './graph.js';

export type NodeKind = 'job' | 'watch' | 'other';
export interface GraphNode {
  id: string;
  label: string;
  kind: NodeKind;
}
export interface GraphEdge {
  from: string;
  to: string;
  label: string;
  kind: 'dependency' | 'trigger';
}

export interface JobGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Nodes and edges, with stable ids (n0, n1 … in order of appearance). */
export function graphOf(config: Config): JobGraph {
  const nodes: GraphNode[] = [];
  const ids = new Map<string, string>();
  const node = (key: string, label: string, kind: NodeKind): string => {
    let id = ids.get(key);
    if (id === undefined) {
      id = `n${nodes.length}`;
      ids.set(key, id);
      nodes.push({ id, label, kind });
    }
    return id;
  };
  const names = new Set<string>();
  // A job with replicas is one node, `web ×3`: dependents and triggers name it, not its instances.
  const keyOf = (name: string): string => `job:${name}`;
  for (const job of config.jobs) {
    const of = job.replica?.of;
    if (of === undefined) node(keyOf(job.name), job.name, 'job');
    else node(keyOf(of), `${of} ×${config.replicated?.[of]?.replicas ?? '?'}`, 'job');
    names.add(of ?? job.name);
  }
  for (const watch of config.watches) node(`watch:${watch.name}`, `watch.${watch.name}`, 'watch');

  const edges: GraphEdge[] = [];
  for (const job of config.jobs) {
    if ((job.replica?.index ?? 1) > 1) continue; // the first instance draws the job's edges
    const to = ids.get(keyOf(job.replica?.of ?? job.name))!;
    for (const dep of job.dependsOn)
      edges.push({ from: ids.get(keyOf(dep.job))!, to, label: dep.condition, kind: 'dependency' });
    const when = job.when;
    if (when.kind !== 'event') continue;
    const fromJob = sourceJob(when.source, names);
    const watch = when.source.startsWith('watch.') ? when.source.slice('watch.'.length) : undefined;
    const from =
      fromJob !== undefined
        ? ids.get(keyOf(fromJob))!
        : watch !== undefined && ids.has(`watch:${watch}`)
          ? ids.get(`watch:${watch}`)!
          : node(`other:${when.source}`, when.source, 'other');
    const prefix = when.source.startsWith('check.') && fromJob !== undefined ? 'check ' : '';
    const label = when.code === 'signal' ? 'signal' : `${prefix}${when.mode} ${when.code}`;
    edges.push({ from, to, label, kind: 'trigger' });
  }
  return { nodes, edges };
}
