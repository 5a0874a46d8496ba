#!/usr/bin/env node
// pidpilot's benchmarks (`npm run bench`; not part of `npm test`). Runs the built CLI
// (bin/pidpilot.js → dist/) on generated configs in a temp dir, each workload several times,
// next to a baseline measured in the same run, and prints one table. Targets are goals,
// never assertions: the exit status is 0 even when one is missed (1 only if a benchmark
// could not run at all).
//
//   node bench/run.js [--runs N] [--only chain,relay,rss,startup,sigterm,graph,reap,config] [--vs-bin OTHER/bin/pidpilot.js]
//
// How each figure is measured is written at the top of its workload file:
//   bench/workloads/chain.js    (1) chain hop, ms per hop          baseline sh loop of fork+exec+wait
//   bench/workloads/relay.js    (2) log relay, lines/s             baseline cat > /dev/null
//   bench/workloads/idle.js     (3) RSS with 100 idle jobs         baseline bare node; bytes per extra job (100 → 500)
//                               (5) SIGTERM → exit, 100 and 10 jobs
//   bench/workloads/startup.js  (4) exec → first job running       baseline node -e 0
//   bench/workloads/graph.js    (6) pidpilot run → target running in a 20-job dependsOn graph
//                                   next to the sum of the jobs' own times (serial) and the critical path
//   bench/workloads/reap.js     (7) reap 10,000 orphaned zombies  baseline tini -s
//   bench/workloads/config-parse.js (8) parse a 1 MiB config of adversarial shape: peak heap and RSS
//                                   as multiples of its size   baseline JSON.parse of a same-size JSON file
// Columns: "median [best of N]" — best is the lowest time/memory, the highest rate.
// ratio = pidpilot median / baseline median. met? compares the median (or, for a target
// written as N×, the ratio) with the target (issue 16's targets).
//
// Start-up budget: bench/README.md records the last start-up ratio (exec → first job over
// node -e 0, the line "startup ratio: N×"); a ratio more than 10% above it is flagged as a
// REGRESSION and the exit status is 3. Record the new figures there with each change that
// moves them.
//
// Timings on a shared or virtual machine are noisy: the header and the last note give the
// load, a calibration loop and the hypervisor's steal time; compare runs with care.
// A/B: PIDPILOT_BENCH_BIN=/other/bin/pidpilot.js, PIDPILOT_BENCH_NODE_FLAGS="--no-opt"
// (see lib.js); --vs-bin OTHER/bin/pidpilot.js adds another build to the start-up rotation.
// Start-up profile: PIDPILOT_CPU_PROF=FILE (bin/cpu-profile.js) and
// bench/cpu-profile-summary.js. bench/import-cost.js is a separate diagnostic (load time and RSS per import);
// bench/log-relay.mjs benchmarks the relay in-process, without the CLI.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleModule } from '../scripts/bundle-module.mjs';
import { BIN, cleanup, NODE_FLAGS, ROOT, STRIPPED_ENV, stats, table } from './lib.js';
import { chainHop } from './workloads/chain.js';
import { configParse, PARSERS } from './workloads/config-parse.js';
import { dependencyGraph } from './workloads/graph.js';
import { idleRss, sigterm } from './workloads/idle.js';
import { ORPHANS, reap } from './workloads/reap.js';
import { LINES, logRelay } from './workloads/relay.js';
import { startup } from './workloads/startup.js';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RUNS = Number(opt('runs', 5));
const ONLY = new Set(opt('only', 'chain,relay,rss,startup,sigterm,graph,reap,config').split(','));
const VS_BIN = opt('vs-bin', undefined);
if (VS_BIN && !existsSync(VS_BIN)) {
  console.error(`--vs-bin ${VS_BIN}: no such file`);
  process.exit(2);
}
const README = join(ROOT, 'bench', 'README.md');
/** The start-up ratio recorded in bench/README.md ("startup ratio: 1.23×"), or null. */
function recordedStartupRatio() {
  try {
    const m = /startup ratio: ([0-9.]+)×/.exec(readFileSync(README, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

// --- machine -----------------------------------------------------------------------------
let backend;
try {
  const bundled = await bundleModule(join(ROOT, 'src', 'process', 'spawn.ts'));
  const addon = await bundleModule(join(ROOT, 'src', 'process', 'native.ts'), dirname(bundled));
  const { spawnBackend } = await import(pathToFileURL(bundled).href);
  const { ADDON_PATH } = await import(pathToFileURL(addon).href);
  rmSync(dirname(bundled), { recursive: true, force: true });
  const b = spawnBackend();
  backend =
    b.kind === 'native'
      ? `native addon (${relative(ROOT, ADDON_PATH)})`
      : `node:child_process${b.warning ? ` — ${b.warning}` : ' (PIDPILOT_SPAWN=node)'}`;
} catch (err) {
  backend = `unavailable: ${err.message}`;
}
const cpu = cpus();
console.log(`pidpilot benchmarks — ${new Date().toISOString()}`);
console.log(
  `machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}`,
);
console.log(`pidpilot: node ${[...NODE_FLAGS, BIN].join(' ')}`);
if (STRIPPED_ENV.length)
  console.log(
    `removed from the environment of everything started (PIDPILOT_BENCH_KEEP_ENV=1 keeps it): ${STRIPPED_ENV.join(' ')} — it adds ~150 ms to every node start-up`,
  );
console.log(`node ${process.version}; spawn backend: ${backend}; runs per figure: ${RUNS} (+1 warm-up where noted)`);
const loadNote = () => {
  const l = loadavg();
  const busy = l[0] > cpu.length * 0.5;
  return `load average ${l.map((x) => x.toFixed(2)).join(' ')}${busy ? ` — WARNING: the machine is busy (${cpu.length} CPUs); timings are inflated, trust the [best] column more than the median` : ''}`;
};
// Steal time: on a VM, the share of CPU time the hypervisor gave to someone else. Above a
// few % the figures below are inflated and vary between runs.
const cpuTimes = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
const stat0 = cpuTimes();
const stealNote = () => {
  const d = cpuTimes().map((x, i) => x - stat0[i]);
  const total = d.reduce((a, b) => a + b, 0);
  return `CPU during the run: ${f((100 * (d[0] + d[1] + d[2])) / total, 0)}% busy (all processes), ${f((100 * (d[7] ?? 0)) / total, 0)}% stolen by the hypervisor`;
};
// Calibration: a fixed CPU loop; its time says how fast this machine is right now (compare
// between runs: on a VM with steal time it varies several-fold).
const calibrate = () => {
  const t0 = process.hrtime.bigint();
  let x = 0;
  for (let i = 0; i < 1e7; i++) x = (x + i) | 0;
  return `${f(Number(process.hrtime.bigint() - t0) / 1e6, 1)} ms${x === 1 ? '' : ''}`;
};
console.log(`${loadNote()}; calibration loop ${calibrate()}\n`);

// --- run ---------------------------------------------------------------------------------
const rows = [];
let budget = null;
let regression = false;
const notes = [];
const errors = [];
const extraTables = [];
const kps = (x) => `${Math.round(x / 1000).toLocaleString('en-US')}k/s`;

/**
 * A row: `s` = stats {median, min, max}; lower is better unless `higher`. `target`:
 * { value, label } compares the median, { ratio, label } the ratio to the baseline.
 */
function row(name, s, fmt, baseline, target, { higher = false, baseLabel } = {}) {
  const best = higher ? s.max : s.min;
  const cell = `${fmt(s.median)} [${fmt(best)}]`;
  const base = baseline ? `${fmt(baseline.median)}${baseLabel ? ` ${baseLabel}` : ''}` : (baseLabel ?? '—');
  const r = baseline ? s.median / baseline.median : NaN;
  const ratio = baseline ? `${f(r)}×` : '—';
  let met = '—';
  if (target) {
    const x = target.ratio !== undefined ? r : s.median;
    const want = target.ratio ?? target.value;
    met = (higher ? x >= want : x <= want) ? 'yes' : 'NO';
  }
  rows.push([name, cell, base, ratio, target ? target.label : '—', met]);
}

async function section(name, fn) {
  if (!ONLY.has(name)) return;
  const t0 = Date.now();
  process.stderr.write(`running ${name}… `);
  try {
    await fn();
    process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    process.stderr.write('failed\n');
    errors.push(`${name}: ${err.stack ?? err}`);
    rows.push([name, 'ERROR (see below)', '', '', '', '']);
  }
}

const ms = (x) => `${f(x)} ms`;
const ms3 = (x) => `${f(x, 3)} ms`;
const mb = (x) => `${f(x, 1)} MB`;
const kb = (x) => `${f(x / 1024, 1)} kB`;

await section('chain', async () => {
  const r = await chainHop({ runs: RUNS });
  const target = { ratio: 1.5, label: '≤ 1.5× sh loop' };
  row('chain hop, ms/hop ((200 jobs − 1 job) / 199)', r.wall, ms3, r.baseline, target, { baseLabel: '(sh loop)' });
  row('  cross-check: DEBUG log timeline', r.debugLog, ms3, r.baseline, null, { baseLabel: '(sh loop)' });
  row('  same, PIDPILOT_SPAWN=node backend', r.nodeBackend, ms3, r.baseline, null, { baseLabel: '(sh loop)' });
  row('  info: bare node:child_process spawn chain', r.bareSpawn, ms3, r.baseline, null, { baseLabel: '(sh loop)' });
  notes.push(
    `chain: the 1-job chain takes ${f(r.oneMs.median, 1)} ms wall (spawn → reaped); the sh loop is (T(200 × /bin/true) − T(1)) / 199.`,
  );
});

await section('relay', async () => {
  const r = await logRelay({ runs: RUNS });
  // Issue 16: ≥ 2.8× ContainerPilot 3.8's 121k lines/s measured on the same machine.
  const target = { value: 340_000, label: '≥ 340k/s' };
  row('log relay, lines/s (format default)', r.default, kps, r.cat, target, {
    higher: true,
    baseLabel: '(cat >/dev/null)',
  });
  row('log relay, lines/s (format json)', r.json, kps, r.cat, null, { higher: true, baseLabel: '(cat >/dev/null)' });
  row('  info: cat | cat > /dev/null', r.catPipe, kps, r.cat, null, { higher: true, baseLabel: '(cat >/dev/null)' });
  for (const fmt of ['default', 'json']) {
    const lost = LINES - r[fmt].delivered;
    notes.push(
      `relay ${fmt}: pidpilot wall ${f(r[fmt].ms.median, 0)} ms with 1e6 lines, ${f(r[fmt].emptyMs.median, 0)} ms with an empty job; ` +
        `completeness run into a file: ${r[fmt].delivered.toLocaleString('en-US')} of ${LINES.toLocaleString('en-US')} lines delivered` +
        (lost ? ` — ${lost.toLocaleString('en-US')} LOST` : ''),
    );
  }
});

await section('rss', async () => {
  const runs = Math.max(3, Math.ceil(RUNS / 2));
  const r = await idleRss({ runs });
  const target = { ratio: 1.3, label: '≤ 1.3× bare node' };
  row('RSS now (VmRSS), 100 idle jobs', r.jobs100.rss, mb, r.bare.rss, target, { baseLabel: '(node -e)' });
  row('  RSS peak (VmHWM), 100 idle jobs', r.jobs100.hwm, mb, r.bare.hwm, target, { baseLabel: '(node -e)' });
  row('  RSS now (VmRSS), 500 idle jobs', r.jobs500.rss, mb, r.bare.rss, null, { baseLabel: '(node -e)' });
  // The k-th lowest of 500 jobs minus the k-th lowest of 100: the median is that of the medians.
  const perJob = stats(r.jobs500.rssRuns.map((x, i) => ((x - r.jobs100.rssRuns[i]) * 1024 * 1024) / 400));
  row('  per extra idle job ((500 − 100 jobs) / 400)', perJob, kb, null, null);
  row(
    '  SIGTERM → exit, 100 jobs',
    r.jobs100.term,
    ms,
    r.jobs100.shTerm,
    { value: 100, label: '≤ 100 ms' },
    { baseLabel: '(sh: kill, wait)' },
  );
  row('  SIGTERM → exit, 500 jobs', r.jobs500.term, ms, r.jobs500.shTerm, null, { baseLabel: '(sh: kill, wait)' });
});

await section('startup', async () => {
  const r = await startup({ runs: Math.max(RUNS, 8), vsBin: VS_BIN });
  row(
    'startup: exec → first job running',
    r.pidpilot,
    ms,
    r.baseline,
    { ratio: 1.3, label: '≤ 1.3× node -e 0' },
    { baseLabel: '(node -e 0)' },
  );
  row('  same, run by run: pidpilot / node -e 0', r.pairRatio, (x) => `${f(x)}×`, null, null);
  row('  main-thread CPU: to the first job / node -e', r.cpu, ms, r.baselineCpu, null, { baseLabel: '(node -e)' });
  if (r.vs) {
    row(`  --vs-bin ${VS_BIN}`, r.vs, ms, r.baseline, null, { baseLabel: '(node -e 0)' });
    row('  --vs-bin: main-thread CPU to the first job', r.vsCpu, ms, r.baselineCpu, null, { baseLabel: '(node -e)' });
  }
  const ratio = r.pidpilot.median / r.baseline.median;
  const recorded = recordedStartupRatio();
  if (recorded === null) {
    budget = `start-up budget: no "startup ratio: N×" line in ${README}; this run's ratio is ${f(ratio)}×`;
  } else if (ratio > recorded * 1.1) {
    budget = `start-up budget: REGRESSION — exec → first job is ${f(ratio)}× node -e 0, more than 10% above the ${f(recorded)}× recorded in bench/README.md (limit ${f(recorded * 1.1)}×)`;
    regression = true;
  } else {
    budget = `start-up budget: ok — ${f(ratio)}× node -e 0, within 10% of the ${f(recorded)}× recorded in bench/README.md (limit ${f(recorded * 1.1)}×)`;
  }
  notes.push(
    `startup: up to the first job running, pidpilot's main thread was on a CPU ${f(r.cpu.median, 1)} ms [min ${f(r.cpu.min, 1)}] and waited for one ${f(r.wait.median, 1)} ms (run queue; > 0 means the machine is busy).`,
  );
});

await section('sigterm', async () => {
  const r = await sigterm({ runs: RUNS });
  row(
    'SIGTERM → exit, 10 jobs',
    r.pidpilot,
    ms,
    r.sh,
    { value: 100, label: '≤ 100 ms' },
    { baseLabel: '(sh: kill, wait)' },
  );
});

await section('graph', async () => {
  const r = await dependencyGraph({ runs: RUNS });
  row(`run → target running, ${r.jobs}-job dependsOn graph`, r.graph, ms, r.sum, null, {
    baseLabel: "(sum of the jobs' own times)",
  });
  row('  critical path: 5 jobs one after the other', r.critical, ms, null, null);
  row('  control: run → target, no dependencies', r.control, ms, null, null);
  notes.push(
    `graph: pidpilot run → target ${f(r.graph.median, 0)} ms; the 19 jobs it needs take ${f(r.sum.median, 0)} ms one after the other (sum of their own times) and ${f(r.critical.median, 0)} ms along the critical path; ` +
      `pidpilot's own start-up to a dependency-free target is ${f(r.control.median, 0)} ms, so scheduling the graph costs ≈ ${f(r.graph.median - r.control.median - r.critical.median, 0)} ms over the critical path.`,
  );
});

await section('reap', async () => {
  // Each run forks 10,000 processes per reaper: fewer runs than the other figures.
  const r = await reap({ runs: Math.min(RUNS, 3) });
  const label = `reap ${ORPHANS.toLocaleString('en-US')} orphaned zombies`;
  row(label, r.pidpilot, ms, r.tini, r.tini ? { ratio: 1.1, label: '≤ 1.1× tini' } : null, {
    baseLabel: r.tini ? '(tini -s)' : '(tini not installed: apt-get install -y tini)',
  });
  notes.push(
    `reap: pidpilot ${f(r.pidpilot.median, 1)} ms [best ${f(r.pidpilot.min, 1)}], ` +
      (r.tini ? `tini ${f(r.tini.median, 1)} ms [best ${f(r.tini.min, 1)}]` : 'tini not installed') +
      ` to reap ${ORPHANS.toLocaleString('en-US')} zombies waiting when the reaper is continued (SIGCONT), both as child subreapers.`,
  );
});

await section('config', async () => {
  const r = await configParse({ runs: Math.max(3, Math.ceil(RUNS / 2)) });
  const x = (v) => `${f(v, 1)}×`;
  const cell = (p) => (p.error ? `error: ${p.error.slice(0, 40)}` : '');
  const header = ['config parse, 1 MiB', ...PARSERS.flatMap((p) => [`${p} heap [best]`, 'rss', 'cpu', 'lin'])];
  const tableRows = Object.entries(r).map(([shape, res]) => [
    shape,
    ...PARSERS.flatMap((p) => [
      `${x(res[p].heap.median)} [${x(res[p].heap.min)}]`,
      x(res[p].rss.median),
      ms(res[p].cpu.median),
      f(res[p].lin, 1),
    ]),
  ]);
  const errs = Object.entries(r).flatMap(([shape, res]) =>
    PARSERS.filter((p) => res[p].error).map((p) => `${shape}, ${p}: ${cell(res[p])}`),
  );
  const worst = Math.max(...Object.values(r).flatMap((res) => [res.pidpilot.heap.median, res.pidpilot.rss.median]));
  extraTables.push(
    `${table(header, tableRows)}\n` +
      '(heap, rss: peak during the parse over the file size, median [best]; cpu: the parse, median; lin: cpu at 1 MiB / at 256 KiB, 4 = linear)\n' +
      (errs.length ? `parse errors (expected for the shape past the depth limit): ${errs.join('; ')}\n` : '') +
      `target ≤ 20× the file for pidpilot, heap and RSS, every shape: worst ${x(worst)} — ${worst <= 20 ? 'met' : 'NOT met'}`,
  );
});

console.log(table(['benchmark', `pidpilot median [best]`, 'baseline (median)', 'ratio', 'target', 'met?'], rows));
notes.push(`at the end: ${loadNote()}; calibration loop ${calibrate()}; ${stealNote()}`);
for (const t of extraTables) console.log(`\n${t}`);
if (notes.length) console.log('\n' + notes.map((n) => `- ${n}`).join('\n'));
if (budget) console.log(`\n${budget}`);
if (regression) process.exitCode = 3;
if (errors.length) {
  console.log('\nerrors:\n' + errors.join('\n\n'));
  process.exitCode = 1;
}
cleanup();
