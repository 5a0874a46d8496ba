// (3) Peak RSS with 100 idle jobs, and (5) SIGTERM → exit.
//
// RSS: pidpilot with 100 jobs `sleep 3600`; once /proc shows its 100 children, wait 1 s
// more, then read VmHWM (peak RSS over its whole life, start-up included) and VmRSS (now)
// from /proc/<pid>/status. The same with 500 jobs gives the cost of each extra idle job,
// (VmRSS(500) − VmRSS(100)) / 400, in bytes (pidpilot's own memory: the jobs' processes are
// not in it). Baseline: `node -e "setTimeout(()=>{},1e6)"`, 500 ms after it is up.
//
// SIGTERM → exit: pidpilot with 10 jobs `sleep 3600` (sleep dies at once on SIGTERM); once
// all 10 run (+100 ms), time from kill(pid, SIGTERM) to pidpilot being reaped; it must exit 0.
// The 100-job RSS runs are ended the same way and that time is reported too. Baseline, in
// the same rotation: an `sh` with the same sleeps as background jobs, whose TERM trap kills
// them, waits for them and exits — the kernel's and the sleeps' part of the same work.

import { spawn } from 'node:child_process';
import {
  BENCH_ENV,
  exited,
  killTree,
  msSince,
  nowNs,
  procStatus,
  sleep,
  startPidpilot,
  stats,
  track,
  waitForChildren,
  withTimeout,
  writeConfig,
} from '../lib.js';

function sleepers(n) {
  return Array.from({ length: n }, (_, i) => ({ name: `idle${i}`, exec: ['sleep', '3600'] }));
}

/** Starts pidpilot with n sleepers and waits until they all run; returns the handle. */
async function startIdle(n, name) {
  // 500 jobs take a while to start on a busy machine.
  const timeoutMs = 10_000 + 40 * n;
  const cfg = writeConfig(name, {
    logging: { level: 'INFO', format: 'default', output: '/dev/null' },
    jobs: sleepers(n),
  });
  const h = startPidpilot(cfg);
  try {
    await waitForChildren(h.child.pid, n, timeoutMs);
  } catch (err) {
    killTree(h.child.pid);
    throw new Error(`${err.message}\n${h.stderrText()}`);
  }
  return h;
}

/** SIGTERM → reaped, in ms; throws unless it exits 0. */
async function terminate(h) {
  const done = exited(h.child);
  const t0 = nowNs();
  h.child.kill('SIGTERM');
  const { code, signal } = await withTimeout(done, 15_000, 'pidpilot after SIGTERM', () => killTree(h.child.pid));
  const ms = msSince(t0);
  if (code !== 0) throw new Error(`pidpilot exited ${code ?? signal} after SIGTERM:\n${h.stderrText()}`);
  return ms;
}

const SH_STOPPER =
  'trap \'kill $pids; wait; exit 0\' TERM; pids=; i=0; while [ "$i" -lt "$1" ]; do sleep 3600 & pids="$pids $!"; i=$((i+1)); done; echo up; wait';

/** The sh baseline with n sleeps: SIGTERM → reaped, in ms. */
async function shTerminate(n) {
  const c = track(
    spawn('sh', ['-c', SH_STOPPER, 'sh', String(n)], { stdio: ['ignore', 'pipe', 'ignore'], env: BENCH_ENV }),
  );
  await withTimeout(new Promise((r) => c.stdout.once('data', r)), 30_000, 'sh with sleeps', () => killTree(c.pid));
  await sleep(100);
  return terminate({ child: c, stderrText: () => '' });
}

async function rssOf(n, runs) {
  const hwm = [];
  const rss = [];
  const term = [];
  const shTerm = [];
  for (let i = 0; i < runs; i++) {
    const h = await startIdle(n, `idle-${n}.json5`);
    await sleep(1000);
    const st = procStatus(h.child.pid);
    hwm.push(st.VmHWM / 1024);
    rss.push(st.VmRSS / 1024);
    term.push(await terminate(h));
    shTerm.push(await shTerminate(n));
  }
  return {
    hwm: stats(hwm),
    rss: stats(rss),
    rssRuns: [...rss].sort((a, b) => a - b),
    term: stats(term),
    shTerm: stats(shTerm),
  };
}

async function bareNodeRss(runs) {
  const hwm = [];
  const rss = [];
  for (let i = 0; i < runs; i++) {
    // It says when it is up (fs.writeSync touches no stream machinery), then idles.
    const c = track(
      spawn(process.execPath, ['-e', "setTimeout(()=>{},1e6);require('fs').writeSync(1,'r')"], {
        stdio: ['ignore', 'pipe', 'ignore'],
        env: BENCH_ENV,
      }),
    );
    await withTimeout(new Promise((r) => c.stdout.once('data', r)), 30_000, 'node -e baseline');
    await sleep(500);
    const st = procStatus(c.pid);
    hwm.push(st.VmHWM / 1024);
    rss.push(st.VmRSS / 1024);
    c.kill('SIGKILL');
    await exited(c);
  }
  return { hwm: stats(hwm), rss: stats(rss) };
}

export async function idleRss({ runs }) {
  return { jobs100: await rssOf(100, runs), jobs500: await rssOf(500, runs), bare: await bareNodeRss(runs) };
}

export async function sigterm({ runs }) {
  const out = [];
  const sh = [];
  for (let i = 0; i <= runs; i++) {
    const h = await startIdle(10, 'sigterm-10.json5');
    await sleep(100);
    const ms = await terminate(h);
    const base = await shTerminate(10);
    if (i > 0) {
      out.push(ms);
      sh.push(base);
    }
  }
  return { pidpilot: stats(out), sh: stats(sh) };
}
