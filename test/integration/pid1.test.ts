/**
 * pidpilot as a real PID 1 (docs/pid1.md): each test starts it with `unshare --pid --fork
 * --mount-proc`, so it is PID 1 of a new PID namespace, as in a container (no Docker
 * needed). That takes root: without it these tests fail, saying so; they never skip.
 *
 * The test sees the namespace's processes in its own /proc under their outer pids;
 * `pid1()` finds pidpilot's (the one child of `unshare`). Signals are sent to that pid:
 * unshare itself ignores SIGTERM/SIGINT and only relays the exit status.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BIN,
  budget,
  describeProcs,
  jobLine,
  type Pidpilot,
  processes,
  until,
  useHarness,
  withArg,
} from './support.js';

const h = useHarness();
const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc'];
const ORPHANS_PY = fileURLToPath(new URL('../fixtures/scripts/orphans.py', import.meta.url));
const FAULT = fileURLToPath(new URL('../fixtures/scripts/fault.cjs', import.meta.url));

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the PID 1 tests run pidpilot in a new PID namespace (unshare --pid), which needs root: run them as root (CI does)',
    );
  }
});

/**
 * `config` with a state dir of this test's own: as PID 1 with a writable /var/run, pidpilot
 * would use ContainerPilot's /var/run/pidpilot, shared with every other test and any pidpilot
 * on the machine (the mount namespace is the host's). The socket is the harness's own already.
 */
function hermetic(config: object): object {
  return { state: { dir: h().path('state') }, ...config };
}

/** Starts pidpilot as PID 1 of a new PID namespace on `config`. */
function runAsPid1(config: object, env: Record<string, string | undefined> = {}): Pidpilot {
  return h().start(['-config', h().writeConfig(hermetic(config))], {
    command: [...UNSHARE, process.execPath, BIN],
    env,
  });
}

