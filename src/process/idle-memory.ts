/**
 * Gives back, once, the memory pidpilot's start-up used and an idle supervisor does not need
 * (native/memory.c: a memory-reducing V8 collection, then malloc_trim). Start-up grows V8's
 * young generation (module evaluation, the configuration, the first jobs' spawns: everything
 * survives), fills malloc arenas, and loads the bytecode of every function in the code cache;
 * V8 keeps all of it until its memory reducer runs, about 8 s after start-up. With 100 idle
 * jobs this gives back 5–6 MB of RSS at once (bench/README.md).
 *
 * When: at the first WINDOW_MS after start-up in which pidpilot used less than IDLE_SHARE of
 * a CPU (its own CPU time, so a loaded machine does not fool it) and spawned nothing: the jobs
 * have started and their output is quiet. (Without the second condition a chain of quick jobs
 * on a loaded machine, each hop slowed by others' work and pidpilot's share below IDLE_SHARE,
 * had the collection stop it mid-chain for 25–40 ms.) A window whose timer fires late (over
 * LATE_MS) was not seen: pidpilot was stopped (SIGSTOP, a cgroup freezer) or its loop was
 * held, which is little CPU but not idleness, and whatever came in meanwhile (exits, orphans
 * to reap, signals) is handled right after; the next window decides. (The reaping bench stops
 * pidpilot just after it starts: the release came with SIGCONT, amid its burst of orphans.)
 * The collection stops the main thread for a few tens of ms, so not while the log relay is
 * busy, and never during a shutdown (SIGTERM → exit is timed). After GIVE_UP_MS without such
 * a window V8's own memory reducer is left to it. The young generation grows again when the
 * log relay needs it (V8's growth factor is back to 2 by then: run-supervisor.ts). Without
 * the addon (the portable spawner) nothing is done.
 */
import { NativeAddonError, tryLoadNativeAddon } from './native.js';
import { spawnCount } from './spawn.js';

/** The window over which pidpilot's CPU use is judged. */
export const WINDOW_MS = 250;
/** Idle: less than this share of one CPU over a window. */
export const IDLE_SHARE = 0.1;
/** A window's timer that fires this much later than WINDOW_MS: the window was not seen. */
export const LATE_MS = WINDOW_MS;
/** No idle window this long after start-up: nothing is done. */
export const GIVE_UP_MS = 60_000;

export interface IdleMemoryOptions {
  /** True once pidpilot is shutting down: then nothing is done. */
  shuttingDown: () => boolean;
  /** The release itself (tests); default: the addon's, when it has one. */
  release?: () => void;
  /** CPU time used so far by the whole process, in µs (tests); default: process.cpuUsage(). */
  cpuMicros?: () => number;
  /** Children spawned so far (tests); default: spawn.ts's count. */
  spawns?: () => number;
  /** A monotonic clock in ms (tests); default: performance.now(). */
  now?: () => number;
}

/** Arms the one release; returns a function that cancels it. */
export function releaseMemoryWhenIdle(opts: IdleMemoryOptions): () => void {
  const release = opts.release ?? addonRelease();
  if (!release) return () => {};
  const cpuMicros = opts.cpuMicros ?? ownCpuMicros;
  const spawns = opts.spawns ?? spawnCount;
  let windows = Math.ceil(GIVE_UP_MS / WINDOW_MS);
  const clock = opts.now ?? (() => performance.now());
  let last = cpuMicros();
  let lastSpawns = spawns();
  let windowStart = clock();
  const timer = setTimeout(() => {
    if (opts.shuttingDown()) return;
    const now = cpuMicros();
    const spawned = spawns();
    const at = clock();
    const seen = at - windowStart <= WINDOW_MS + LATE_MS;
    if (seen && now - last < WINDOW_MS * 1000 * IDLE_SHARE && spawned === lastSpawns) return release();
    last = now;
    lastSpawns = spawned;
    windowStart = at;
    if (--windows > 0) timer.refresh();
  }, WINDOW_MS);
  // Never what keeps pidpilot's loop alive.
  timer.unref();
  return () => clearTimeout(timer);
}

function ownCpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function addonRelease(): (() => void) | null {
  const addon = tryLoadNativeAddon();
  if (addon instanceof NativeAddonError || !addon.releaseMemory) return null;
  return () => addon.releaseMemory?.();
}
