/**
 * The portable spawner, on execa (over node:child_process): used when the native addon is
 * not available (macOS, a platform without a prebuild, no compiler), or when
 * PIDPILOT_SPAWN=node (or =portable). Same ChildHandle contract; what it lacks, said once
 * by spawnBackend()'s warning:
 *   - no parent-death signal: if pidpilot is SIGKILLed, its children live on;
 *   - slower (libuv forks: the cost grows with pidpilot's heap), and execa itself takes
 *     some 100-200 ms to load, which is why it is loaded only here, on the first spawn;
 *   - the rest of the group is SIGKILLed just *after* the leader is reaped (libuv reaps it
 *     first), so in theory the group id could have been reused in between.
 * Process groups (each child leads its own: `detached`), group signals and kills, timeouts
 * and the stop grace are pidpilot's own (exec-path.ts `killGroup`, run.ts), the same for
 * both spawners; execa's own cleanup (signal-exit handlers), buffering and rejection are off,
 * so a PID 1's signals stay its own and output streams through untouched.
 *
 * Errors behave like the native spawner's: PATH is searched here, in the child's
 * environment, and `cwd` and the program are checked before spawning, so a missing or
 * non-executable program throws SpawnError synchronously. What only execve can tell (a
 * missing #! interpreter, a race) comes back as a spawn that has no pid: a SpawnError too.
 */
import { accessSync, closeSync, constants as fsConstants, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { requireVendored } from '../vendored.js';
import { envRecord } from './child-env-block.js';
import { checkRequest, type ExecPlan, killGroup, planExec, spawnError } from './exec-path.js';
import { claimForLibuv } from './orphans.js';
import type { ChildHandle, ExitStatus, SpawnRequest } from './types.js';

/** The part of execa used here (its types are ESM-only; this file is compiled for both). */
interface ExecaSubprocess {
  pid?: number;
  stdout: Readable | null;
  stderr: Readable | null;
  once(event: 'exit', fn: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  catch(fn: (err: unknown) => void): unknown;
}
type Execa = (file: string, args: readonly string[], options: Record<string, unknown>) => ExecaSubprocess;

let execa: Execa | undefined;

/** execa, required on first use: dist/vendor/execa.cjs beside the bundle (see src/vendored.ts). */
function loadExeca(): Execa {
  execa ??= requireVendored<{ execa: Execa }>('execa').execa;
  return execa;
}

const NOT_HERE = new Set(['ENOENT', 'ENOTDIR', 'ESTALE', 'ENODEV', 'ETIMEDOUT']);

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

/** What execve would say about `path`, as far as stat/access can tell; null: it would run. */
function probe(path: string): string | null {
  try {
    if (!statSync(path).isFile()) return 'EACCES';
    accessSync(path, fsConstants.X_OK);
    return null;
  } catch (err) {
    return errCode(err);
  }
}

function checkCwd(req: SpawnRequest, plan: ExecPlan): void {
  if (req.cwd === undefined) return;
  let code: string | null = null;
  try {
    if (!statSync(req.cwd).isDirectory()) code = 'ENOTDIR';
    else accessSync(req.cwd, fsConstants.X_OK);
  } catch (err) {
    code = errCode(err);
  }
  if (code !== null) throw spawnError(req, plan, 'chdir', code, -1);
}

/** The index of the candidate to exec, with execvp's rules; throws SpawnError if none. */
function pickCandidate(req: SpawnRequest, plan: ExecPlan): number {
  const base = req.cwd ?? process.cwd();
  let eacces = -1;
  for (let i = 0; i < plan.candidates.length; i++) {
    const code = probe(resolve(base, plan.candidates[i]));
    if (code === null) return i;
    if (!plan.search || !(NOT_HERE.has(code) || code === 'EACCES')) throw spawnError(req, plan, 'exec', code, i);
    if (code === 'EACCES' && eacces < 0) eacces = i;
  }
  throw spawnError(req, plan, 'exec', eacces >= 0 ? 'EACCES' : 'ENOENT', eacces);
}

/**
 * Why execve refused a file that exists and is executable, which Node reports only a tick
 * later: for a script or an ELF binary, a missing interpreter or dynamic loader (ENOENT, as
 * execve says it); otherwise a format it cannot run (ENOEXEC).
 */
function execFailure(path: string): string {
  let head = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(4);
      head = buf.subarray(0, readSync(fd, buf, 0, 4, 0)).toString('latin1');
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    return errCode(err);
  }
  return head.startsWith('#!') || head === '\x7fELF' ? 'ENOENT' : 'ENOEXEC';
}

class PortableChild implements ChildHandle {
  readonly pid: number;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly exited: Promise<ExitStatus>;
  private done = false;

  constructor(req: SpawnRequest) {
    checkRequest(req);
    const plan = planExec(req.argv[0], req.env);
    checkCwd(req, plan);
    const index = pickCandidate(req, plan);

    const sub = loadExeca()(plan.candidates[index]!, req.argv.slice(1), {
      argv0: req.argv[0],
      env: envRecord(req.env),
      extendEnv: false,
      ...(req.cwd !== undefined ? { cwd: req.cwd } : {}),
      // libuv drops supplementary groups when it sets ids: only the primary group is kept here.
      ...(req.ids ? { uid: req.ids.uid, gid: req.ids.gid } : {}),
      stdin: 'ignore',
      stdout: req.stdout,
      stderr: req.stderr,
      detached: true, // setsid(): own session and process group
      buffer: false,
      reject: false,
      cleanup: false,
      stripFinalNewline: false,
      forceKillAfterDelay: false,
      windowsHide: false,
    });
    // Errors come through 'exit' / the checks above; the result promise must not reject unseen.
    sub.on('error', () => {});
    sub.catch(() => {});
    if (sub.pid === undefined) {
      // Node would close these pipes a tick later; the caller never sees them.
      sub.stdout?.destroy();
      sub.stderr?.destroy();
      throw spawnError(
        req,
        plan,
        'exec',
        execFailure(resolve(req.cwd ?? process.cwd(), plan.candidates[index]!)),
        index,
      );
    }

    const pid = sub.pid;
    // libuv reaps this child; pidpilot's orphan reaper must leave its status to libuv.
    const release = claimForLibuv(pid);
    this.pid = pid;
    this.stdout = sub.stdout;
    this.stderr = sub.stderr;
    this.exited = new Promise((settle) => {
      sub.once('exit', (code, signal) => {
        this.done = true;
        release();
        killGroup(pid, 'SIGKILL'); // leftovers of the group must not outlive the leader
        settle({ code, signal });
      });
    });
  }

  signalGroup(signal: NodeJS.Signals): void {
    if (!this.done) killGroup(this.pid, signal);
  }
}

/** Spawns through execa; throws SpawnError if the program cannot run. */
export function spawnPortable(req: SpawnRequest): ChildHandle {
  return new PortableChild(req);
}
