/**
 * The sd_notify side of one run of a `notify: true` job: a socket made for this run
 * (process/notify.ts), the environment that names it to the process, and the messages it
 * receives, handed to the job as inputs. Closed when the run ends, so a late message of
 * an old run finds no socket.
 */

import type { SupervisorLogger as Logger } from '../../log/logger.js';
import { type NotifyMessage, NotifySocket } from '../../process/notify.js';
import type { NotifyDir } from '../../process/notify-dir.js';

export interface RunNotify {
  /** NOTIFY_SOCKET, and WATCHDOG_USEC when a watchdog is configured (sd_watchdog_enabled reads it). */
  readonly env: Record<string, string>;
  close(): void;
}

export function openRunNotify(
  dir: NotifyDir,
  opts: { watchdogMs?: number; owner?: { uid: number; gid: number }; log: Pick<Logger, 'warn' | 'debug'> },
  onMessage: (msg: NotifyMessage) => void,
): RunNotify {
  const socket = NotifySocket.open(
    dir.socketPath(),
    (msg, sender) => {
      opts.log.debug(`sd_notify from pid ${sender.pid}: ${describeMessage(msg)}`);
      onMessage(msg);
    },
    {
      ...(opts.owner ? { owner: opts.owner } : {}),
      onInvalid: (why, sender) => opts.log.warn(`sd_notify message from pid ${sender.pid} ignored: ${why}`),
    },
  );
  const env: Record<string, string> = { NOTIFY_SOCKET: socket.path };
  if (opts.watchdogMs !== undefined) env.WATCHDOG_USEC = String(opts.watchdogMs * 1000);
  return { env, close: () => socket.close() };
}

function describeMessage(msg: NotifyMessage): string {
  const parts: string[] = [];
  if (msg.ready) parts.push('READY=1');
  if (msg.status !== undefined) parts.push(`STATUS=${msg.status}`);
  if (msg.watchdog) parts.push(msg.watchdog === 'ping' ? 'WATCHDOG=1' : 'WATCHDOG=trigger');
  if (msg.watchdogMs !== undefined) parts.push(`WATCHDOG_USEC=${msg.watchdogMs * 1000}`);
  if (msg.stopping) parts.push('STOPPING=1');
  if (msg.reloading) parts.push('RELOADING=1');
  if (msg.mainPid !== undefined) parts.push(`MAINPID=${msg.mainPid}`);
  if (msg.errno !== undefined) parts.push(`ERRNO=${msg.errno}`);
  parts.push(...msg.other);
  return parts.join(' ') || '(nothing)';
}
