/**
 * The supervisor's last step: make sure no group and no adopted orphan is left, then
 * leave at once.
 */
import { NativeAddonError, tryLoadNativeAddon } from './native.js';
import { killAdoptedOrphans } from './reaper.js';
import { killAllGroups } from './spawn.js';

/**
 * Exits with `status` without running exit handlers or joining libuv's worker threads,
 * one of which may be stuck writing to a log reader that stopped reading. Call it only
 * when the log has been drained (or given up on). Without the addon: process.exit().
 */
export function exitNow(status: number): never {
  killAllGroups('SIGKILL');
  killAdoptedOrphans();
  const addon = tryLoadNativeAddon();
  if (!(addon instanceof NativeAddonError)) addon.exitNow(status);
  process.exit(status);
}
