/**
 * Starts reaping orphans (docs/pid1.md) and says how it went: as PID 1 every orphan of the
 * container comes to pidpilot; otherwise pidpilot makes itself a child subreaper so that
 * the orphans of its jobs come to it. Without the native addon nothing can reap them:
 * that is logged as an error when pidpilot is PID 1 (zombies will pile up), as a warning
 * otherwise (they go to whoever reaps for pidpilot's parent).
 */
import type { SupervisorLogger as Logger } from '../log/logger.js';
import { type ReaperStatus, startReaper } from '../process/orphans.js';

export function startReaping(log: Logger): ReaperStatus | null {
  try {
    const status = startReaper();
    if (status.pid1) log.debug('PID 1: reaping orphaned processes');
    else log.debug('child subreaper: reaping the orphaned processes of jobs');
    return status;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (process.pid === 1)
      log.error(`pidpilot is PID 1 but cannot reap orphaned processes, so their zombies will pile up: ${why}`);
    else
      log.warn(`cannot reap the orphaned processes of jobs (they go to whoever reaps for pidpilot's parent): ${why}`);
    return null;
  }
}
