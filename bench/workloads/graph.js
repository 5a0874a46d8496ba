// (6) Dependency graph: `pidpilot run target` on a 20-job dependsOn graph → target running.
//
// The graph is layered: 1 → 4 → 6 → 4 → 4 jobs, each depending (`succeeded`) on every job
// of the layer before, and `target` depending on the last layer. Every job but the target
// is a one-shot `sh -c 'sleep 0.02'` (a job with its own start-up time, ~20 ms + a shell);
// the target is `tee <fifo>`, whose open of the FIFO marks it running (as in startup.js).
// Measured: just before spawning `pidpilot run target` → the target opening the FIFO.
//
// Next to it, measured in the same run:
// - sum of the jobs' own times: a bare Node script runs the same 19 commands one after the
//   other (spawn → exit, like a job) and sums them — what a strictly serial start would cost;
// - critical path: the same, one job per layer (5 jobs) — the least any scheduler could do;
// - control: `pidpilot run target` where target has no dependencies (pidpilot's start-up).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BENCH_ENV,
  BIN,
  exited,
  killTree,
  msSince,
  NODE_FLAGS,
  nowNs,
  runCommand,
  stats,
  tmpDir,
  track,
  withTimeout,
  writeConfig,
} from '../lib.js';

const LAYERS = [1, 4, 6, 4, 4];
const JOB = ['sh', '-c', 'sleep 0.02'];

function graphConfig(fifo) {
  const jobs = [];
  let previous = [];
  LAYERS.forEach((size, l) => {
    const layer = Array.from({ length: size }, (_, i) => `l${l}j${i}`);
    for (const name of layer)
      jobs.push({ name, exec: JOB, dependsOn: previous.map((job) => ({ job, condition: 'succeeded' })) });
    previous = layer;
  });
  jobs.push({
    name: 'target',
    exec: ['tee', fifo],
    dependsOn: previous.map((job) => ({ job, condition: 'succeeded' })),
  });
  return { logging: { level: 'INFO', format: 'default', output: '/dev/null' }, jobs };
}

/** ms from spawning `pidpilot run target` to the target opening the FIFO. */
async function runToTarget(cfg, fifo) {
  const reader = open(fifo, 'r');
  const t0 = nowNs();
  const child = track(
    spawn(process.execPath, [...NODE_FLAGS, BIN, 'run', 'target', '-config', cfg], {
      cwd: tmpDir(),
      stdio: ['ignore', 'ignore', 'pipe'],
      env: BENCH_ENV,
    }),
  );
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const fh = await withTimeout(reader, 20_000, 'target opening the FIFO', () => {
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader pending
    }
    killTree(child.pid);
  });
  const ms = msSince(t0);
  await fh.close();
  const { code, signal } = await withTimeout(exited(child), 20_000, 'pidpilot run exit', () => killTree(child.pid));
  if (code !== 0) throw new Error(`pidpilot run target exited ${code ?? signal}:\n${err}`);
  return ms;
}

/** ms to run `JOB` n times one after the other from a bare Node script (spawn → exit each). */
async function serial(n) {
  const script = `const {spawn}=require('child_process');(async()=>{for(let i=0;i<${n};i++)await new Promise((r,j)=>spawn(${JSON.stringify(JOB[0])},${JSON.stringify(JOB.slice(1))},{stdio:['ignore','pipe','pipe'],detached:true}).on('exit',r).on('error',j))})()`;
  const t0 = nowNs();
  await runCommand([process.execPath, '-e', script]);
  return msSince(t0);
}

export async function dependencyGraph({ runs }) {
  const fifo = join(tmpDir(), 'graph.fifo');
  const r = spawnSync('mkfifo', [fifo]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${r.stderr}`);
  const graph = writeConfig('graph.json5', graphConfig(fifo));
  const control = writeConfig('graph-control.json5', {
    logging: { level: 'INFO', format: 'default', output: '/dev/null' },
    jobs: [{ name: 'target', exec: ['tee', fifo] }],
  });
  const nodeStart = (await runCommand([process.execPath, '-e', '0'])).ms; // warm-up
  void nodeStart;
  const out = { graph: [], control: [], sum: [], critical: [] };
  const jobs = LAYERS.reduce((a, b) => a + b, 0);
  for (let i = 0; i <= runs; i++) {
    const g = await runToTarget(graph, fifo);
    const c = await runToTarget(control, fifo);
    // A bare node start-up is part of both serial figures; take it out so they are the jobs' own times.
    const base = (await runCommand([process.execPath, '-e', '0'])).ms;
    const sum = (await serial(jobs)) - base;
    const critical = (await serial(LAYERS.length)) - base;
    if (i === 0) continue; // warm-up
    out.graph.push(g);
    out.control.push(c);
    out.sum.push(sum);
    out.critical.push(critical);
  }
  return {
    jobs: jobs + 1,
    graph: stats(out.graph),
    control: stats(out.control),
    sum: stats(out.sum),
    critical: stats(out.critical),
  };
}