/** pidpilot's pid as this test sees it (the child of `unshare`). */
function pid1(p: Pidpilot): Promise<number> {
  return until(() => {
    try {
      const child = Number(readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(' ')[0]);
      return child > 0 ? child : null;
    } catch {
      return null;
    }
  }, 'pidpilot to start in its namespace');
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function zombiesOf(pid: number): ReturnType<typeof processes> {
  return processes().filter((q) => q.ppid === pid && q.state === 'Z');
}

describe('as PID 1', () => {
  it('knows it is PID 1', async () => {
    const p = runAsPid1({ jobs: [{ name: 'one', exec: ['true'] }] });
    await p.waitForLine(/pidpilot \S+ started: pid 1, 1 job/);
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });

  it('reaps 1,000 orphaned grandchildren: no zombie is left within a second of their exit', async () => {
    const stay = h().uniqueArg();
    const p = runAsPid1({
      jobs: [{ name: 'orphans', exec: ['sh', '-c', `python3 ${ORPHANS_PY} 1000 && exec sleep ${stay}`] }],
    });
    const pid = await pid1(p);
    await p.waitForLine(/ orphans orphans 1000$/);
    // Every orphan has exited (it is gone, or a zombie not reaped yet)...
    await until(() => processes().every((q) => q.state === 'Z' || !q.argv.includes(ORPHANS_PY)), 'the orphans to exit');
    // ...and within a second (on a quiet machine: `until` scales it with the load) none is left as a zombie.
    await until(() => zombiesOf(pid).length === 0, 'no zombie under pidpilot', 1000).catch(() => {
      throw new Error(`zombies left under pidpilot (PID 1):\n${describeProcs(zombiesOf(pid).slice(0, 20))}`);
    });
    expect(withArg(stay)).toHaveLength(1);
    process.kill(pid, 'SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });

  it.each(['native', 'node'])(
    'keeps every job exit status exact while thousands of orphans are reaped (%s spawn backend)',
    async (backend) => {
      const codes = Array.from({ length: 40 }, (_, i) => i + 1);
      const p = runAsPid1(
        {
          jobs: [
            { name: 'orphans', exec: ['sh', '-c', `python3 ${ORPHANS_PY} 3000`] },
            // Restarted 3 times each: 160 runs, each with its own status, while the orphans die.
            ...codes.map((code) => ({
              name: `exit${code}`,
              exec: ['sh', '-c', `sleep 0.0${code % 10}; exit ${code}`],
              restarts: 3,
            })),
          ],
        },
        { PIDPILOT_SPAWN: backend },
      );
      expect(await p.waitExit(60_000), p.transcript()).toEqual({ code: 0, signal: null });
      expect(p.matching(/ orphans orphans 3000$/), p.transcript()).toHaveLength(1);
      for (const code of codes) {
        const lines = p.matching(jobLine(`exit${code}`, `exited with code (\\d+)$`));
        expect(
          lines.map((l) => /code (\d+)$/.exec(l)![1]),
          `exit${code}`,
        ).toEqual(Array(4).fill(String(code)));
      }
      expect(p.matching(/exit status lost/)).toEqual([]);
    },
    budget(90_000),
  );

  it('forwards SIGQUIT, SIGWINCH, SIGCONT and SIGUSR1 (log on stdout) to the jobs, turns SIGHUP into an event', async () => {
    const trapped = ['QUIT', 'WINCH', 'CONT', 'USR1'];
    const traps = trapped.map((s) => `trap "echo got-${s}" ${s};`).join(' ');
    const p = runAsPid1({
      jobs: [
        { name: 'trapper', exec: ['sh', '-c', `${traps} echo ready; while :; do sleep 0.05; done`] },
        { name: 'on-hup', exec: ['sh', '-c', 'echo hup-run'], when: { source: 'SIGHUP' } },
      ],
    });
    const pid = await pid1(p);
    await p.waitForLine(/ trapper ready$/);
    for (const s of trapped) {
      process.kill(pid, `SIG${s}` as NodeJS.Signals);
      await p.waitForLine(new RegExp(` trapper got-${s}$`));
    }
    process.kill(pid, 'SIGHUP');
    await p.waitForLine(/ on-hup hup-run$/);
    process.kill(pid, 'SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });

  it('with a log file, SIGUSR1 reopens it and is not forwarded', async () => {
    const log = h().path('pidpilot.log');
    const p = runAsPid1({
      logging: { output: log },
      jobs: [
        {
          name: 'trapper',
          exec: [
            'sh',
            '-c',
            'trap "echo got-USR1" USR1; trap "echo got-QUIT" QUIT; echo ready; while :; do sleep 0.05; done',
          ],
        },
      ],
    });
    const pid = await pid1(p);
    await until(() => readOrEmpty(log).includes('trapper ready'), 'the job to start');
    renameSync(log, `${log}.1`); // what logrotate does
    process.kill(pid, 'SIGUSR1');
    // Forwarded signals are delivered in order: once got-QUIT is in the new file, a
    // forwarded USR1 would have been logged before it.
    await until(() => {
      process.kill(pid, 'SIGQUIT');
      return readOrEmpty(log).includes('got-QUIT');
    }, 'the reopened log file to get the job’s output');
    expect(readFileSync(log, 'utf8') + readFileSync(`${log}.1`, 'utf8')).not.toMatch(/got-USR1/);
    process.kill(pid, 'SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('a second SIGTERM kills a job that ignores the first one', async () => {
    const p = runAsPid1({
      stopTimeout: '5m',
      jobs: [
        {
          name: 'stubborn',
          exec: ['sh', '-c', 'trap "echo ignoring-TERM" TERM; echo ready; while :; do sleep 0.05; done'],
          stopTimeout: '5m',
        },
      ],
    });
    const pid = await pid1(p);
    await p.waitForLine(/ stubborn ready$/);
    process.kill(pid, 'SIGTERM');
    await p.waitForLine(/ stubborn ignoring-TERM$/);
    process.kill(pid, 'SIGINT');
    await p.waitForLine(/SIGINT during shutdown: killing every job now/);
    // Long before the 5 minutes of stopTimeout.
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });

  describe('exit status', () => {
    it('0 after a normal shutdown', async () => {
      const p = runAsPid1({ jobs: [{ name: 'app', exec: ['sh', '-c', `echo up; exec sleep ${h().uniqueArg()}`] }] });
      const pid = await pid1(p);
      await p.waitForLine(/ app up$/);
      process.kill(pid, 'SIGTERM');
      expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    });

    it('2 for a configuration error, starting nothing', async () => {
      const p = runAsPid1({ jobs: [{ name: 'app', exec: ['sleep', h().uniqueArg()], restarts: 'sometimes' }] });
      expect(await p.waitExit(), p.transcript()).toEqual({ code: 2, signal: null });
      expect(p.stderrText()).toMatch(/restarts/);
    });

    it.each([
      ['throw', /internal error \(uncaughtException\): Error: injected fault/],
      ['reject', /internal error \(unhandledRejection\): Error: injected rejection/],
    ])(
      '1 for an internal error (%s), logged with its stack, after stopping every job in order',
      async (mode, message) => {
        const started = h().path('started');
        const p = h().start(
          [
            mode,
            '-config',
            h().writeConfig(
              hermetic({
                jobs: [
                  {
                    name: 'app',
                    exec: [
                      'sh',
                      '-c',
                      `trap "echo app-got-TERM; exit 0" TERM; touch ${started}; while :; do sleep 0.05; done`,
                    ],
                  },
                  { name: 'other', exec: ['sleep', h().uniqueArg()] },
                ],
              }),
            ),
          ],
          { command: [...UNSHARE, process.execPath, FAULT], env: { PIDPILOT_FAULT_AFTER: started } },
        );
        expect(await p.waitExit(), p.transcript()).toEqual({ code: 1, signal: null });
        const fatal = p.matching(message);
        expect(fatal, p.transcript()).toHaveLength(1);
        expect(p.lines.join('\n')).toMatch(new RegExp(`${message.source}\\n\\s+at `)); // the stack follows
        expect(p.matching(/shutting down \(internal error\)/)).toHaveLength(1);
        expect(p.matching(/ app app-got-TERM$/)).toHaveLength(1);
        expect(p.matching(/pidpilot exiting with status 1$/)).toHaveLength(1);
      },
    );
  });

  it('SIGKILLed, it takes every process of the namespace with it, even daemons that left their group', async () => {
    const [leader, groupmate, daemon] = [h().uniqueArg(), h().uniqueArg(), h().uniqueArg()];
    const p = runAsPid1({
      jobs: [
        { name: 'family', exec: ['sh', '-c', `sleep ${groupmate} & setsid sleep ${daemon} & exec sleep ${leader}`] },
      ],
    });
    const pid = await pid1(p);
    await until(() => [leader, groupmate, daemon].every((a) => withArg(a).length === 1), 'the job’s three processes');
    process.kill(pid, 'SIGKILL');
    await p.waitExit(); // (unshare reports its child's death by SIGKILL as status 1)
    await h().expectNoLeftovers();
  });
});

describe('not PID 1', () => {
  it('is a child subreaper: orphans of its jobs are reaped by pidpilot, not by its parent', async () => {
    const stay = h().uniqueArg();
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [
        {
          name: 'orphans',
          exec: ['sh', '-c', `python3 ${ORPHANS_PY} 200 && (setsid sleep ${stay} &) ; while :; do sleep 1; done`],
        },
      ],
    });
    await p.waitForLine(/child subreaper: reaping the orphaned processes of jobs/);
    await p.waitForLine(/ orphans orphans 200$/);
    // The daemon left its group and lost its parent: it is pidpilot's now.
    const daemon = await until(() => withArg(stay)[0], 'the daemon');
    expect(daemon.ppid).toBe(p.pid);
    await until(() => processes().every((q) => q.state === 'Z' || !q.argv.includes(ORPHANS_PY)), 'the orphans to exit');
    await until(() => zombiesOf(p.pid).length === 0, 'no zombie under pidpilot');
    // At exit pidpilot kills the orphans it adopted, as the kernel does for a PID 1.
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    await h().expectNoLeftovers();
  });

  it('SIGKILLed, its job processes die (parent-death signal); what they started outlives it', async () => {
    // The documented limit: the kernel kills pidpilot's direct children (PR_SET_PDEATHSIG),
    // but nothing kills their descendants when pidpilot cannot run any more; they go to the
    // nearest subreaper above pidpilot, or to init. As PID 1 of a namespace (above) or
    // under a cgroup-aware manager everything goes.
    const [leader, groupmate] = [h().uniqueArg(), h().uniqueArg()];
    const p = h().run({ jobs: [{ name: 'family', exec: ['sh', '-c', `sleep ${groupmate} & exec sleep ${leader}`] }] });
    await until(() => withArg(leader).length === 1 && withArg(groupmate).length === 1, 'the job’s two processes');
    p.signal('SIGKILL');
    expect(await p.waitExit()).toEqual({ code: null, signal: 'SIGKILL' });
    await until(() => withArg(leader).length === 0, 'the job’s leader to die');
    const survivor = withArg(groupmate);
    expect(survivor).toHaveLength(1);
    expect(survivor[0]!.ppid).not.toBe(p.pid);
    process.kill(survivor[0]!.pid, 'SIGKILL'); // the parent that checks cleans up
    await h().expectNoLeftovers();
  });
});
