/**
 * Ordered graceful shutdown (docs/lifecycle.md, docs/processes.md): SIGTERM/SIGINT, process groups, pre-stop
 * hooks, per-job and global stop timeouts, escalation on a second signal, and the
 * cleaning up of a group whose leader exited.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  descendants,
  describeProcs,
  esc,
  indexOfLine,
  jobLine,
  settleArg,
  until,
  useHarness,
  withArg,
} from './support.js';

const h = useHarness();

/** `sh -c` script that starts a background grandchild `sleep A` and waits in the foreground on `sleep B`. */
function familyScript(a: string, b: string): string {
  return `sleep ${a} & sleep ${b}; wait`;
}

describe('SIGTERM', () => {
  it('stops every job through its process group, in order, and exits 0 with nothing left', async () => {
    const grandchild = h().uniqueArg();
    const child = h().uniqueArg();
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [{ name: 'family', exec: ['sh', '-c', familyScript(grandchild, child)] }],
    });
    await p.waitForLine(/started: pid/);
    // Both sleeps run, as descendants of pidpilot.
    await until(() => withArg(grandchild).length === 1 && withArg(child).length === 1, 'both sleeps to run');
    const desc = descendants(p.pid);
    expect(
      desc.some((d) => d.argv.includes(grandchild)),
      describeProcs(desc),
    ).toBe(true);
    expect(
      desc.some((d) => d.argv.includes(child)),
      describeProcs(desc),
    ).toBe(true);
    // They share the job's own process group (not pidpilot's).
    const [g] = withArg(grandchild);
    const [c] = withArg(child);
    expect(g!.pgid).toBe(c!.pgid);
    expect(g!.pgid).not.toBe(p.pid);

    p.signal('SIGTERM');
    const r = await p.waitExit();
    expect(r, p.transcript()).toEqual({ code: 0, signal: null });
    expect(await settleArg(grandchild)).toEqual([]);
    expect(await settleArg(child)).toEqual([]);

    // The order, as the DEBUG log shows it.
    const lines = p.lines;
    const i = (re: RegExp): number => {
      const n = indexOfLine(lines, re);
      expect(n, `no line matching ${re}\n${p.transcript()}`).toBeGreaterThanOrEqual(0);
      return n;
    };
    const shuttingDown = i(/shutting down \(SIGTERM\)/);
    const shutdownEvent = i(/event shutdown global$/);
    const stopping = i(/event stopping family$/);
    const stopped = i(/event stopped family$/);
    const exiting = i(/pidpilot exiting with status 0$/);
    expect(shuttingDown).toBeLessThan(stopping);
    expect(shutdownEvent).toBeLessThan(stopping);
    expect(stopping).toBeLessThan(stopped);
    expect(stopped).toBeLessThan(exiting);
    expect(i(jobLine('family', 'stopped \\(shutdown\\)'))).toBeLessThan(stopped);
    await h().expectNoLeftovers();
  });

  it('the stop signal reaches every member of the group (a grandchild sees SIGTERM)', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'tree',
          // a background subshell that reports TERM; the leader waits for it, then reports too.
          // The leader's trap is set before the subshell starts: "grandchild-up" must mean both
          // traps are in place (on a loaded machine the leader could otherwise still be before
          // its `trap` when the signal comes, die of it, and take the subshell with it).
          exec: [
            'sh',
            '-c',
            `trap 'wait; echo leader-done; exit 0' TERM; (trap 'echo grandchild-got-term; exit 0' TERM; echo grandchild-up; while :; do sleep 0.05; done) & wait`,
          ],
        },
      ],
    });
    await p.waitForLine(/ tree grandchild-up$/);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    const gc = indexOfLine(p.lines, / tree grandchild-got-term$/);
    const leader = indexOfLine(p.lines, / tree leader-done$/);
    expect(gc, p.transcript()).toBeGreaterThanOrEqual(0);
    expect(leader, p.transcript()).toBeGreaterThan(gc);
    await h().expectNoLeftovers();
  });

  it('stopSignal chooses the first signal sent', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'intjob',
          exec: [
            'sh',
            '-c',
            `trap 'echo got-int; exit 0' INT; trap 'echo got-term; exit 0' TERM; echo up; while :; do sleep 0.05; done`,
          ],
          stopSignal: 'SIGINT',
        },
      ],
    });
    await p.waitForLine(/ intjob up$/);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/ intjob got-int$/), p.transcript()).toHaveLength(1);
    expect(p.matching(/got-term/)).toEqual([]);
  });

  it('runs the pre-stop hook before the stop signal', async () => {
    const hookDone = h().path('hook-done');
    const p = h().run({
      logging: { level: 'DEBUG' },
      stopTimeout: '20s',
      jobs: [
        {
          name: 'app',
          exec: [
            'sh',
            '-c',
            `trap 'if [ -e ${hookDone} ]; then echo term-after-hook; else echo term-before-hook; fi; exit 0' TERM; echo app-up; while :; do sleep 0.05; done`,
          ],
          stopTimeout: '15s',
        },
        {
          name: 'prestop',
          exec: ['sh', '-c', `echo hook-start; sleep 0.5; touch ${hookDone}; echo hook-end`],
          when: { source: 'app', once: 'stopping' },
        },
      ],
    });
    await p.waitForLine(/ app app-up$/);
    p.signal('SIGTERM');
    const r = await p.waitExit();
    expect(r, p.transcript()).toEqual({ code: 0, signal: null });
    expect(existsSync(hookDone)).toBe(true);
    const lines = p.lines;
    expect(p.matching(/ app term-after-hook$/), p.transcript()).toHaveLength(1);
    expect(p.matching(/term-before-hook/)).toEqual([]);
    const stopping = indexOfLine(lines, /event stopping app$/);
    const hookStart = indexOfLine(lines, / prestop hook-start$/);
    const hookEnd = indexOfLine(lines, / prestop hook-end$/);
    const term = indexOfLine(lines, / app term-after-hook$/);
    const stopped = indexOfLine(lines, /event stopped app$/);
    expect(stopping).toBeGreaterThanOrEqual(0);
    expect(stopping).toBeLessThan(hookStart);
    expect(hookStart).toBeLessThan(hookEnd);
    expect(hookEnd).toBeLessThan(term);
    expect(hookEnd).toBeLessThan(stopped);
    await h().expectNoLeftovers();
  });

  it('SIGKILLs a job that ignores SIGTERM after its stopTimeout', async () => {
    const p = h().run({
      logging: { level: 'DEBUG' },
      stopTimeout: '25s',
      jobs: [
        {
          name: 'stubborn',
          // Traps TERM, says so, and carries on: only SIGKILL ends it.
          exec: ['sh', '-c', `trap 'echo got-term' TERM; echo up; while :; do sleep 0.05; done`],
          stopTimeout: '1s',
        },
      ],
    });
    await p.waitForLine(/ stubborn up$/);
    const before = Date.now();
    p.signal('SIGTERM');
    await p.waitForLine(/ stubborn got-term$/);
    const r = await p.waitExit();
    const took = Date.now() - before;
    expect(r, p.transcript()).toEqual({ code: 0, signal: null });
    // It got TERM first and kept running: pidpilot waited its stopTimeout (1s) before the SIGKILL…
    expect(took).toBeGreaterThanOrEqual(1_000);
    // …and did not need the global bound (25s) to end it.
    expect(p.matching(/shutdown took longer than stopTimeout/)).toEqual([]);
    expect(p.matching(jobLine('stubborn', 'stopped \\(shutdown\\)'))).toHaveLength(1);
    await h().expectNoLeftovers();
  });

  it('the global stopTimeout bounds the whole shutdown', async () => {
    const p = h().run({
      stopTimeout: '1s',
      jobs: [
        {
          name: 'stubborn',
          exec: ['sh', '-c', `trap 'echo got-term' TERM; echo up; while :; do sleep 0.05; done`],
          stopTimeout: '1h',
        },
      ],
    });
    await p.waitForLine(/ stubborn up$/);
    const before = Date.now();
    p.signal('SIGTERM');
    await p.waitForLine(/ stubborn got-term$/);
    const r = await p.waitExit();
    expect(r.signal, p.transcript()).toBeNull();
    expect(r.code, p.transcript()).toBe(0);
    expect(Date.now() - before).toBeGreaterThanOrEqual(1_000);
    expect(
      p.matching(/shutdown took longer than stopTimeout \(1000ms\): killing what is left/),
      p.transcript(),
    ).toHaveLength(1);
    await h().expectNoLeftovers();
  });

  it('a second SIGTERM during shutdown kills everything at once', async () => {
    const grandchild = h().uniqueArg();
    const p = h().run({
      stopTimeout: '1h',
      jobs: [
        {
          name: 'stubborn',
          exec: ['sh', '-c', `sleep ${grandchild} & trap 'echo got-term' TERM; echo up; while :; do sleep 0.05; done`],
          stopTimeout: '1h',
        },
      ],
    });
    await p.waitForLine(/ stubborn up$/);
    await until(() => withArg(grandchild).length === 1, 'the grandchild sleep');
    p.signal('SIGTERM');
    await p.waitForLine(/shutting down \(SIGTERM\)/);
    await p.waitForLine(/ stubborn got-term$/);
    expect(p.running).toBe(true);
    p.signal('SIGTERM');
    // With an hour of stopTimeout left, only the escalation can end it within the bound.
    const r = await p.waitExit();
    expect(r.signal, p.transcript()).toBeNull();
    expect(p.matching(/SIGTERM during shutdown: killing every job now/), p.transcript()).toHaveLength(1);
    expect(await settleArg(grandchild)).toEqual([]);
    await h().expectNoLeftovers();
  });

  it('a second SIGINT escalates too', async () => {
    const p = h().run({
      stopTimeout: '1h',
      jobs: [
        {
          name: 'stubborn',
          exec: ['sh', '-c', `trap 'echo got-signal' TERM INT; echo up; while :; do sleep 0.05; done`],
          stopTimeout: '1h',
        },
      ],
    });
    await p.waitForLine(/ stubborn up$/);
    p.signal('SIGINT');
    await p.waitForLine(/ stubborn got-signal$/);
    p.signal('SIGINT');
    const r = await p.waitExit();
    expect(r.signal, p.transcript()).toBeNull();
    expect(p.matching(/SIGINT during shutdown: killing every job now/), p.transcript()).toHaveLength(1);
    await h().expectNoLeftovers();
  });
});

