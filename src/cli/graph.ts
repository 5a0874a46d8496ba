/**
 * `pidpilot graph [-config FILE] [-format mermaid|dot]` (README.md): the jobs, their
 * dependencies (solid edges, labelled with the condition, from dependency to dependent),
 * their `when` triggers (dashed edges from the source: a job, its health check, a watch,
 * a signal or `global`) and the watches, as a Mermaid flowchart or a Graphviz digraph.
 */

import { ConfigErrors } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { graphOf, type NodeKind } from '../jobs/graph-model.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { configPath, reportConfigErrors } from './config-file.js';

export { graphOf };

const mermaidText = (s: string): string => `"${s.replace(/"/g, '#quot;')}"`;

export function toMermaid(config: Config): string {
  const { nodes, edges } = graphOf(config);
  const lines = ['flowchart LR'];
  for (const n of nodes) {
    const label = mermaidText(n.label);
    lines.push(`  ${n.id}${n.kind === 'job' ? `[${label}]` : n.kind === 'watch' ? `[(${label})]` : `{{${label}}}`}`);
  }
  for (const e of edges)
    lines.push(`  ${e.from} ${e.kind === 'dependency' ? '-->' : '-.->'}|${mermaidText(e.label)}| ${e.to}`);
  return `${lines.join('\n')}\n`;
}

export function toDot(config: Config): string {
  const { nodes, edges } = graphOf(config);
  const q = (s: string): string => JSON.stringify(s);
  const shape: Record<NodeKind, string> = { job: 'box', watch: 'cylinder', other: 'hexagon' };
  const lines = ['digraph pidpilot {', '  rankdir=LR;'];
  for (const n of nodes) lines.push(`  ${n.id} [label=${q(n.label)}, shape=${shape[n.kind]}];`);
  for (const e of edges)
    lines.push(`  ${e.from} -> ${e.to} [label=${q(e.label)}${e.kind === 'trigger' ? ', style=dashed' : ''}];`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export function graph(args: ParsedArgs): number {
  const format = args.flags.format ?? 'mermaid';
  if (format !== 'mermaid' && format !== 'dot')
    throw new UsageError(`-format must be "mermaid" or "dot", got "${String(format)}"`);
  let config: Config;
  try {
    config = loadConfig(configPath(args), process.env);
  } catch (err) {
    if (err instanceof ConfigErrors) return reportConfigErrors(err);
    throw err;
  }
  process.stdout.write(format === 'dot' ? toDot(config) : toMermaid(config));
  return 0;
}
