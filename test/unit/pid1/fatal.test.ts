/**
 * The internal-error handler on its own. Its wiring into the real process (an uncaught
 * exception and an unhandled rejection in a running pidpilot) is tested in
 * test/integration/pid1.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SupervisorLogger } from '../../../src/log/logger.js';
import { describeError, FATAL_GRACE_MS, fatalHandler } from '../../../src/pid1/fatal.js';

function setup(shutdown: (reason: string) => void = () => {}, shuttingDown = false) {
  const logged: string[] = [];
  const exits: number[] = [];
  const shutdowns: string[] = [];
  const log = { fatal: (msg: string) => logged.push(msg) } as unknown as SupervisorLogger;
  const h = fatalHandler({
    log,
    shutdown: (reason) => {
      shutdowns.push(reason);
      shutdown(reason);
    },
    shuttingDown: () => shuttingDown,
    stopTimeoutMs: 1000,
    exit: (status) => exits.push(status),
  });
  return { ...h, logged, exits, shutdowns };
}

describe('fatalHandler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the stack, starts one ordered shutdown, and marks the run failed', () => {
    const f = setup();
    f.onError(new Error('first'), 'uncaughtException');
    f.onError(new Error('second'), 'unhandledRejection');
    expect(f.state.failed).toBe(true);
    expect(f.shutdowns).toEqual(['internal error']);
    expect(f.logged).toHaveLength(2);
    expect(f.logged[0]).toMatch(/^internal error \(uncaughtException\): Error: first\n\s+at /);
    expect(f.logged[1]).toMatch(/^internal error \(unhandledRejection\): Error: second\n/);
    expect(f.exits).toEqual([]);
  });

  it('during a shutdown already under way, does not ask again (that would escalate to SIGKILL), but still bounds it', () => {
    const f = setup(() => {}, true);
    f.onError(new Error('late'), 'uncaughtException');
    expect(f.state.failed).toBe(true);
    expect(f.shutdowns).toEqual([]);
    vi.advanceTimersByTime(1000 + FATAL_GRACE_MS);
    expect(f.exits).toEqual([1]);
  });

  it('exits 1 by itself if the shutdown has not ended stopTimeout + grace later', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const f = setup();
    f.onError(new Error('x'), 'uncaughtException');
    vi.advanceTimersByTime(1000 + FATAL_GRACE_MS - 1);
    expect(f.exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(f.exits).toEqual([1]);
    write.mockRestore();
  });

  it('exits 1 at once if the shutdown itself throws', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const f = setup(() => {
      throw new Error('broken shutdown');
    });
    f.onError(new Error('x'), 'uncaughtException');
    expect(f.exits).toEqual([1]);
    write.mockRestore();
  });

  it('describes what was thrown, Error or not', () => {
    expect(describeError('text')).toBe('non-Error value thrown: text');
    expect(describeError({ a: 1 })).toBe('non-Error value thrown: {"a":1}');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeError(circular)).toBe('non-Error value thrown: [object Object]');
  });
});
