// Shared helpers of the benchmarks (bench/run.js): a temp dir, process tracking and
// cleanup, running pidpilot, /proc readers, statistics and the table.
//
// Every process the bench starts goes through `track()`; on exit (normal, error, Ctrl-C)
// `cleanup()` SIGKILLs what is still alive — pidpilot and the jobs it started (found
// through /proc/<pid>/task/*/children, since the node:child_process backend gives jobs no
// parent-death signal) — and removes the temp dir.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// For A/B comparisons: PIDPILOT_BENCH_BIN=/other/checkout/bin/pidpilot.js runs another build,
// PIDPILOT_BENCH_NODE_FLAGS="--max-semi-space-size=1" passes flags to node for pidpilot only.
export const BIN =
  process.env.PIDPILOT_BENCH_BIN || join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'pidpilot.js');
export const ROOT = join(dirname(BIN), '..');
export const NODE_FLAGS = (process.env.PIDPILOT_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

// The environment of every process the bench starts. NODE_EXTRA_CA_CERTS is removed: Node
// reads and parses that CA bundle at start-up, which costs every node process ~150 ms of CPU
// (measured: `node -e 0` 0.03 s → 0.20 s) and would swamp the start-up figures of pidpilot
// and of the node baselines alike. PIDPILOT_BENCH_KEEP_ENV=1 keeps it.
export const STRIPPED_ENV = process.env.PIDPILOT_BENCH_KEEP_ENV
  ? []
  : ['NODE_EXTRA_CA_CERTS'].filter((k) => k in process.env);
export const BENCH_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !STRIPPED_ENV.includes(k)));

let tmp = null;
/** The bench's temp dir (created on first use, removed at exit). */
export function tmpDir() {
  tmp ??= mkdtempSync(join(tmpdir(), 'pidpilot-bench-'));
  return tmp;
}

const live = new Set();

/** Remember a child until it exits, so that cleanup() can kill it and its descendants. */
export function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Direct children of `pid` (every thread's children file). */
export function childrenOf(pid) {
  const out = [];
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' '))
        if (c.trim()) out.push(Number(c));
    } catch {
      // thread gone
    }
  }
  return out;
}

function descendantsOf(pid, acc = []) {
  for (const c of childrenOf(pid)) {
    acc.push(c);
    descendantsOf(c, acc);
  }
  return acc;
}

function killQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** SIGKILL a process and everything under it (jobs run in their own process groups). */
export function killTree(pid) {
  const desc = descendantsOf(pid);
  killQuietly(pid, 'SIGKILL');
  for (const d of desc) {
    killQuietly(-d, 'SIGKILL');
    killQuietly(d, 'SIGKILL');
  }
}

let cleaned = false;
export function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const child of live) if (child.pid) killTree(child.pid);
  live.clear();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
    cleanup();
    process.exit(130);
  });
}

/**
 * Writes a config into the temp dir. Unless it names them, its state dir and control socket
 * are in the temp dir too: as root the defaults are /var/run's, shared with every other
 * pidpilot on the machine (a second one on the same socket stops).
 */
export function writeConfig(name, config) {
  const file = join(tmpDir(), name);
  const own = { state: { dir: join(tmpDir(), 'state') }, control: { socket: join(tmpDir(), 'control.sock') } };
  writeFileSync(file, JSON.stringify({ ...own, ...config }, null, 1));
  return file;
}

export const nowNs = () => process.hrtime.bigint();
export const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Resolves with {code, signal} at the child's 'exit' (reaped). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Rejects after `ms` unless `p` settles first; `onTimeout` runs on timeout (kill things there). */
export function withTimeout(p, ms, what, onTimeout) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new Error(`${what}: no result after ${ms} ms`));
      }, ms);
    }),
  ]);
}

/**
 * Starts pidpilot on `configFile` (cwd = the temp dir, so a default state dir lands there).
 * stdout/stderr: 'ignore', 'pipe' or a fd; `bin`: another build's bin/pidpilot.js (A/B). Returns { child, t0 } with t0 taken just before spawn.
 */
export function startPidpilot(configFile, { stdout = 'ignore', stderr = 'pipe', env = {}, bin = BIN } = {}) {
  const t0 = nowNs();
  const child = track(
    spawn(process.execPath, [...NODE_FLAGS, bin, '-config', configFile], {
      cwd: tmpDir(),
      stdio: ['ignore', stdout, stderr],
      env: { ...BENCH_ENV, ...env },
    }),
  );
  let err = '';
  if (child.stderr) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      if (err.length < 64 * 1024) err += d;
    });
  }
  return { child, t0, stderrText: () => err };
}

/** Runs pidpilot to its own exit; returns wall ms (spawn → reaped). Throws unless it exits 0. */
export async function runPidpilot(configFile, opts = {}) {
  const { child, t0, stderrText } = startPidpilot(configFile, opts);
  const { code, signal } = await withTimeout(exited(child), opts.timeoutMs ?? 60_000, `pidpilot ${configFile}`, () =>
    killTree(child.pid),
  );
  const ms = msSince(t0);
  if (code !== 0) throw new Error(`pidpilot -config ${configFile} exited ${code ?? signal}:\n${stderrText()}`);
  return ms;
}

/** Runs a command to its exit; returns wall ms (spawn → reaped) and its stdout. */
export async function runCommand(argv, { stdout = 'pipe', env = BENCH_ENV, timeoutMs = 60_000 } = {}) {
  const t0 = nowNs();
  const child = track(spawn(argv[0], argv.slice(1), { cwd: tmpDir(), stdio: ['ignore', stdout, 'inherit'], env }));
  let out = '';
  if (child.stdout) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => (out += d));
  }
  const { code, signal } = await withTimeout(exited(child), timeoutMs, argv.join(' '), () => killTree(child.pid));
  const ms = msSince(t0);
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${code ?? signal}`);
  // 'exit' may come before the last stdout bytes: wait for the stream too.
  if (child.stdout && !child.stdout.readableEnded) await new Promise((r) => child.stdout.once('close', r));
  return { ms, out };
}

/** Polls until `pid` has `n` children (jobs running), or throws after `timeoutMs`. */
export async function waitForChildren(pid, n, timeoutMs = 10_000) {
  const t0 = Date.now();
  for (;;) {
    const have = childrenOf(pid).length;
    if (have >= n) return;
    if (Date.now() - t0 > timeoutMs) throw new Error(`pid ${pid}: ${have} of ${n} jobs running after ${timeoutMs} ms`);
    await sleep(5);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Fields of /proc/<pid>/status in kB (VmRSS, VmHWM, RssAnon, RssFile…). */
export function procStatus(pid) {
  const out = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function stats(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length, all: xs };
}

/** Prints rows (arrays of strings) under `header` as a plain-text table. */
export function table(header, rows) {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r) =>
    r
      .map((c, i) => String(c ?? '').padEnd(w[i]))
      .join(' | ')
      .trimEnd();
  return [line(header), w.map((n) => '-'.repeat(n)).join('-|-'), ...rows.map(line)].join('\n');
}
