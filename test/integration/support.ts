/**
 * Harness for the integration tests: they run the *built* CLI (`bin/pidpilot.js`, which
 * loads `dist/`) as a child process with pipes, and assert on its output and on /proc.
 *
 * - `Harness` (one per test, see `useHarness()`): a temp dir, a unique marker, config
 *   writing, starting pidpilot, and the clean-up after the test: every pidpilot still
 *   running is SIGKILLed, and every process carrying the test's marker is SIGKILLed —
 *   after the check that none was left by a pidpilot that exited by itself.
 * - `Pidpilot` (one per started pidpilot): stdout/stderr collected as bytes and as lines,
 *   `waitForLine(regex)`, `exited`, `signal()`.
 * - /proc helpers: `processes()`, `descendants(pid)`, `leftovers(marker)`, `alive(arg)`.
 *
 * The marker: every pidpilot started by a harness gets `PIDPILOT_IT_MARKER=<marker>` in its
 * environment, which all its children and grandchildren inherit, so a leftover process of
 * the test is found by its environment whatever its command line. `uniqueArg()` gives
 * numbers for `sleep` that are unique to a test, to find one particular process.
 *
 * Waits are bounded only to keep a broken product from hanging the suite; the bounds are
 * generous and no assertion depends on how fast the machine is.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin', 'pidpilot.js');
export const MARKER_VAR = 'PIDPILOT_IT_MARKER';
/** pidpilot's variable for the default control socket (src/control/socket-path.ts). */
export const CONTROL_SOCKET_VAR = 'PIDPILOT_CONTROL_SOCKET';

/** Default bound on any single wait (ms), on a quiet machine (see `budget`). Generous: it only keeps a hung product from hanging the suite. */
export const WAIT_MS = 20_000;

/**
 * How much slower this machine is than a quiet one, now: the 1-minute load per core, at
 * least 1 and at most 4 (so a scaled WAIT_MS stays within vitest's testTimeout).
 * `PIDPILOT_TEST_SLOWDOWN=N` sets it (a CI runner known to be shared).
 */
export function slowdown(): number {
  const set = Number(process.env.PIDPILOT_TEST_SLOWDOWN);
  if (Number.isFinite(set) && set >= 1) return Math.min(set, 4);
  return Math.min(4, Math.max(1, loadavg()[0]! / Math.max(1, availableParallelism())));
}

/** A bound of `ms` on a quiet machine, scaled by `slowdown()`: budgets that hold under load. */
export function budget(ms: number): number {
  return Math.round(ms * slowdown());
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  /** Which stream to search; default 'stdout'. 'any' searches both. */
  stream?: 'stdout' | 'stderr' | 'any';
  timeoutMs?: number;
  /** Wait for the n-th matching line (1-based); default 1. */
  nth?: number;
}

/** Incrementally split lines of one stream. */
class LineCollector {
  readonly chunks: Buffer[] = [];
  readonly lines: string[] = [];
  private partial: Buffer[] = [];
  private listeners = new Set<() => void>();
  ended = false;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl);
      const line = this.partial.length > 0 ? Buffer.concat([...this.partial, piece]) : piece;
      this.partial = [];
      this.lines.push(line.toString('utf8'));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) this.partial.push(chunk.subarray(start));
    this.notify();
  }

  end(): void {
    if (this.partial.length > 0) {
      this.lines.push(Buffer.concat(this.partial).toString('utf8'));
      this.partial = [];
    }
    this.ended = true;
    this.notify();
  }

  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private notify(): void {
    for (const fn of [...this.listeners]) fn();
  }
}

export interface StartOptions {
  /** Arguments after `bin/pidpilot.js`. */
  args: readonly string[];
  cwd?: string;
  /** Extra environment (merged over the test runner's; `undefined` removes a variable). */
  env?: Record<string, string | undefined>;
  /** Do not read pidpilot's stdout until `resumeStdout()`: a log reader that is stuck. */
  pauseStdout?: boolean;
  /** What runs in place of `node bin/pidpilot.js` (`args` follow it), e.g. under `unshare`. */
  command?: readonly string[];
}

