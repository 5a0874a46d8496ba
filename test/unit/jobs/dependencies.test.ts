/** judgeDependency: each condition of docs/configuration.md against the states a dependency goes through. */
import { describe, expect, it } from 'vitest';
import { type DependencyView, judgeDependency } from '../../../src/jobs/dependencies.js';

const view = (fields: Partial<DependencyView>): DependencyView => ({
  state: 'pending',
  ready: false,
  hasSetup: false,
  lastRunSucceeded: false,
  ...fields,
});

describe('judgeDependency', () => {
  it('a failed dependency fails every condition', () => {
    for (const c of ['healthy', 'succeeded', 'started'] as const)
      expect(judgeDependency(c, view({ state: 'failed' }))).toBe('failed');
  });

  it('healthy: met when ready (health passed and setup done), not merely healthy', () => {
    expect(judgeDependency('healthy', view({ state: 'running', ready: false }))).toBe('waiting');
    expect(judgeDependency('healthy', view({ state: 'running', ready: true }))).toBe('met');
    expect(judgeDependency('healthy', view({ state: 'stopped' }))).toBe('unreachable');
    expect(judgeDependency('healthy', view({ state: 'completed' }))).toBe('unreachable');
  });

  it('succeeded: completed, or back to pending after a successful run', () => {
    expect(judgeDependency('succeeded', view({ state: 'running' }))).toBe('waiting');
    expect(judgeDependency('succeeded', view({ state: 'completed' }))).toBe('met');
    expect(judgeDependency('succeeded', view({ state: 'pending', lastRunSucceeded: true }))).toBe('met');
    expect(judgeDependency('succeeded', view({ state: 'starting' }))).toBe('waiting'); // restarting after a failure
    expect(judgeDependency('succeeded', view({ state: 'stopped' }))).toBe('unreachable');
  });

  it('started: running is enough without setup; with setup, it waits for ready', () => {
    expect(judgeDependency('started', view({ state: 'starting' }))).toBe('waiting');
    expect(judgeDependency('started', view({ state: 'running' }))).toBe('met');
    expect(judgeDependency('started', view({ state: 'running', ready: false }))).toBe('met');
    expect(judgeDependency('started', view({ state: 'running', hasSetup: true }))).toBe('waiting');
    expect(judgeDependency('started', view({ state: 'running', hasSetup: true, ready: true }))).toBe('met');
    expect(judgeDependency('started', view({ state: 'completed' }))).toBe('met');
  });
});
