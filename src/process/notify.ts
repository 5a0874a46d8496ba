/**
 * systemd's sd_notify protocol, the receiving end (native/notify.c binds and reads the
 * sockets, which Node cannot). A job with `notify: true` gets `NOTIFY_SOCKET` naming a
 * socket of its own, made afresh for each run: a message is the job's by the socket it
 * came to, and a late message of an ended run finds no socket. The socket belongs to the
 * job's user with mode 0600, so no other local user can make a job ready or feed its
 * watchdog (root can, as it could kill the job). Any process of the job may send, like
 * systemd's `NotifyAccess=all`, so shell wrappers and `systemd-notify` work.
 */
import { chmodSync, chownSync, rmSync, unlinkSync } from 'node:fs';
import { NativeAddonError, tryLoadNativeAddon } from './native.js';

/** What a message says, as sd_notify(3) defines the fields pidpilot acts on. */
export interface NotifyMessage {
  /** READY=1: start-up is finished. */
  ready?: true;
  /** RELOADING=1: reloading its configuration (reported as status). */
  reloading?: true;
  /** STOPPING=1: shutting down. */
  stopping?: true;
  /** STATUS=…: one line for humans, shown as the job's reason. */
  status?: string;
  /** WATCHDOG=1: a keep-alive ping; WATCHDOG=trigger: "I am broken, restart me". */
  watchdog?: 'ping' | 'trigger';
  /** WATCHDOG_USEC=…: a new watchdog interval, in ms (0 turns it off). */
  watchdogMs?: number;
  /** MAINPID=…: the pid of the job's main process, when it is not the one pidpilot started. */
  mainPid?: number;
  /** ERRNO=…: the error it failed with. */
  errno?: number;
  /** Assignments pidpilot does not act on (FDSTORE, EXTEND_TIMEOUT_USEC, …), by name. */
  other: string[];
}

const UINT = /^[0-9]+$/;

/**
 * Parses one datagram: newline-separated `NAME=value` assignments. A line that is not an
 * assignment, or a value that is not what the field needs, is ignored (systemd logs and
 * ignores it too); an embedded NUL makes the whole message invalid.
 */
export function parseNotify(text: string): NotifyMessage | null {
  if (text.includes('\0')) return null;
  const msg: NotifyMessage = { other: [] };
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const name = line.slice(0, eq);
    const value = line.slice(eq + 1);
    switch (name) {
      case 'READY':
        if (value === '1') msg.ready = true;
        break;
      case 'RELOADING':
        if (value === '1') msg.reloading = true;
        break;
      case 'STOPPING':
        if (value === '1') msg.stopping = true;
        break;
      case 'STATUS':
        msg.status = value;
        break;
      case 'WATCHDOG':
        if (value === '1') msg.watchdog = 'ping';
        else if (value === 'trigger') msg.watchdog = 'trigger';
        break;
      case 'WATCHDOG_USEC':
        if (UINT.test(value)) msg.watchdogMs = Math.ceil(Number(value) / 1000);
        break;
      case 'MAINPID':
        if (UINT.test(value) && Number(value) > 0 && Number(value) < 2 ** 31) msg.mainPid = Number(value);
        break;
      case 'ERRNO':
        if (UINT.test(value)) msg.errno = Number(value);
        break;
      default:
        msg.other.push(name);
    }
  }
  return msg;
}

/** Who sent a message, as the kernel vouches for it (SO_PASSCRED). */
export interface NotifySender {
  pid: number;
  uid: number;
}

interface NotifyAddon {
  notifyListen(path: string, onMessage: (pid: number, uid: number, text: string) => void): number;
  notifyClose(id: number): void;
}

/** Why sd_notify cannot be used here, or null when it can. */
export function notifyUnsupported(): string | null {
  const addon = tryLoadNativeAddon();
  if (addon instanceof NativeAddonError) return `\`notify\` needs the native addon: ${addon.message}`;
  if (typeof (addon as Partial<NotifyAddon>).notifyListen !== 'function') {
    return '`notify` needs a native addon built from this version of pidpilot (the one in use predates sd_notify support): run `npm rebuild pidpilot`';
  }
  return null;
}

function notifyAddon(): NotifyAddon {
  const why = notifyUnsupported();
  if (why !== null) throw new Error(why);
  return tryLoadNativeAddon() as unknown as NotifyAddon;
}

/** One bound notify socket; `close()` stops reading and removes the file. */
export class NotifySocket {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly id: number,
    private readonly addon: NotifyAddon,
  ) {}

  /**
   * Binds a socket at `path` (which must not exist), owned by `owner` (the job's user)
   * when given, else by pidpilot's; messages that parse go to `onMessage`, others to
   * `onInvalid` with why.
   */
  static open(
    path: string,
    onMessage: (msg: NotifyMessage, sender: NotifySender) => void,
    opts: { owner?: { uid: number; gid: number }; onInvalid?: (why: string, sender: NotifySender) => void } = {},
  ): NotifySocket {
    const addon = notifyAddon();
    const id = addon.notifyListen(path, (pid, uid, text) => {
      const msg = parseNotify(text);
      if (msg) onMessage(msg, { pid, uid });
      else opts.onInvalid?.('the message contains a NUL byte', { pid, uid });
    });
    try {
      if (opts.owner) chownSync(path, opts.owner.uid, opts.owner.gid);
      chmodSync(path, 0o600);
    } catch (err) {
      addon.notifyClose(id);
      rmSync(path, { force: true });
      throw err;
    }
    return new NotifySocket(path, id, addon);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.addon.notifyClose(this.id);
    try {
      unlinkSync(this.path);
    } catch {
      // already gone (its directory was removed): nothing to clean
    }
  }
}
