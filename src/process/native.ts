/**
 * The native spawner: loads the N-API addon (native/spawn.c) — the prebuilt binary shipped
 * for this platform in prebuilds/, or one compiled on this machine into build/Release — and
 * wraps it as a Spawner.
 * See native/spawn.c for why it exists (spawn cost independent of the heap, parent-death
 * signal, exit notification by pidfd).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import nodeGypBuild from 'node-gyp-build';
import { PACKAGE_ROOT } from '../package-root.js';
import { envPairs } from './child-env-block.js';
import { checkRequest, errnoInfo, killGroup, planExec, signalName, spawnError } from './exec-path.js';
import { outputPipe, pipeSocket, type WatchOutput } from './output-pipe.js';
import type { ChildHandle, ExitStatus, SpawnRequest, SpawnStage } from './types.js';

/** stdio modes as the addon numbers them: inherit, pipe, ignore. */
export type NativeStdioMode = 0 | 1 | 2;

/** The addon's raw interface. */
export interface NativeAddon {
  /**
   * Starts `argv` by trying `candidates` in order with execve (PATH search rules when
   * argv[0] has no slash). Throws a NativeSpawnFailure if it could not run.
   * `onExit(code, signal)`: (code, 0) on exit, (-1, signal) when killed, (-1, 0) if the
   * status was lost.
   */
  spawn(
    candidates: readonly string[],
    argv: readonly string[],
    /** NAME=value each, or (`envBlock`) all of them in one string, separated by NUL. */
    env: readonly string[] | string,
    cwd: string | null,
    stdout: NativeStdioMode,
    stderr: NativeStdioMode,
    onExit: (code: number, signal: number) => void,
    /** [uid, gid, ...supplementary gids]: run as them (setgroups/setgid/setuid in the child). */
    ids?: readonly number[] | null,
  ): { pid: number; stdout: number; stderr: number };
  /**
   * True when `spawn` takes the environment as one NUL-separated string: two conversions for
   * the whole of it instead of four per variable. Absent from an addon built before it.
   */
  envBlock?: boolean;
  /** Tests: force the SIGCHLD fallback used where pidfd_open is missing. */
  setExitWatch(mode: 'pidfd' | 'sigchld'): void;
  /** `_exit(status)`: leave without joining worker threads (see native/spawn.c). */
  exitNow(status: number): never;
  /**
   * Starts reaping orphaned zombies (native/reaper.c); when not PID 1, first makes this
   * process a child subreaper. Idempotent. Throws an Error if prctl fails.
   */
  startReaper(): { pid1: boolean; subreaper: boolean };
  /** A pid libuv spawned (node:child_process) and will reap: the reaper must leave it alone. */
  claimChild(pid: number): void;
  /** The claimed pid has been reaped by libuv. */
  releaseChild(pid: number): void;
  /**
   * Orphans reaped so far, whether the reaper runs, and how many zombies it peeked at
   * (waitid WNOWAIT) rather than reaped at once: that happens only while libuv has a child.
   */
  reaperStats(): { reaped: number; running: boolean; peeks: number };
  /** Polls an output pipe once (native/pipes.c); absent from an addon built before it. */
  watchOutput?: WatchOutput;
  /**
   * A memory-reducing full collection of V8's heap, then malloc_trim(0) (native/memory.c):
   * `collected` false where the runtime does not export V8's call, `trimmed` false off glibc.
   * Absent from an addon built before it.
   */
  releaseMemory?: () => { collected: boolean; trimmed: boolean };
}

interface NativeSpawnFailure extends Error {
  stage: SpawnStage;
  errno: number;
  index: number;
}

/** The addon could not be loaded; the message says why and how to fix it. */
export class NativeAddonError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'NativeAddonError';
  }
}

/** Where node-gyp (`npm rebuild pidpilot`, scripts/install.cjs) puts an addon compiled here. */
const COMPILED_PATH = join(PACKAGE_ROOT, 'build', 'Release', 'pidpilot_spawn.node');

/**
 * The addon to load, by node-gyp-build's rules: one compiled on this machine (build/Release:
 * a checkout, or an install that found no prebuilt binary that loads) comes first, else the
 * prebuilt binary for this platform, arch and libc (prebuilds/<platform>-<arch>/, made by
 * scripts/prebuild.mjs). With neither, the compiled path, whose absence the error names.
 */
