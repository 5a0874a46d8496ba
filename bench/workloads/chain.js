// (1) Chain hop: 200 one-shot jobs j0..j199, j{i} started by j{i-1}'s exitSuccess.
//
// Primary figure — whole-process wall time at INFO, against a matched control:
//   ms/hop = (T(chain) − T(control)) / 199
// where the control has the same 200 jobs (same config size, so the same parsing,
// validation and job set-up) but j1..j199 wait for `exitFailed` of j0, which never comes:
// only j0 runs, then pidpilot sees nothing can start any more and exits. Start-up, config
// handling, the first spawn and shutdown cancel out; what is left is exactly 199 hops:
// j{i} reaped → event → j{i+1}'s loop → spawn → /bin/true runs → exit noticed → event.
// Runs alternate between the two configs; the control's median is subtracted.
//
// Cross-check — pidpilot's own timeline: logging DEBUG/json into a file, where the
// supervisor logs every bus event as it is published ("event exitSuccess j0", pino `time`,
// ms precision): (time of exitSuccess j199 − time of exitSuccess j0) / 199. Exact window,
// ±0.01 ms/hop rounding, but it includes the cost of the DEBUG logging itself (≈8 lines per
// hop, each through pino and the renderer), so it reads somewhat higher.
//
// Baseline: bench/workloads/spawn-chain.js — a bare Node script spawning /bin/true 200 times
// in sequence (own session, piped+read stdout/stderr like a job), awaiting each 'exit'.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, runCommand, runPidpilot, stats, tmpDir, writeConfig } from '../lib.js';

const N = 200;

function chainJobs(n) {
  return Array.from({ length: n }, (_, i) =>
    i === 0
      ? { name: 'j0', exec: ['/bin/true'] }
      : { name: `j${i}`, exec: ['/bin/true'], when: { source: `j${i - 1}`, once: 'exitSuccess' } },
  );
}

/** ms/hop from the debug log of one run. */
function hopFromLog(file) {
  const stamp = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"event exitSuccess j')) continue;
    const rec = JSON.parse(line);
    const m = /^event exitSuccess (j\d+)$/.exec(rec.msg);
    if (m) stamp[m[1]] = Date.parse(rec.time);
  }
  const first = stamp.j0;
  const last = stamp[`j${N - 1}`];
  if (first === undefined || last === undefined) {
    throw new Error(`debug log ${file} lacks "event exitSuccess j0" or "event exitSuccess j${N - 1}" (${Object.keys(stamp).length} exitSuccess events found)`);
  }
  return (last - first) / (N - 1);
}

async function debugLogHops(runs, env = {}) {
  const log = join(tmpDir(), 'chain-debug.log');
  const cfg = writeConfig('chain-debug.json5', { logging: { level: 'DEBUG', format: 'json', output: log }, jobs: chainJobs(N) });
  const out = [];
  for (let i = 0; i <= runs; i++) {
    rmSync(log, { force: true });
    await runPidpilot(cfg, { env });
    if (i > 0) out.push(hopFromLog(log)); // run 0 warms the page cache
  }
  return out;
}

async function wallDiffHops(runs) {
  const logging = { level: 'INFO', format: 'default', output: '/dev/null' };
  const chain = writeConfig('chain-info.json5', { logging, jobs: chainJobs(N) });
  const control = writeConfig('chain-control.json5', {
    logging,
    jobs: chainJobs(N).map((j, i) => (i === 0 ? j : { ...j, when: { source: 'j0', once: 'exitFailed' } })),
  });
  const tc = [];
  const t0 = [];
  for (let i = 0; i <= runs; i++) {
    const a = await runPidpilot(chain);
    const b = await runPidpilot(control);
    if (i > 0) {
      tc.push(a);
      t0.push(b);
    }
  }
  const base = median(t0);
  return { hops: tc.map((t) => (t - base) / (N - 1)), controlMs: stats(t0) };
}

async function bareNode(runs) {
  const out = [];
  for (let i = 0; i <= runs; i++) {
    const { out: text } = await runCommand([process.execPath, fileURLToPath(new URL('./spawn-chain.js', import.meta.url)), String(N)]);
    if (i > 0) out.push(JSON.parse(text).msPerSpawn);
  }
  return out;
}

export async function chainHop({ runs }) {
  const baseline = stats(await bareNode(runs));
  const wall = await wallDiffHops(runs);
  const debugLog = stats(await debugLogHops(runs));
  const nodeBackend = stats(await debugLogHops(Math.max(2, runs - 2), { PIDPILOT_SPAWN: 'node' }));
  return { wall: stats(wall.hops), controlMs: wall.controlMs, debugLog, nodeBackend, baseline };
}
