import { describe, expect, it } from 'vitest';
import { graphSvg } from '../../../src/dashboard/svg.js';
import type { JobGraph } from '../../../src/jobs/graph-model.js';

const boxes = (svg: string): Map<string, { x: number; y: number }> =>
  new Map(
    [
      ...svg.matchAll(
        /<g class="node \w+"(?: data-job="([^"]+)")?><title>([^<]+)<\/title><(?:rect x="([\d.]+)" y="([\d.]+)"|polygon points="([\d.]+),([\d.]+))/g,
      ),
    ].map((m) => [m[2]!, { x: Number(m[3] ?? m[5]), y: Number(m[4] ?? m[6]) }]),
  );

describe('the job graph as SVG', () => {
  it('puts dependencies left of their dependents, one column per step, and draws every edge', () => {
    const graph: JobGraph = {
      nodes: [
        { id: 'n0', label: 'web', kind: 'job' },
        { id: 'n1', label: 'db', kind: 'job' },
        { id: 'n2', label: 'migrate', kind: 'job' },
        { id: 'n3', label: 'watch.conf', kind: 'watch' },
        { id: 'n4', label: 'SIGHUP', kind: 'other' },
      ],
      edges: [
        { from: 'n1', to: 'n2', label: 'healthy', kind: 'dependency' },
        { from: 'n2', to: 'n0', label: 'succeeded', kind: 'dependency' },
        { from: 'n3', to: 'n0', label: 'each changed', kind: 'trigger' },
        { from: 'n4', to: 'n0', label: 'signal', kind: 'trigger' },
        { from: 'n0', to: 'n0', label: 'each stopped', kind: 'trigger' },
      ],
    };
    const svg = graphSvg(graph);
    const at = boxes(svg);
    expect(at.get('db')!.x).toBeLessThan(at.get('migrate')!.x);
    expect(at.get('migrate')!.x).toBeLessThan(at.get('web')!.x);
    expect(at.get('watch.conf')!.x).toBe(at.get('db')!.x);
    expect(svg.match(/<g class="edge dependency">/g)).toHaveLength(2);
    expect(svg.match(/<g class="edge trigger">/g)).toHaveLength(3);
    expect(svg).toContain('data-job="web"');
    expect(svg).not.toContain('data-job="watch.conf"');
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it('escapes labels and survives a cycle', () => {
    const svg = graphSvg({
      nodes: [
        { id: 'n0', label: 'a<b>&"c"', kind: 'job' },
        { id: 'n1', label: 'z', kind: 'job' },
      ],
      edges: [
        { from: 'n0', to: 'n1', label: 'x', kind: 'trigger' },
        { from: 'n1', to: 'n0', label: "<script>alert('y')</script>", kind: 'trigger' },
      ],
    });
    expect(svg).not.toContain('<b>');
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('a&#60;b&#62;&#38;&#34;c&#34;');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
  });
});
