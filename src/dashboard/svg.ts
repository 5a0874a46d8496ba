/**
 * The job graph (src/jobs/graph-model.ts) drawn as SVG by pidpilot itself, so the page
 * needs no layout library and no network: nodes in columns by their longest chain of
 * incoming edges (dependencies flow left to right), edges as curves, labelled, dashed for
 * triggers. Each job's node carries `data-job` so the page can colour it by state.
 */
import type { GraphEdge, GraphNode, JobGraph } from '../jobs/graph-model.js';

const CHAR_W = 7.2;
const NODE_H = 30;
const PAD_X = 14;
const COL_GAP = 110;
const ROW_GAP = 22;
const MARGIN = 16;

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Column of each node: the longest chain of edges leading to it (cycles are cut at the node count). */
function columns(graph: JobGraph): Map<string, number> {
  const col = new Map(graph.nodes.map((n) => [n.id, 0]));
  const limit = graph.nodes.length;
  for (let round = 0; round < limit; round++) {
    let changed = false;
    for (const e of graph.edges) {
      const next = Math.min(limit, col.get(e.from)! + 1);
      if (e.from !== e.to && next > col.get(e.to)!) {
        col.set(e.to, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return col;
}

interface Box {
  node: GraphNode;
  x: number;
  y: number;
  w: number;
}

function layout(graph: JobGraph): { boxes: Map<string, Box>; width: number; height: number } {
  const col = columns(graph);
  const byCol = new Map<number, GraphNode[]>();
  for (const n of graph.nodes) byCol.set(col.get(n.id)!, [...(byCol.get(col.get(n.id)!) ?? []), n]);
  const boxes = new Map<string, Box>();
  let x = MARGIN;
  let height = 0;
  for (const c of [...byCol.keys()].sort((a, b) => a - b)) {
    const nodes = byCol.get(c)!;
    const w = Math.max(...nodes.map((n) => n.label.length * CHAR_W + 2 * PAD_X));
    nodes.forEach((node, i) => {
      const y = MARGIN + i * (NODE_H + ROW_GAP);
      boxes.set(node.id, { node, x, y, w });
      height = Math.max(height, y + NODE_H);
    });
    x += w + COL_GAP;
  }
  return { boxes, width: x - COL_GAP + MARGIN, height: height + MARGIN + 24 };
}

function nodeSvg(b: Box): string {
  const { node, x, y, w } = b;
  const label = `<text x="${x + w / 2}" y="${y + NODE_H / 2 + 4}" text-anchor="middle">${escapeXml(node.label)}</text>`;
  const job = node.kind === 'job' ? ` data-job="${escapeXml(node.label)}"` : '';
  let shape: string;
  if (node.kind === 'other') {
    const k = 10;
    const pts = [
      [x, y + NODE_H / 2],
      [x + k, y],
      [x + w - k, y],
      [x + w, y + NODE_H / 2],
      [x + w - k, y + NODE_H],
      [x + k, y + NODE_H],
    ];
    shape = `<polygon points="${pts.map((p) => p.join(',')).join(' ')}"/>`;
  } else {
    shape = `<rect x="${x}" y="${y}" width="${w}" height="${NODE_H}" rx="${node.kind === 'watch' ? NODE_H / 2 : 6}"/>`;
  }
  return `<g class="node ${node.kind}"${job}><title>${escapeXml(node.label)}</title>${shape}${label}</g>`;
}

function edgeSvg(e: GraphEdge, boxes: Map<string, Box>, height: number): string {
  const a = boxes.get(e.from)!;
  const b = boxes.get(e.to)!;
  const cls = `edge ${e.kind}`;
  let path: string;
  let lx: number;
  let ly: number;
  if (a.x < b.x) {
    const [x1, y1, x2, y2] = [a.x + a.w, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2];
    const dx = (x2 - x1) / 2;
    path = `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
    // The label sits near the target, where edges from one source have spread apart.
    const t = 0.72;
    const bez = (p0: number, p1: number, p2: number, p3: number): number =>
      (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t * t * p2 + t ** 3 * p3;
    [lx, ly] = [bez(x1, x1 + dx, x2 - dx, x2), bez(y1, y1, y2, y2) - 5];
  } else {
    // Back or same-column edge (a trigger cycle, a job triggered by itself): a loop below.
    const [x1, y1, x2, y2] = [a.x + a.w / 2, a.y + NODE_H, b.x + b.w / 2, b.y + NODE_H];
    const low = Math.min(height - 4, Math.max(y1, y2) + 26);
    path =
      x1 === x2 && y1 === y2
        ? `M${x1 - 10},${y1} C${x1 - 30},${low} ${x1 + 30},${low} ${x1 + 10},${y1}`
        : `M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2}`;
    [lx, ly] = [(x1 + x2) / 2, low - 2];
  }
  return `<g class="${cls}"><path d="${path}" marker-end="url(#arrow)"/><text x="${lx}" y="${ly}" text-anchor="middle">${escapeXml(e.label)}</text></g>`;
}

export function graphSvg(graph: JobGraph): string {
  const { boxes, width, height } = layout(graph);
  const edges = graph.edges.map((e) => edgeSvg(e, boxes, height)).join('');
  const nodes = [...boxes.values()].map(nodeSvg).join('');
  const defs =
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>';
  return `<svg xmlns="http://www.w3.org/2000/svg" class="job-graph" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" role="img" aria-label="jobs, dependencies and triggers">${defs}${edges}${nodes}</svg>`;
}
