/**
 * PID 1's reaping from JS: starts the native reaper (native/reaper.c), which reaps every
 * orphaned zombie re-parented to pidpilot without ever reaping one of pidpilot's own
 * children (see that file for how), and makes pidpilot a child subreaper when it is not
 * PID 1. Also the two things the rest of process/ needs from it: the node:child_process
 * fallback claims the pids libuv will reap, and at exit the orphans pidpilot adopted
 * are killed (as the kernel does for a PID 1).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { NativeAddonError, tryLoadNativeAddon } from './native.js';

export interface ReaperStatus {
  /** pidpilot is PID 1 (of its PID namespace): every orphan comes to it. */
  pid1: boolean;
  /** pidpilot made itself a child subreaper: the orphans of its jobs come to it. */
  subreaper: boolean;
}

/**
 * Starts reaping. Throws NativeAddonError when the addon cannot be loaded (nothing can
 * reap orphans then), or an Error when the kernel refuses PR_SET_CHILD_SUBREAPER.
 */
export function startReaper(): ReaperStatus {
  if (process.platform !== 'linux') {
    throw new Error(
      `not Linux (${process.platform}): orphans are reaped by a Linux child subreaper only; those of jobs go to whoever reaps for pidpilot's parent`,
    );
  }
  const addon = tryLoadNativeAddon();
  if (addon instanceof NativeAddonError) throw addon;
  return addon.startReaper();
}

/** Orphans reaped so far (0 when the reaper is not running). */
export function orphansReaped(): number {
  const addon = tryLoadNativeAddon();
  return addon instanceof NativeAddonError ? 0 : addon.reaperStats().reaped;
}

/**
 * Tells the reaper that libuv will reap `pid` (a node:child_process child), so it must not.
 * Returns the function to call once libuv has reaped it. Without the addon there is no
 * reaper, and nothing to tell.
 */
export function claimForLibuv(pid: number): () => void {
  const addon = tryLoadNativeAddon();
  if (addon instanceof NativeAddonError) return () => {};
  addon.claimChild(pid);
  return () => addon.releaseChild(pid);
}

/**
 * True when /proc shows this process under its own pid. In a PID namespace whose /proc is
 * the parent namespace's (`unshare --pid` without `--mount-proc`), the pids /proc lists are
 * not the ones process.kill() takes: signalling them could hit unrelated processes.
 */
function procIsOurs(): boolean {
  try {
    return Number(readFileSync('/proc/self/stat', 'utf8').split(' ', 1)[0]) === process.pid;
  } catch {
    return false;
  }
}

/** Pids of the children of `pid` (all its threads), zombies included; [] if /proc cannot tell. */
function childrenOf(pid: number | 'self'): number[] {
  const pids: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return pids;
  }
  for (const tid of tasks) {
    try {
      for (const p of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))
        if (p !== '') pids.push(Number(p));
    } catch {
      // the thread ended, or the kernel lacks CONFIG_PROC_CHILDREN
    }
  }
  return pids;
}

/** Pids of this process's children (all threads), zombies included; [] if /proc cannot tell. */
export function ownChildren(): number[] {
  return procIsOurs() ? childrenOf('self') : [];
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat[stat.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true; // gone
  }
}

/** Every live process under this one: children, their children, and so on. */
function liveDescendants(): number[] {
  const out: number[] = [];
  const queue = ownChildren();
  const seen = new Set<number>();
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    if (!isZombie(pid)) out.push(pid);
    queue.push(...childrenOf(pid));
  }
  return out;
}

/** Rounds of killing the subtree: a process may fork while it is walked, its orphans come back to us. */
const KILL_ROUNDS = 100;

/**
 * SIGKILLs every child left: called on the way out, after every job's group has been
 * killed, so what is left are orphans pidpilot adopted as a subreaper (a job's daemon that
 * left its process group). As PID 1 the kernel does this anyway when pidpilot exits; as a
 * subreaper they would otherwise outlive it. Synchronous.
 */
export function killAdoptedOrphans(): number {
  let n = 0;
  if (process.pid === 1) return n; // the kernel kills the whole namespace when PID 1 exits
  // The whole subtree, not only direct children: a daemon that escaped with setsid has
  // children of its own, which would be reparented to us as it dies, and to init once we
  // are gone. Walk, kill, and walk again until nothing but zombies is left (bounded).
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let round = 0; round < KILL_ROUNDS; round++) {
    const live = liveDescendants();
    if (live.length === 0) break;
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL');
        n++;
      } catch {
        // gone
      }
    }
    Atomics.wait(pause, 0, 0, 2); // let the kernel deliver the kills before looking again
  }
  return n;
}
