import { describe, expect, it } from 'vitest';
import { planReload } from '../../../src/control/reload-plan.js';
import { config, job } from '../../support/jobs.js';

describe('planReload', () => {
  it('sorts jobs into unchanged, changed, added and removed, whatever the key order', () => {
    const before = config([job('a', { exec: ['sleep', '1'] }), job('b', { exec: ['sleep', '2'] }), job('c')]);
    const reordered = Object.fromEntries(Object.entries(job('a', { exec: ['sleep', '1'] })).reverse()) as ReturnType<
      typeof job
    >;
    const after = config([job('d'), reordered, job('b', { exec: ['sleep', '3'] })]);
    expect(planReload(before, after)).toEqual({
      unchanged: ['a'],
      changed: ['b'],
      added: ['d'],
      removed: ['c'],
      notApplied: [],
    });
  });

  it('a change of a job detail (a restart count, a health interval) is a change', () => {
    const before = config([job('a', { restarts: 1 })]);
    expect(planReload(before, config([job('a', { restarts: Infinity })])).changed).toEqual(['a']);
  });

  it('reports sections bound at start as not applied', () => {
    const before = config([job('a')]);
    const after = config([job('a')], {
      logging: { level: 'info', format: 'json', output: 'stdout' },
      control: { socket: '/x' },
      stopTimeout: 1,
    });
    expect(planReload(before, after).notApplied).toEqual(['logging', 'control']);
  });
});
