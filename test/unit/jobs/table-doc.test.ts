/**
 * docs/architecture.md carries the job's states × inputs table: every state and input
 * in code has its column and row there, and the table names nothing the code lacks.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JOB_INPUTS, JOB_STATES } from '../../../src/jobs/state.js';

const doc = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');
const lines = doc.split('\n');
const header = lines.findIndex((l) => l.startsWith('| input ＼ state |'));
const cells = (line: string): string[] =>
  line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim().replace(/`/g, ''));

describe('the state table in docs/architecture.md', () => {
  it('has a column for every state, and no other', () => {
    expect(header).toBeGreaterThan(-1);
    expect(cells(lines[header]!).slice(1)).toEqual([...JOB_STATES]);
  });

  it('has a row for every input, and no other, each with a cell per state', () => {
    const rows: string[][] = [];
    for (let i = header + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!));
    expect(rows.map((r) => r[0]).sort()).toEqual([...JOB_INPUTS].sort());
    for (const row of rows) expect(row, row[0]).toHaveLength(JOB_STATES.length + 1);
  });
});
