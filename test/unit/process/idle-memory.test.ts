/** The one release of start-up's memory once pidpilot is idle (src/process/idle-memory.ts, native/memory.c). */
import { getHeapSpaceStatistics } from 'node:v8';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GIVE_UP_MS, IDLE_SHARE, LATE_MS, releaseMemoryWhenIdle, WINDOW_MS } from '../../../src/process/idle-memory.js';
import { loadNativeAddon } from '../../../src/process/native.js';

describe('releaseMemoryWhenIdle', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** `busyWindows` windows at full CPU, then idle. */
  function arm(busyWindows: number, shuttingDown = () => false) {
    let cpu = 0;
    let window = 0;
    const release = vi.fn();
    const cancel = releaseMemoryWhenIdle({ shuttingDown, release, cpuMicros: () => cpu });
    const tick = () => {
      cpu += window++ < busyWindows ? WINDOW_MS * 1000 : WINDOW_MS * 1000 * IDLE_SHARE - 1;
      vi.advanceTimersByTime(WINDOW_MS);
    };
    return { release, cancel, tick };
  }

  it('releases once, at the end of the first window with less than IDLE_SHARE of a CPU', () => {
    const { release, tick } = arm(3);
    for (let i = 0; i < 3; i++) tick();
    expect(release).not.toHaveBeenCalled();
    tick();
    expect(release).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 10; i++) tick();
    expect(release).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives up after GIVE_UP_MS of a busy pidpilot', () => {
    const windows = GIVE_UP_MS / WINDOW_MS;
    const { release, tick } = arm(windows);
    for (let i = 0; i < windows - 1; i++) tick();
    expect(vi.getTimerCount()).toBe(1);
    tick();
    expect(vi.getTimerCount()).toBe(0);
    tick();
    expect(release).not.toHaveBeenCalled();
  });

  it('does not count a window in which something was spawned as idle, however little CPU it took', () => {
    // A chain of quick jobs on a loaded machine: pidpilot's share stays low, but it is busy.
    let spawns = 0;
    const release = vi.fn();
    releaseMemoryWhenIdle({ shuttingDown: () => false, release, cpuMicros: () => 0, spawns: () => spawns });
    for (let i = 0; i < 5; i++) {
      spawns++;
      vi.advanceTimersByTime(WINDOW_MS);
    }
    expect(release).not.toHaveBeenCalled();
    vi.advanceTimersByTime(WINDOW_MS); // a window with no spawn
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('does not count a window whose timer fired late (pidpilot stopped, or its loop held) as idle', () => {
    // SIGSTOP for 10 s just after start-up, then SIGCONT: almost no CPU, but nothing was seen,
    // and the exits or orphans that came in meanwhile are handled now, not after a collection.
    let clock = 0;
    const release = vi.fn();
    releaseMemoryWhenIdle({ shuttingDown: () => false, release, cpuMicros: () => 0, now: () => clock });
    clock += 10_000;
    vi.advanceTimersByTime(WINDOW_MS);
    expect(release).not.toHaveBeenCalled();
    clock += WINDOW_MS + LATE_MS; // late, but within the bound: seen
    vi.advanceTimersByTime(WINDOW_MS);
    expect(release).toHaveBeenCalledTimes(1);
  });

  it('does nothing during a shutdown, or once cancelled', () => {
    const stopping = arm(0, () => true);
    stopping.tick();
    expect(stopping.release).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    const cancelled = arm(0);
    cancelled.cancel();
    cancelled.tick();
    expect(cancelled.release).not.toHaveBeenCalled();
  });
});

describe('native releaseMemory (native/memory.c)', () => {
  it("runs V8's memory-reducing collection (the young generation shrinks) and glibc's malloc_trim", () => {
    const addon = loadNativeAddon();
    expect(addon.releaseMemory).toBeTypeOf('function');
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
    // Grow the young generation: objects that survive its collections.
    let keep: object[] = [];
    for (let i = 0; i < 300_000 && newSpace() < 4 * 1024 * 1024; i++) {
      keep.push({ i, a: [i] });
      if (keep.length > 100_000) keep = [];
    }
    keep = [];
    const grown = newSpace();
    expect(grown).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    const glibc = Boolean(
      (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime,
    );
    expect(addon.releaseMemory?.()).toEqual({ collected: true, trimmed: glibc });
    expect(newSpace()).toBeLessThan(grown);
  });
});
