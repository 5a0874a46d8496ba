// Reaping: time for the reaper to reap 10,000 orphaned zombies, pidpilot next to
// `tini -s` (Debian package tini) doing the same in the same run.
//
// Both run as child subreapers (pidpilot makes itself one when it is not PID 1; tini with
// -s), so no root and no PID namespace is needed, and both get the same work. Their one job,
// orphan-burst.py, waits on a FIFO. The bench stops the reaper (SIGSTOP), releases the job,
// which leaves 10,000 orphans that exit at once, waits until all of them are zombies
// re-parented to the stopped reaper, then continues it (SIGCONT) and measures from there
// until no orphan is left among the reaper's children (polled through
// /proc/<reaper>/task/*/children every 2 ms). So the figure is the reaping alone, not the
// forking nor the exiting of 10,000 processes. The polling shares the CPUs with the reaper.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BENCH_ENV,
  childrenOf,
  exited,
  killTree,
  msSince,
  nowNs,
  sleep,
  startPidpilot,
  stats,
  tmpDir,
  track,
  withTimeout,
  writeConfig,
} from '../lib.js';

export const ORPHANS = 10_000;
const BURST = fileURLToPath(new URL('./orphan-burst.py', import.meta.url));

async function until(what, fn, timeoutMs, pollMs = 2) {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}

function zombies(pids) {
  let n = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'Z') n++;
    } catch {
      // gone
    }
  }
  return n;
}

/** One burst under the reaper `reaperPid` (its job waits on `fifo`): ms from SIGCONT to the last orphan reaped. */
async function burst(reaperPid, fifo) {
  await until('the job to start', () => childrenOf(reaperPid).length >= 1, 30_000, 5);
  const before = childrenOf(reaperPid).length;
  process.kill(reaperPid, 'SIGSTOP');
  try {
    closeSync(openSync(fifo, 'w')); // the job makes its orphans (blocks until it waits on the FIFO)
    await until(
      'the orphans to be zombies of the reaper',
      () => zombies(childrenOf(reaperPid)) >= ORPHANS,
      300_000,
      50,
    );
  } catch (err) {
    process.kill(reaperPid, 'SIGCONT');
    throw err;
  }
  const t0 = nowNs();
  process.kill(reaperPid, 'SIGCONT');
  await until('the orphans to be reaped', () => childrenOf(reaperPid).length <= before, 60_000);
  return msSince(t0);
}

function mkfifo(name) {
  const fifo = join(tmpDir(), name);
  const r = spawnSync('mkfifo', [fifo]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  return fifo;
}

async function underPidpilot(i) {
  const fifo = mkfifo(`reap-pidpilot-${i}.fifo`);
  const cfg = writeConfig(`reap-${i}.json5`, {
    logging: { level: 'INFO', output: '/dev/null' },
    jobs: [{ name: 'burst', exec: ['python3', BURST, String(ORPHANS), fifo] }],
  });
  const h = startPidpilot(cfg);
  try {
    return await burst(h.child.pid, fifo);
  } finally {
    h.child.kill('SIGTERM');
    await withTimeout(exited(h.child), 10_000, 'pidpilot exit', () => killTree(h.child.pid));
  }
}

async function underTini(i) {
  const fifo = mkfifo(`reap-tini-${i}.fifo`);
  const child = track(
    spawn('tini', ['-s', '--', 'python3', BURST, String(ORPHANS), fifo], { stdio: 'ignore', env: BENCH_ENV }),
  );
  try {
    return await burst(child.pid, fifo);
  } finally {
    child.kill('SIGTERM'); // tini forwards it to its child and exits with it
    await withTimeout(exited(child), 10_000, 'tini exit', () => killTree(child.pid));
  }
}

export function tiniAvailable() {
  return spawnSync('tini', ['--version']).status === 0;
}

export async function reap({ runs }) {
  const pid = [];
  const tini = [];
  const withTini = tiniAvailable();
  // Alternate, so that both see the same machine.
  for (let i = 0; i < runs; i++) {
    pid.push(await underPidpilot(i));
    if (withTini) tini.push(await underTini(i));
  }
  return { pidpilot: stats(pid), tini: withTini ? stats(tini) : null };
}
