/**
 * Where the sd_notify sockets of one pidpilot are made (process/notify.ts), and the clean-up
 * of those a pidpilot killed with SIGKILL left behind (it never got to remove them).
 *
 * Every pidpilot of a user makes its directory under one base of that user's,
 * `<tmpdir>/pidpilot-notify-<uid>` (0711), named `<pid namespace>-<pid>-<start time>-XXXXXX`
 * after the process that made it. Before making its own, pidpilot removes the directories of
 * that base whose process is gone: no process with that pid, or one that started at another
 * time (the pid was reused). A directory made in another PID namespace (containers sharing a
 * /tmp) is never judged: its pid means nothing here. The base is used only when it is a real directory of pidpilot's user that
 * no one else can write to; otherwise (someone else made it, or a symlink) pidpilot cleans
 * nothing and makes its directory straight under `<tmpdir>`, as before. Nothing in the base
 * is followed: entries are looked at with lstat, and only directories whose name is ours,
 * owned by pidpilot's user, are removed (rm -r does not follow symlinks inside either).
 */
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `<pid namespace inode>-<pid>-<start time in clock ticks>-<mkdtemp's six characters>` */
const OWN_NAME = /^([0-9]+)-([0-9]+)-([0-9]+)-[A-Za-z0-9]{6}$/;

/** The inode of this process's PID namespace (`pid:[4026531836]`), or null without /proc. */
function pidNamespace(): string | null {
  try {
    return /^pid:\[([0-9]+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** When process `pid` started (field 22 of /proc/PID/stat, in clock ticks since boot), or null when there is none. */
function startTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // comm may hold spaces and parentheses: the fields after it follow the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** True when `path` is a real directory (not a symlink) of this user that no one else can write to. */
function ownPrivateDir(path: string): boolean {
  try {
    const st = lstatSync(path);
    const uid = process.getuid?.();
    return st.isDirectory() && !st.isSymbolicLink() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The base of this user's notify directories, made when missing; null when it cannot be trusted. */
function userBase(parent: string): string | null {
  const base = join(parent, `pidpilot-notify-${process.getuid?.() ?? 'user'}`);
  try {
    mkdirSync(base, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return null;
  }
  if (!ownPrivateDir(base)) return null;
  chmodSync(base, 0o711); // searchable by a job's user under any umask
  return base;
}

/**
 * Removes the directories in `base` left by pidpilots that are gone; returns their names.
 * Without /proc (nothing can be told) nothing is removed.
 */
export function removeStaleNotifyDirs(base: string): string[] {
  const removed: string[] = [];
  const ns = pidNamespace();
  if (ns === null || startTime('self') === null) return removed;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = OWN_NAME.exec(name);
    if (m === null || m[1] !== ns) continue; // not a pidpilot's, or one of another PID namespace
    const pid = Number(m[2]);
    if (pid === process.pid || startTime(pid) === m[3]) continue; // ours, or its pidpilot still runs
    const dir = join(base, name);
    if (!ownPrivateDir(dir)) continue; // a symlink, or not made by this user: not ours to remove
    rmSync(dir, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * A private directory for the sockets of one pidpilot (short paths: a unix socket path is
 * at most 107 bytes). Searchable by everyone (0711) so that a job running as another user
 * reaches its own socket, listable by nobody else.
 */
export class NotifyDir {
  readonly dir: string;
  /** Directories of pidpilots that are gone, removed when this one was made. */
  readonly removedStale: string[] = [];
  private next = 0;

  constructor(parent: string = tmpdir()) {
    const base = userBase(parent);
    const self = startTime('self');
    const ns = pidNamespace();
    if (base !== null && self !== null && ns !== null) {
      this.removedStale = removeStaleNotifyDirs(base);
      this.dir = mkdtempSync(join(base, `${ns}-${process.pid}-${self}-`));
    } else {
      this.dir = mkdtempSync(join(parent, 'pidpilot-notify-'));
    }
    chmodSync(this.dir, 0o711);
  }

  /** A fresh socket path, never used before in this directory. */
  socketPath(): string {
    return join(this.dir, `${++this.next}.sock`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
