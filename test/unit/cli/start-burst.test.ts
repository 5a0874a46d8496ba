/** V8's settings while the first jobs start and once the shutdown begins (lightStartBurst, lightShutdown: src/cli/run-supervisor.ts). */
import { describe, expect, it, vi } from 'vitest';

const setFlagsFromString = vi.fn();
vi.mock('../../../src/builtins.js', async (original) => ({
  ...(await original<typeof import('../../../src/builtins.js')>()),
  v8: () => ({ setFlagsFromString }),
}));

const { lightShutdown, lightStartBurst } = await import('../../../src/cli/run-supervisor.js');
const { Observers } = await import('../../../src/events/observers.js');

describe('lightStartBurst', () => {
  it("sets a young generation that does not grow and no TurboFan when the first job runs, and V8's defaults back after", () => {
    setFlagsFromString.mockClear();
    const observers = new Observers();
    const done = lightStartBurst(observers);
    observers.emit('state', 'a', 'starting', '');
    expect(setFlagsFromString).not.toHaveBeenCalled();
    observers.emit('state', 'a', 'running', '');
    expect(setFlagsFromString.mock.calls.map(([f]) => f)).toEqual(['--semi-space-growth-factor=1', '--no-turbofan']);
    observers.emit('state', 'b', 'running', '');
    expect(setFlagsFromString).toHaveBeenCalledTimes(2);
    done();
    expect(setFlagsFromString.mock.calls.slice(2).map(([f]) => f)).toEqual([
      '--semi-space-growth-factor=2',
      '--turbofan',
    ]);
    expect(observers.listenerCount('state')).toBe(0);
  });

  it('changes nothing when no job ran before the burst ended', () => {
    setFlagsFromString.mockClear();
    const observers = new Observers();
    lightStartBurst(observers)();
    observers.emit('state', 'a', 'running', '');
    expect(setFlagsFromString).not.toHaveBeenCalled();
  });
});

describe('lightShutdown', () => {
  it('turns TurboFan and parallel young-generation collections off when the shutdown begins, and nothing before', () => {
    setFlagsFromString.mockClear();
    const part = lightShutdown();
    expect(setFlagsFromString).not.toHaveBeenCalled();
    const ended = part.shutdown?.(5000);
    expect(setFlagsFromString.mock.calls.map(([f]) => f)).toEqual(['--no-turbofan', '--no-parallel-scavenge']);
    expect(ended?.beforeJobsStop).toBeUndefined(); // the jobs' stop waits for nothing of it
  });
});
