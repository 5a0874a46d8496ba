/**
 * Leaving discovery at shutdown, before any job is stopped (docs/lifecycle.md): traffic is routed
 * away from an instance before it goes, as Consul's guidance for a graceful stop says
 * (deregister, or enter maintenance, then stop the process) and as ContainerPilot's README
 * promised. The wait is bounded, so an agent that is slow or down cannot eat the jobs' own
 * time to stop: at most DEREGISTER_SHARE of the global `stopTimeout`, and never more than
 * DEREGISTER_MAX_MS. With the default stopTimeout (5 s) that is 2.5 s; past it, the jobs are
 * stopped anyway and deregistration goes on, within the same bound, while they stop.
 */
import type { Discovery } from './types.js';

/** The share of the global stopTimeout that deregistration may take before jobs are stopped. */
export const DEREGISTER_SHARE = 0.5;
/** The longest deregistration may hold the jobs' stop, whatever the stopTimeout. */
export const DEREGISTER_MAX_MS = 3000;

export function deregisterBound(stopTimeoutMs: number): number {
  return Math.min(DEREGISTER_MAX_MS, Math.floor(stopTimeoutMs * DEREGISTER_SHARE));
}

/**
 * Starts closing `discovery` (deregistering every service). `closed` resolves when it is
 * closed (for the exit to wait on); `deregistered` when it is, or when the bound has passed
 * (for the jobs' stop to wait on).
 */
export function leaveDiscovery(
  discovery: Discovery,
  stopTimeoutMs: number,
): { closed: Promise<void>; deregistered: Promise<void> } {
  const bound = deregisterBound(stopTimeoutMs);
  const closed = discovery.close(bound).catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, bound)));
  const deregistered = Promise.race([closed, deadline]).finally(() => clearTimeout(timer));
  return { closed, deregistered };
}
