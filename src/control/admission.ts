/**
 * Who gets a connection on the control socket, so that `ping`, `status` and the shutdown
 * path stay reachable whatever a local client does (a flood of connections, slowloris,
 * hundreds of follow streams):
 *
 * - Connections are bounded by what the process can afford (CONNECTION_CAP, at most a
 *   quarter of the descriptor limit: jobs need descriptors for their pipes), not refused at
 *   a small fixed number: a burst of 1,000 pings is served, not reset.
 * - When the bound is reached, the oldest connection whose request has not arrived yet (a
 *   slow or silent client) is closed to make room: a new request always gets in, and a
 *   client that holds a slot without sending anything loses it first. Those that have sent
 *   their request (being answered, or following a stream) are never evicted.
 * - Follow streams have a bound of their own (MAX_FOLLOWERS, in routes.ts): past it a follow
 *   is answered 503, so streams can never take the slots short requests need.
 *
 * nginx and Consul's HTTP server bound connections by a configured number and time out slow
 * headers; evicting the oldest unfinished request is what a server does when a fixed pool of
 * slots must not be held by clients that send nothing.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/** The most connections the control socket holds at once, whatever the descriptor limit. */
export const MAX_CONNECTIONS = 1024;
/** The fewest, whatever the descriptor limit. */
const MIN_CONNECTIONS = 64;

/** The soft RLIMIT_NOFILE of this process, or null when it cannot be read. */
function openFileLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return null;
  }
}

/** MAX_CONNECTIONS, or a quarter of the descriptor limit when that is less. */
export function connectionCap(limit: number | null = openFileLimit()): number {
  if (limit === null) return MAX_CONNECTIONS;
  return Math.max(MIN_CONNECTIONS, Math.min(MAX_CONNECTIONS, Math.floor(limit / 4)));
}

export class Admission {
  /** Open connections, oldest first, with whether their request has fully arrived. */
  private readonly open = new Map<Socket, boolean>();

  constructor(readonly cap: number = connectionCap()) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Takes `socket` in, closing the oldest unfinished connection when full. False when every
   * slot holds a request that has arrived (the caller refuses the new one with a 503).
   */
  admit(socket: Socket): boolean {
    if (this.open.size >= this.cap && !this.evictOldestUnfinished()) return false;
    this.open.set(socket, false);
    socket.once('close', () => this.open.delete(socket));
    return true;
  }

  /** The request on `socket` has fully arrived: it is not evicted any more. */
  arrived(socket: Socket): void {
    if (this.open.has(socket)) this.open.set(socket, true);
  }

  private evictOldestUnfinished(): boolean {
    for (const [socket, arrived] of this.open) {
      if (arrived) continue;
      this.open.delete(socket);
      socket.destroy();
      return true;
    }
    return false;
  }
}
