/**
 * The fallback spawner, on node:child_process: used when the native addon is not built, or
 * when PIDPILOT_SPAWN=node. Same ChildHandle contract, with three known differences:
 *   - slower (libuv forks: the cost grows with pidpilot's heap);
 *   - no parent-death signal: if pidpilot is SIGKILLed, its children live on;
 *   - the rest of the group is SIGKILLed just *after* the leader is reaped (libuv reaps it
 *     first), so in theory the group id could have been reused in between.
 *
 * Errors behave like the native spawner's: PATH is searched here, in the child's
 * environment, and `cwd` and the program are checked before spawning, so a missing or
 * non-executable program throws SpawnError synchronously. What only execve can tell (a
 * missing #! interpreter, a race) is read from ChildProcess#spawn's return value, which
 * child_process.spawn() would only report later through an 'error' event.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { checkRequest, envPairs, errnoInfo, killGroup, planExec, spawnError, type ExecPlan } from './exec-path.js';
import { claimForLibuv } from './reaper.js';
import { SpawnError, type ChildHandle, type ExitStatus, type SpawnRequest } from './types.js';

/** What ChildProcess#spawn takes (child_process.spawn's normalised options). */
interface RawSpawnOptions {
  file: string;
  args: string[];
  envPairs: string[];
  cwd?: string;
  uid?: number;
  gid?: number;
  stdio: StdioOptions;
  detached: boolean;
  windowsHide: boolean;
  windowsVerbatimArguments: boolean;
}
type RawChildProcess = ChildProcess & { spawn(options: RawSpawnOptions): number | undefined };

/**
 * node:child_process, loaded on the first spawn of this backend: with the native addon it
 * is never needed, and loading it (with dgram, net's socket list…) costs every start-up.
 */
let childProcessClass: typeof ChildProcess | undefined;
function newChildProcess(): RawChildProcess {
  childProcessClass ??= (createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')).ChildProcess;
  return new childProcessClass() as RawChildProcess;
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

class NodeChild implements ChildHandle {
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

    const cp = newChildProcess();
    // A failed spawn is also emitted as 'error' on the next tick: it is thrown below instead.
    cp.on('error', () => {});
    const err = cp.spawn({
      file: plan.candidates[index],
      args: [...req.argv],
      envPairs: envPairs(req.env),
      cwd: req.cwd,
      // libuv drops supplementary groups when it sets ids: only the primary group is kept here.
      ...(req.ids ? { uid: req.ids.uid, gid: req.ids.gid } : {}),
      stdio: ['ignore', req.stdout, req.stderr],
      detached: true, // setsid(): own session and process group
      windowsHide: false,
      windowsVerbatimArguments: false,
    });
    if (cp.pid === undefined || (typeof err === 'number' && err < 0)) {
      // Node would close these pipes a tick later; the caller never sees them.
      cp.stdout?.destroy();
      cp.stderr?.destroy();
      if (typeof err === 'number' && err < 0) throw spawnError(req, plan, 'exec', errnoInfo(err)[0], index);
      throw new SpawnError(`exec ${JSON.stringify(req.argv[0])}: spawn failed`, 'EUNKNOWN', req.argv, 'exec');
    }

    const pid = cp.pid;
    // libuv reaps this child; pidpilot's orphan reaper must leave its status to libuv.
    const release = claimForLibuv(pid);
    this.pid = pid;
    this.stdout = cp.stdout;
    this.stderr = cp.stderr;
    this.exited = new Promise((settle) => {
      cp.once('exit', (code, signal) => {
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

/** Spawns through node:child_process; throws SpawnError if the program cannot run. */
export function spawnNode(req: SpawnRequest): ChildHandle {
  return new NodeChild(req);
}