export class Pidpilot {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly out = new LineCollector();
  readonly err = new LineCollector();
  readonly exited: Promise<ExitResult>;
  readonly startedAt = Date.now();
  exitedAt: number | null = null;
  result: ExitResult | null = null;
  /** True once the harness (not the test) had to kill it. */
  killedByHarness = false;

  constructor(opts: StartOptions, marker: string) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    // The runner's own config lookup variables must not leak into the product under test.
    delete env.PIDPILOT;
    delete env.CONTAINERPILOT;
    for (const [k, v] of Object.entries(opts.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    env[MARKER_VAR] = marker;
    const [file, ...pre] = opts.command ?? [process.execPath, BIN];
    this.child = spawn(file!, [...pre, ...opts.args], {
      cwd: opts.cwd ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error('could not spawn pidpilot');
    this.pid = this.child.pid;
    this.child.stdout!.on('data', (c: Buffer) => this.out.push(c));
    if (opts.pauseStdout) this.child.stdout!.pause();
    this.child.stderr!.on('data', (c: Buffer) => this.err.push(c));
    const outEnded = new Promise<void>((r) => this.child.stdout!.on('close', () => r()));
    const errEnded = new Promise<void>((r) => this.child.stderr!.on('close', () => r()));
    this.exited = new Promise<ExitResult>((res) => {
      this.child.on('exit', (code, signal) => {
        this.exitedAt = Date.now();
        this.result = { code, signal };
        // Resolve once the pipes have been read to their end, so that every line is there.
        // Bounded: a leftover grandchild holding the pipe must not hang the test.
        const drained = Promise.all([outEnded, errEnded]);
        void Promise.race([drained, sleep(5_000)]).then(() => {
          this.out.end();
          this.err.end();
          res({ code, signal });
        });
      });
    });
  }

  /** stdout lines so far. */
  get lines(): string[] {
    return this.out.lines;
  }

  get errLines(): string[] {
    return this.err.lines;
  }

  stdout(): Buffer {
    return this.out.buffer();
  }

  stderrText(): string {
    return this.err.buffer().toString('utf8');
  }

  /** Everything printed so far on both streams, for failure messages. */
  transcript(maxChars = 6_000): string {
    const clip = (s: string): string => (s.length > maxChars ? `…${s.slice(-maxChars)}` : s);
    return `--- stdout ---\n${clip(this.stdout().toString('utf8'))}\n--- stderr ---\n${clip(this.stderrText())}`;
  }

  /** Start reading stdout again (see `StartOptions.pauseStdout`). */
  resumeStdout(): void {
    this.child.stdout!.resume();
  }

  /** Close our end of pidpilot's stdout pipe: its log reader goes away (EPIPE for pidpilot). */
  closeStdout(): void {
    this.child.stdout!.destroy();
  }

  get running(): boolean {
    return this.result === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, sig);
  }

  /** Lines of a stream (or both) matching `re`. */
  matching(re: RegExp, stream: WaitOptions['stream'] = 'stdout'): string[] {
    const pick =
      stream === 'stderr' ? this.errLines : stream === 'any' ? [...this.lines, ...this.errLines] : this.lines;
    return pick.filter((l) => re.test(l));
  }

  /** Resolves with the n-th line matching `re`; rejects (with the transcript) after the bound or at exit. */
  waitForLine(re: RegExp, opts: WaitOptions = {}): Promise<string> {
    const stream = opts.stream ?? 'stdout';
    const nth = opts.nth ?? 1;
    const timeoutMs = budget(opts.timeoutMs ?? WAIT_MS);
    const collectors = stream === 'stdout' ? [this.out] : stream === 'stderr' ? [this.err] : [this.out, this.err];
    return new Promise<string>((res, rej) => {
      const cursors = collectors.map(() => 0);
      let found = 0;
      const offs: Array<() => void> = [];
      let timer: NodeJS.Timeout | undefined;
      const done = (err: Error | null, line?: string): void => {
        for (const off of offs) off();
        clearTimeout(timer);
        if (err) rej(err);
        else res(line!);
      };
      const check = (): boolean => {
        for (let c = 0; c < collectors.length; c++) {
          const lines = collectors[c]!.lines;
          for (; cursors[c]! < lines.length; cursors[c]!++) {
            const line = lines[cursors[c]!]!;
            if (re.test(line) && ++found === nth) {
              done(null, line);
              return true;
            }
          }
        }
        if (collectors.every((c) => c.ended)) {
          done(
            new Error(
              `pidpilot ended (${JSON.stringify(this.result)}) without printing line #${nth} matching ${re}\n${this.transcript()}`,
            ),
          );
          return true;
        }
        return false;
      };
      if (check()) return;
      for (const c of collectors) offs.push(c.onChange(() => void check()));
      timer = setTimeout(
        () => done(new Error(`no line #${nth} matching ${re} within ${timeoutMs}ms\n${this.transcript()}`)),
        timeoutMs,
      );
    });
  }

  /** Waits for the exit, bounded; rejects with the transcript if it does not come. */
  async waitExit(quietMs = WAIT_MS): Promise<ExitResult> {
    const timeoutMs = budget(quietMs);
    const r = await Promise.race([this.exited, sleep(timeoutMs).then(() => null)]);
    if (r === null) throw new Error(`pidpilot did not exit within ${timeoutMs}ms\n${this.transcript()}`);
    return r;
  }

  /** SIGKILL if still running, then wait for the exit. */
  async kill(): Promise<void> {
    this.resumeStdout();
    if (this.running) {
      this.killedByHarness = true;
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.race([this.exited, sleep(5_000)]);
  }
}

// ---------------------------------------------------------------------------
// /proc

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** One-letter state: R S D Z T … */
  state: string;
  argv: string[];
  /** The process's initial environment (empty when unreadable). */
  environ: string[];
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields follow the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = rest[0] ?? '?';
    const ppid = Number(rest[1]);
    const pgid = Number(rest[2]);
    let argv: string[] = [];
    let environ: string[] = [];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`)
        .toString('utf8')
        .split('\0')
        .filter((s) => s !== '');
    } catch {
      // gone, or a kernel thread
    }
    try {
      environ = readFileSync(`/proc/${pid}/environ`)
        .toString('utf8')
        .split('\0')
        .filter((s) => s !== '');
    } catch {
      // gone, or not ours
    }
    return { pid, ppid, pgid, state, argv, environ };
  } catch {
    return null;
  }
}

/** Every process visible in /proc now. */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** Live (non-zombie) descendants of `pid`, at any depth. */
export function descendants(pid: number): ProcInfo[] {
  const all = processes();
  const children = new Map<number, ProcInfo[]>();
  for (const p of all) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out: ProcInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    for (const c of children.get(next) ?? []) {
      if (c.state !== 'Z') out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** Live (non-zombie) processes carrying `marker` in their environment or command line, other than this one. */
export function leftovers(marker: string): ProcInfo[] {
  const env = `${MARKER_VAR}=${marker}`;
  return processes().filter(
    (p) =>
      p.pid !== process.pid && p.state !== 'Z' && (p.environ.includes(env) || p.argv.some((a) => a.includes(marker))),
  );
}

/** Live (non-zombie) processes that have `arg` as one of their arguments. */
export function withArg(arg: string): ProcInfo[] {
  return processes().filter((p) => p.pid !== process.pid && p.state !== 'Z' && p.argv.includes(arg));
}

/**
 * True when `pid` (its main thread) is asleep in a write to a full pipe or stream socket
 * (back-pressure). Node gives its children socketpairs for 'pipe' stdio.
 */
export function blockedOnPipeWrite(pid: number): boolean {
  const p = readProc(pid);
  return p !== null && p.state === 'S' && taskBlockedOnWrite(`/proc/${pid}`);
}

/**
 * True when some thread of `pid` is blocked writing to a full pipe or socket: for pidpilot,
 * its log output is stuck (the sink writes through a blocking descriptor from a libuv
 * worker thread), so what is queued cannot drain. A job blocked on its own pipe does not
 * show that: under load pidpilot may merely be slow to read it.
 */
export function anyThreadBlockedOnPipeWrite(pid: number): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tids.some((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'S' && taskBlockedOnWrite(`/proc/${pid}/task/${tid}`);
    } catch {
      return false;
    }
  });
}

/** `dir` is /proc/PID or /proc/PID/task/TID of a sleeping task: is it sleeping in a write? */
function taskBlockedOnWrite(dir: string): boolean {
  try {
    const wchan = readFileSync(`${dir}/wchan`, 'utf8');
    if (wchan !== '' && wchan !== '0')
      return /pipe_write|sock_alloc_send|unix_stream_sendmsg|sk_stream_wait_memory/.test(wchan);
  } catch {
    // no wchan: look at the system call instead
  }
  try {
    const nr = readFileSync(`${dir}/syscall`, 'utf8').split(' ')[0];
    const write = process.arch === 'x64' ? '1' : process.arch === 'arm64' ? '64' : null;
    return write !== null && nr === write;
  } catch {
    return false;
  }
}

/** Bytes `pid` has written so far (`wchar` of /proc/PID/io), or null. */
export function bytesWritten(pid: number): number | null {
  try {
    const m = /^wchar:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function describeProcs(ps: readonly ProcInfo[]): string {
  return ps.map((p) => `${p.pid} (ppid ${p.ppid}, pgid ${p.pgid}, ${p.state}): ${p.argv.join(' ')}`).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value; rejects with `what` after the bound. */
export async function until<T>(fn: () => T | null | undefined | false, what: string, quietMs = WAIT_MS): Promise<T> {
  const timeoutMs = budget(quietMs);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    // A promise is always truthy: an async condition would pass at once, whatever it says.
    if (v instanceof Promise) throw new Error(`until(): the condition for ${what} is async; use eventually()`);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Polls `list` until it is empty or the bound passes; returns what is still listed. */
async function settle(list: () => ProcInfo[], quietMs: number): Promise<ProcInfo[]> {
  const end = Date.now() + budget(quietMs);
  for (;;) {
    const left = list();
    if (left.length === 0 || Date.now() > end) return left;
    await sleep(25);
  }
}

/**
 * Waits until no live process carries `marker` (killing takes a moment to take effect
 * even when it was done right); returns what is still there after the bound.
 */
export function settleLeftovers(marker: string, timeoutMs = 5_000): Promise<ProcInfo[]> {
  return settle(() => leftovers(marker), timeoutMs);
}

/** Same as `settleLeftovers`, for processes with a given argument. */
export function settleArg(arg: string, timeoutMs = 5_000): Promise<ProcInfo[]> {
  return settle(() => withArg(arg), timeoutMs);
}

// ---------------------------------------------------------------------------
// Per-test harness

let argCounter = 0;

export class Harness {
  readonly dir: string;
  readonly marker: string;
  readonly runs: Pidpilot[] = [];

  constructor() {
    this.marker = `ppit${process.pid}x${randomBytes(4).toString('hex')}`;
    this.dir = mkdtempSync(join(tmpdir(), 'pidpilot-it-'));
  }

  /** Writes a config (text as is; an object as JSON, which is valid JSON5); returns its absolute path. */
  writeConfig(config: string | object, name = 'pidpilot.json5'): string {
    const path = join(this.dir, name);
    writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
    return path;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** The control socket of this test's supervisors (see `start`). */
  get socketPath(): string {
    return join(this.dir, 'control.sock');
  }

  /** Starts `node bin/pidpilot.js ...args`. */
  start(args: readonly string[], opts: Omit<StartOptions, 'args'> = {}): Pidpilot {
    // Each test gets its own control socket (two supervisors must not share one), which the
    // CLI clients it starts find the same way; a config's own control.socket still wins.
    // The per-project state dir (src/state/dir.ts) goes under the test's dir too, so it is removed with it.
    const env = { [CONTROL_SOCKET_VAR]: this.socketPath, XDG_RUNTIME_DIR: this.dir, ...opts.env };
    const p = new Pidpilot({ ...opts, env, args }, this.marker);
    this.runs.push(p);
    return p;
  }

  /** Writes the config and starts the supervisor on it. */
  run(config: string | object, opts: Omit<StartOptions, 'args'> & { extraArgs?: readonly string[] } = {}): Pidpilot {
    const file = this.writeConfig(config);
    return this.start(['-config', file, ...(opts.extraArgs ?? [])], opts);
  }

  /** Runs a CLI command to its end (bounded) and returns its result and output. */
  async cli(
    args: readonly string[],
    opts: Omit<StartOptions, 'args'> = {},
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; p: Pidpilot }> {
    const p = this.start(args, opts);
    const r = await p.waitExit();
    return { ...r, stdout: p.stdout().toString('utf8'), stderr: p.stderrText(), p };
  }

  /**
   * A number for `sleep` unique to this test and call, e.g. "3600.48213": to find one
   * particular process by its argument. `base` keeps it an hour or more, so it never ends by itself.
   */
  uniqueArg(base = 3600): string {
    argCounter++;
    const frac = `${(process.pid % 1000).toString().padStart(3, '0')}${argCounter.toString().padStart(3, '0')}${randomBytes(2).readUInt16BE(0).toString().padStart(5, '0')}`;
    return `${base}.${frac}`;
  }

  /** Asserts that nothing carrying this test's marker is alive (after a short settling bound). */
  async expectNoLeftovers(): Promise<void> {
    const left = await settleLeftovers(this.marker);
    expect(left, `processes left behind:\n${describeProcs(left)}`).toEqual([]);
  }

  /** After each test: kill what is left, check nothing outlived a pidpilot that ended by itself. */
  async cleanup(): Promise<void> {
    const endedByItself = this.runs.length > 0 && this.runs.every((r) => !r.running);
    for (const r of this.runs) await r.kill();
    const left = await settleLeftovers(this.marker, endedByItself ? 5_000 : 2_000);
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
    if (endedByItself && left.length > 0) {
      throw new Error(`processes outlived pidpilot:\n${describeProcs(left)}`);
    }
  }
}

/**
 * Registers beforeEach/afterEach for a file and returns an accessor for the current
 * test's harness. Every process of the test is killed after it, pass or fail; a test
 * whose pidpilot(s) all ended by themselves also fails if any of their processes
 * survived them.
 */
export function useHarness(): () => Harness {
  let current: Harness | null = null;
  beforeEach(() => {
    current = new Harness();
  });
  afterEach(async () => {
    const h = current;
    current = null;
    if (h) await h.cleanup();
  });
  return () => {
    if (!current) throw new Error('useHarness(): no test is running');
    return current;
  };
}

/** A `default`-format log line: `<RFC 3339 timestamp> <rest>`; returns `<rest>` or null. */
export const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/;

export function stripStamp(line: string): string | null {
  const m = TIMESTAMP.exec(line);
  return m ? line.slice(m[0].length).replace(/^ /, '') : null;
}

/** Escapes a string for use inside a RegExp. */
export function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A supervisor message about a job, in the default format: `<ts> <job> [<pid>] <msg>`
 * (the job and pid are fields of the log record), also matching the older
 * `job <job>[:] <msg>` phrasing. `msg` is a RegExp source; a state change is
 * `state A -> B` (or `A -> B`).
 */
export function jobLine(job: string, msg: string): RegExp {
  return new RegExp(`(?:^|\\s)(?:job )?${esc(job)}:?(?: \\d+)? ${msg}`);
}

/** `jobLine` for a state change `from -> to` (from: a RegExp source, e.g. `\\w+`). */
export function stateLine(job: string, from: string, to: string, rest = ''): RegExp {
  return jobLine(job, `(?:state )?${from} -> ${to}${rest}`);
}

/** Index of the first line matching `re` (-1 if none). */
export function indexOfLine(lines: readonly string[], re: RegExp): number {
  return lines.findIndex((l) => re.test(l));
}
