/**
 * The supervisor's last step: make sure no group and no adopted orphan is left, then
 * leave at once.
 */
import { NativeAddonError, tryLoadNativeAddon } from './native.js';
import { killAdoptedOrphans } from './orphans.js';
import { killAllGroups } from './spawn.js';

/**
 * Exits with `status` without running exit handlers or joining libuv's worker threads,
 * one of which may be stuck writing to a log reader that stopped reading. Call it only
 * when the log has been drained (or given up on). Without the addon: process.exit().
 */
export function exitNow(status: number): never {
  killAllGroups('SIGKILL');
  killAdoptedOrphans();
  // What bin/pidpilot.js asked to run at exit (a CPU profile, the build's code cache):
  // `_exit` runs no 'exit' handler.
  for (const hook of (globalThis as { [k: symbol]: (() => void)[] | undefined })[Symbol.for('pidpilot.atExitNow')] ??
    [])
    hook();
  const addon = tryLoadNativeAddon();
  if (!(addon instanceof NativeAddonError)) addon.exitNow(status);
  process.exit(status);
}
