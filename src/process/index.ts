/**
 * process/ owns starting and ending processes: spawning a command as the leader of its own
 * process group (native addon in native/spawn.c on Linux, execa elsewhere and as a fallback),
 * reporting its exit, signalling and killing the group, timeouts, and the record of a run.
 * It knows nothing of jobs.
 *
 *   types.ts       the contract (SpawnRequest, ChildHandle, SpawnError, RunRecord)
 *   spawn.ts       spawnChild(): picks the implementation, registry of live groups
 *   native.ts      the addon's loader and wrapper
 *   spawn-portable.ts  the portable spawner on execa (macOS, no addon, PIDPILOT_SPAWN=node)
 *   exec-path.ts   PATH search plan, error wording, group signalling (shared)
 *   run.ts         ProcessRun: timeout / stop / kill and the run's outcome
 *   reaper.ts      the orphan reaper (native/reaper.c) and the orphans adopted at exit
 *   exit.ts        the last step: kill what is left, _exit
 */
export * from './types.js';
export { spawnChild, spawnBackend, spawnerFor, liveGroups, killAllGroups } from './spawn.js';
export type { SpawnBackend, SpawnBackendChoice } from './spawn.js';
export { NativeAddonError } from './native.js';
export { ProcessRun } from './run.js';
export { startReaper, orphansReaped, killAdoptedOrphans } from './reaper.js';
export type { ReaperStatus } from './reaper.js';
export type { RunOptions, RunResult } from './run.js';
