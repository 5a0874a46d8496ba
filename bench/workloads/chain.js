// (1) Chain hop: 200 one-shot jobs j0..j199, j{i} started by j{i-1}'s exitSuccess.
//
// Primary figure — whole-process wall time at INFO, against a one-job chain:
//   ms/hop = (T(200-job chain) − T(1-job chain)) / 199
// T = pidpilot's wall time, spawn → reaped. Start-up, the first spawn and shutdown cancel
// out; what is left is 199 hops (j{i} reaped → event → j{i+1}'s loop → spawn → /bin/true
// runs → exit noticed → event), plus reading and validating 199 more jobs in the file.
// Runs alternate between the two configs; the 1-job chain's median is subtracted.
//
// Baseline — the floor of a hop: `sh` running /bin/true in a loop, which is fork + exec +
// wait and nothing else, measured the same way: (T(loop of 200) − T(loop of 1)) / 199, in
// the same rotation as pidpilot's runs. (ContainerPilot 3.8's hop is 1.5–1.6× this loop on
// the machine of issue 16.)
//
// Cross-check — pidpilot's own timeline: logging DEBUG/json into a file, where the
// supervisor logs every bus event as it is published ("event exitSuccess j0", pino `time`,
// ms precision): (time of exitSuccess j199 − time of exitSuccess j0) / 199. Exact window,
// ±0.01 ms/hop rounding, but it includes the cost of the DEBUG logging itself (≈8 lines per
// hop, each through pino and the renderer), so it reads somewhat higher.
//
// Informational: bench/workloads/spawn-chain.js — a bare Node script spawning /bin/true 200
// times in sequence through node:child_process (own session, piped stdout/stderr like a
// job), awaiting each 'exit'.
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
    throw new Error(
      `debug log ${file} lacks "event exitSuccess j0" or "event exitSuccess j${N - 1}" (${Object.keys(stamp).length} exitSuccess events found)`,
    );
  }
  return (last - first) / (N - 1);
}

async function debugLogHops(runs, env = {}) {
  const log = join(tmpDir(), 'chain-debug.log');
  const cfg = writeConfig('chain-debug.json5', {
    logging: { level: 'DEBUG', format: 'json', output: log },
    jobs: chainJobs(N),
  });
  const out = [];
  for (let i = 0; i <= runs; i++) {
    rmSync(log, { force: true });
    await runPidpilot(cfg, { env });
    if (i > 0) out.push(hopFromLog(log)); // run 0 warms the page cache
  }
  return out;
}

const SH_LOOP = 'i=0; while [ "$i" -lt "$1" ]; do /bin/true; i=$((i+1)); done';
const shLoop = (n) => runCommand(['sh', '-c', SH_LOOP, 'sh', String(n)]).then((r) => r.ms);

/** pidpilot's hop and the sh loop's, each (T(200) − T(1)) / 199, in one rotation. */
async function wallDiffHops(runs) {
  const logging = { level: 'INFO', format: 'default', output: '/dev/null' };
  const chain = writeConfig('chain-info.json5', { logging, jobs: chainJobs(N) });
  const one = writeConfig('chain-one.json5', { logging, jobs: chainJobs(1) });
  const t = { chain: [], one: [], loop: [], loop1: [] };
  for (let i = 0; i <= runs; i++) {
    const r = {
      chain: await runPidpilot(chain),
      one: await runPidpilot(one),
      loop: await shLoop(N),
      loop1: await shLoop(1),
    };
    if (i > 0) for (const k of Object.keys(t)) t[k].push(r[k]);
  }
  const one1 = median(t.one);
  const loop1 = median(t.loop1);
  return {
    hops: t.chain.map((x) => (x - one1) / (N - 1)),
    shHops: t.loop.map((x) => (x - loop1) / (N - 1)),
    oneMs: stats(t.one),
  };
}

async function bareNode(runs) {
  const out = [];
  for (let i = 0; i <= runs; i++) {
    const { out: text } = await runCommand([
      process.execPath,
      fileURLToPath(new URL('./spawn-chain.js', import.meta.url)),
      String(N),
    ]);
    if (i > 0) out.push(JSON.parse(text).msPerSpawn);
  }
  return out;
}

export async function chainHop({ runs }) {
  const wall = await wallDiffHops(runs);
  const bareSpawn = stats(await bareNode(runs));
  const debugLog = stats(await debugLogHops(runs));
  const nodeBackend = stats(await debugLogHops(Math.max(2, runs - 2), { PIDPILOT_SPAWN: 'node' }));
  return { wall: stats(wall.hops), oneMs: wall.oneMs, baseline: stats(wall.shHops), debugLog, nodeBackend, bareSpawn };
}
