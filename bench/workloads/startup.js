// (4) Start-up: exec of pidpilot → its first job running.
//
// The job is `tee <fifo>`: the first thing it does once exec'd is open the FIFO for
// writing. The bench has already asked (in a libuv worker) to open the FIFO for reading,
// which the kernel completes only when a writer opens it. So the time from just before
// spawning pidpilot to that open completing is "exec → job process running", including
// Node's own start-up, module loading, config parsing and the first spawn. (tee then reads
// EOF from its /dev/null stdin and exits; pidpilot exits 0 by itself.)
//
// Also reported: pidpilot's main-thread CPU time and run-queue wait up to that moment
// (/proc/<pid>/schedstat), next to the main-thread CPU time of a `node -e` that reads its
// own schedstat as its one statement: on a busy machine the wall times swell with the
// run-queue wait, the CPU times much less, so their ratio is the steadier A/B figure.
//
// Baseline: `node -e 0`, spawn → reaped: what starting any Node program costs here
// (measured alternately with pidpilot's runs). With `vsBin` (bench/run.js --vs-bin), a
// second build is measured in the same rotation: pidpilot, the other build, node -e 0.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  exited,
  killTree,
  msSince,
  nowNs,
  runCommand,
  startPidpilot,
  stats,
  tmpDir,
  withTimeout,
  writeConfig,
} from '../lib.js';

async function once(cfg, fifo, bin) {
  const reader = open(fifo, 'r'); // blocks a libuv worker until a writer opens the FIFO
  const h = startPidpilot(cfg, { bin });
  let fh;
  try {
    fh = await withTimeout(reader, 10_000, 'first job opening the FIFO', () => {
      // unblock the pending open with a writer of our own, then stop pidpilot
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader pending
      }
      killTree(h.child.pid);
    });
  } catch (err) {
    throw new Error(`${err.message}\n${h.stderrText()}`);
  }
  const ms = msSince(h.t0);
  // Main thread so far: time on a CPU and time spent runnable but waiting for one (a busy
  // machine shows up here, not in pidpilot's own cost).
  let cpu = NaN;
  let wait = NaN;
  try {
    [cpu, wait] = readFileSync(`/proc/${h.child.pid}/schedstat`, 'utf8')
      .split(' ')
      .map((x) => Number(x) / 1e6);
  } catch {
    // gone already
  }
  await fh.close();
  const { code, signal } = await withTimeout(exited(h.child), 10_000, 'pidpilot exit', () => killTree(h.child.pid));
  if (code !== 0) throw new Error(`pidpilot exited ${code ?? signal}:\n${h.stderrText()}`);
  return { ms, cpu, wait };
}

export async function startup({ runs, vsBin }) {
  const fifo = join(tmpDir(), 'started.fifo');
  const r = spawnSync('mkfifo', [fifo]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  const cfg = writeConfig('startup.json5', {
    logging: { level: 'INFO', format: 'default', output: '/dev/null' },
    jobs: [{ name: 'first', exec: ['tee', fifo] }],
  });
  // Alternate with the baseline, so that both see the same machine (its speed drifts).
  const pid = [];
  const vs = [];
  const base = [];
  const baseCpu = [];
  const vsCpu = [];
  for (let i = 0; i <= runs; i++) {
    const r = await once(cfg, fifo);
    const v = vsBin ? await once(cfg, fifo, vsBin) : null;
    const { ms } = await runCommand([process.execPath, '-e', '0']);
    const { out } = await runCommand([
      process.execPath,
      '-e',
      "require('fs').writeSync(1, require('fs').readFileSync('/proc/self/schedstat', 'utf8'))",
    ]);
    if (i > 0) {
      pid.push(r);
      if (v) {
        vs.push(v.ms);
        vsCpu.push(v.cpu);
      }
      base.push(ms);
      baseCpu.push(Number(out.split(' ')[0]) / 1e6);
    }
  }
  return {
    pidpilot: stats(pid.map((r) => r.ms)),
    cpu: stats(pid.map((r) => r.cpu)),
    wait: stats(pid.map((r) => r.wait)),
    baseline: stats(base),
    baselineCpu: stats(baseCpu),
    vs: vsBin ? stats(vs) : null,
    vsCpu: vsBin ? stats(vsCpu) : null,
    // Ratios run by run (each pidpilot run over the node -e 0 run right after it): steadier
    // than the ratio of medians when the machine's speed drifts.
    pairRatio: stats(pid.map((r, i) => r.ms / base[i])),
  };
}