function findAddon(): string {
  try {
    return nodeGypBuild.resolve(PACKAGE_ROOT);
  } catch {
    return COMPILED_PATH;
  }
}

export const ADDON_PATH = findAddon();

let loaded: NativeAddon | NativeAddonError | undefined;

/** The addon, or a NativeAddonError saying why not (memoised). */
export function tryLoadNativeAddon(): NativeAddon | NativeAddonError {
  return (loaded ??= loadAddonFrom(ADDON_PATH));
}

/** Loads the addon at `path` (not memoised; tests use it to check the error messages). */
export function loadAddonFrom(path: string): NativeAddon | NativeAddonError {
  const fix =
    'run `npm rebuild pidpilot` (it needs python3, make and a C compiler; in a checkout of pidpilot: `npm run build:native`)';
  if (process.platform !== 'linux') {
    return new NativeAddonError(`pidpilot's native spawn addon supports Linux only (this is ${process.platform})`);
  }
  if (!existsSync(path)) {
    return new NativeAddonError(
      `pidpilot's native spawn addon is not built (${path} is missing) and no prebuilt one fits this machine (${process.platform}-${process.arch}): ${fix}`,
    );
  }
  try {
    // What require() does with a .node file, without the module loader's resolution around it.
    const module = { exports: {} as NativeAddon };
    process.dlopen(module, path);
    return module.exports;
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return new NativeAddonError(
      `pidpilot's native spawn addon (${path}) cannot be loaded by Node.js ${process.version}: ${why}; rebuild it: ${fix}`,
      err,
    );
  }
}

/** The addon; throws NativeAddonError if it cannot be loaded. */
export function loadNativeAddon(): NativeAddon {
  const addon = tryLoadNativeAddon();
  if (addon instanceof NativeAddonError) throw addon;
  return addon;
}

const modeOf = { inherit: 0, pipe: 1, ignore: 2 } as const;

function readable(addon: NativeAddon, fd: number): Readable | null {
  if (fd < 0) return null;
  // A Socket only once the pipe has data (output-pipe.ts); an addon without the poll: at once.
  const watch = addon.watchOutput;
  return watch ? outputPipe(fd, watch) : pipeSocket(fd);
}

class NativeChild implements ChildHandle {
  readonly exited: Promise<ExitStatus>;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly pid: number;
  private done = false;

  constructor(addon: NativeAddon, req: SpawnRequest) {
    checkRequest(req);
    const plan = planExec(req.argv[0], req.env);
    let settle!: (status: ExitStatus) => void;
    this.exited = new Promise((resolve) => (settle = resolve));
    const onExit = (code: number, signal: number): void => {
      // The addon has already SIGKILLed the rest of the group and reaped the leader.
      this.done = true;
      settle({ code: code >= 0 ? code : null, signal: signal > 0 ? signalName(signal) : null });
    };
    let started: { pid: number; stdout: number; stderr: number };
    try {
      started = addon.spawn(
        plan.candidates,
        req.argv,
        // No entry holds a NUL (checkRequest refused such a variable), so it can separate them.
        addon.envBlock === true ? envPairs(req.env).join('\0') : envPairs(req.env),
        req.cwd ?? null,
        modeOf[req.stdout],
        modeOf[req.stderr],
        onExit,
        req.ids ? [req.ids.uid, req.ids.gid, ...req.ids.groups] : null,
      );
    } catch (err) {
      const failure = err as Partial<NativeSpawnFailure>;
      if (typeof failure.errno !== 'number' || failure.stage === undefined) throw err;
      throw spawnError(req, plan, failure.stage, errnoInfo(failure.errno)[0], failure.index ?? -1);
    }
    this.pid = started.pid;
    this.stdout = readable(addon, started.stdout);
    this.stderr = readable(addon, started.stderr);
  }

  signalGroup(signal: NodeJS.Signals): void {
    // Once reaped, the group id may name someone else's group: never signal it again.
    if (!this.done) killGroup(this.pid, signal);
  }
}

/** Spawns through the addon; throws NativeAddonError if it is not available, SpawnError if the program cannot run. */
export function spawnNative(req: SpawnRequest): ChildHandle {
  return new NativeChild(loadNativeAddon(), req);
}