describe('SIGINT', () => {
  it('is the same graceful shutdown as SIGTERM', async () => {
    const grandchild = h().uniqueArg();
    const child = h().uniqueArg();
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [
        { name: 'family', exec: ['sh', '-c', familyScript(grandchild, child)] },
        { name: 'second', exec: ['sleep', h().uniqueArg()] },
      ],
    });
    await p.waitForLine(/started: pid/);
    await until(() => withArg(grandchild).length === 1 && withArg(child).length === 1, 'both sleeps to run');
    p.signal('SIGINT');
    const r = await p.waitExit();
    expect(r, p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/shutting down \(SIGINT\)/)).toHaveLength(1);
    for (const job of ['family', 'second']) {
      const stopping = indexOfLine(p.lines, new RegExp(`event stopping ${esc(job)}$`));
      const stopped = indexOfLine(p.lines, new RegExp(`event stopped ${esc(job)}$`));
      expect(stopping, p.transcript()).toBeGreaterThanOrEqual(0);
      expect(stopping).toBeLessThan(stopped);
    }
    expect(await settleArg(grandchild)).toEqual([]);
    expect(await settleArg(child)).toEqual([]);
    await h().expectNoLeftovers();
  });
});

describe('process groups', () => {
  it("kills what is left of a job's group when its main process exits", async () => {
    const orphan = h().uniqueArg();
    const keeper = h().uniqueArg();
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [
        { name: 'leaver', exec: ['sh', '-c', `sleep ${orphan} & echo spawned; exit 0`] },
        { name: 'keeper', exec: ['sleep', keeper] },
      ],
    });
    await p.waitForLine(/ leaver spawned$/);
    await p.waitForLine(jobLine('leaver', 'exited with code 0$'));
    // pidpilot is still running (keeper), so this is the exit clean-up, not the shutdown.
    expect(p.running).toBe(true);
    expect(withArg(keeper)).toHaveLength(1);
    const left = await settleArg(orphan);
    expect(left, describeProcs(left)).toEqual([]);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    await h().expectNoLeftovers();
  });
});

describe('escaped daemons (not PID 1)', () => {
  it('a daemon that left with setsid, and its own children, do not outlive a graceful shutdown', async () => {
    const daemonChild = h().uniqueArg();
    const keep = h().uniqueArg();
    const p = h().run({
      jobs: [
        // setsid forks: sh runs in a session of its own, its sleep is a grandchild of the escaped daemon.
        {
          name: 'escape',
          exec: ['sh', '-c', `setsid sh -c 'sleep ${daemonChild}; echo never' & echo escaped; exec sleep ${keep}`],
        },
      ],
    });
    await p.waitForLine(/ escape escaped$/);
    await until(() => withArg(daemonChild).length === 1, 'the escaped daemon child');
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(describeProcs(await settleArg(daemonChild))).toBe('');
  });
});
