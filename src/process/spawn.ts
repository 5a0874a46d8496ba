/**
 * spawnChild(): the one way pidpilot starts a process. It picks the implementation (the
 * native addon on Linux, or the portable one on execa elsewhere and as a fallback) and keeps
 * the registry of live process groups, so that a fatal path can SIGKILL them all synchronously.
 */
import { killGroup } from './exec-path.js';
import { NativeAddonError, spawnNative, tryLoadNativeAddon } from './native.js';
import { spawnPortable } from './spawn-portable.js';
import type { ChildHandle, Spawner, SpawnRequest } from './types.js';

export type SpawnBackend = 'native' | 'node';
// `node` is the portable spawner (spawn-portable.ts): the name PIDPILOT_SPAWN has always used.

export interface SpawnBackendChoice {
  kind: SpawnBackend;
  /**
   * Set when the fallback is used although not asked for: why the addon is unavailable
   * and how to fix it. The caller logs it once, as a warning.
   */
  warning?: string;
}

let choice: SpawnBackendChoice | undefined;

/** What the portable spawner lacks, said once when it is used without being asked for. */
const PORTABLE_LACKS =
  'no parent-death signal (if pidpilot is killed with SIGKILL its jobs live on), no pidfd exit watching, no reaping of orphaned processes';

/**
 * Which implementation spawnChild() uses (decided once): env PIDPILOT_SPAWN=node (or
 * =portable) forces the portable one, PIDPILOT_SPAWN=native insists on the addon (throws
 * NativeAddonError without it), otherwise the addon when it loads, else the portable one
 * with a warning that says what is missing.
 */
export function spawnBackend(): SpawnBackendChoice {
  if (choice !== undefined) return choice;
  const wanted = process.env.PIDPILOT_SPAWN;
  if (wanted === 'node' || wanted === 'portable') return (choice = { kind: 'node' });
  if (process.platform !== 'linux' && wanted !== 'native') {
    return (choice = {
      kind: 'node',
      warning: `not Linux (${process.platform}): processes are spawned through execa, without the Linux-only parts: ${PORTABLE_LACKS}`,
    });
  }
  const addon = tryLoadNativeAddon();
  if (!(addon instanceof NativeAddonError)) return (choice = { kind: 'native' });
  if (wanted === 'native') throw addon;
  return (choice = {
    kind: 'node',
    warning: `${addon.message}. Meanwhile processes are spawned through execa: slower, and with ${PORTABLE_LACKS}.`,
  });
}

const live = new Set<number>();
/** Children spawned so far (idle-memory.ts: a window with a spawn in it is not idle). */
let spawned = 0;

function tracked(spawn: Spawner): Spawner {
  return (req) => {
    const child = spawn(req);
    spawned++;
    live.add(child.pid);
    void child.exited.then(() => live.delete(child.pid));
    return child;
  };
}

const spawners: Record<SpawnBackend, Spawner> = { native: tracked(spawnNative), node: tracked(spawnPortable) };

/** The spawner of a given implementation (tests run the same suite against both). */
export function spawnerFor(kind: SpawnBackend): Spawner {
  return spawners[kind];
}

/**
 * Starts `req.argv` as the leader of a new process group. Throws SpawnError (synchronously,
 * with either implementation) when it cannot run: missing program, permission denied, bad cwd…
 */
export function spawnChild(req: SpawnRequest): ChildHandle {
  return spawners[spawnBackend().kind](req);
}

/** How many children have been spawned so far. */
export function spawnCount(): number {
  return spawned;
}

/** Process group ids (= leader pids) of the children whose leader has not exited yet. */
export function liveGroups(): ReadonlySet<number> {
  return live;
}

/**
 * Signals every live group, synchronously: for process.on('exit') and fatal paths, so that
 * no process outlives pidpilot. Returns how many groups were signalled.
 */
export function killAllGroups(signal: NodeJS.Signals = 'SIGKILL'): number {
  let n = 0;
  for (const pgid of live) if (killGroup(pgid, signal)) n++;
  return n;
}
