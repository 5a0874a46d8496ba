/**
 * One writer per state dir: `pidpilot.lock` holds the pid of the supervisor writing there.
 * A lock whose pid is gone, or is now some other program (pids are reused, and in a
 * container every pidpilot is pid 1), is stale and replaced.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE } from './layout.js';

export class StateDirBusy extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`state dir ${dir} is in use by another pidpilot (pid ${pid})`);
    this.name = 'StateDirBusy';
  }
}

/** Whether `pid` is a live process that looks like a pidpilot. */
function isLivePidpilot(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('pidpilot');
  } catch {
    return true; // alive, but not ours to inspect: assume it is one
  }
}

function holder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the lock of `dir` (which must exist); throws StateDirBusy when a live pidpilot holds it. Returns the release. */
export function lockStateDir(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw err;
    }
    const pid = holder(file);
    if (pid !== null && isLivePidpilot(pid)) throw new StateDirBusy(dir, pid);
    try {
      unlinkSync(file); // stale
    } catch {
      // someone else removed it first
    }
  }
  return () => {
    if (holder(file) !== process.pid) return;
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  };
}
