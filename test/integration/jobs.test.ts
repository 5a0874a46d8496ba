/**
 * Jobs seen from outside: signal-triggered jobs, the environment children get, a
 * missing executable, and restarts with backoff.
 */
import { describe, expect, it } from 'vitest';
import { jobLine, stateLine, until, useHarness, withArg } from './support.js';

const h = useHarness();

describe('signals as events', () => {
  it('SIGHUP triggers a `when: {source: "SIGHUP"}` job each time', async () => {
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [
        { name: 'on-hup', exec: ['sh', '-c', 'echo hup-run'], when: { source: 'SIGHUP' } },
        { name: 'keeper', exec: ['sleep', h().uniqueArg()] },
      ],
    });
    // The signal handlers are installed before the start line is logged.
    await p.waitForLine(/started: pid/);
    for (let n = 1; n <= 3; n++) {
      p.signal('SIGHUP');
      await p.waitForLine(/ on-hup hup-run$/, { nth: n });
      // wait until that run has ended before the next signal, so none coalesce
      await p.waitForLine(jobLine('on-hup', 'exited with code 0$'), { nth: n });
    }
    expect(p.running).toBe(true);
    expect(p.matching(/event signal SIGHUP$/)).toHaveLength(3);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/ on-hup hup-run$/)).toHaveLength(3);
    await h().expectNoLeftovers();
  });

  it('SIGUSR2 triggers its own jobs, not the SIGHUP ones', async () => {
    const p = h().run({
      jobs: [
        { name: 'on-hup', exec: ['sh', '-c', 'echo hup-run'], when: { source: 'SIGHUP' } },
        { name: 'on-usr2', exec: ['sh', '-c', 'echo usr2-run'], when: { source: 'SIGUSR2' } },
      ],
    });
    await p.waitForLine(/started: pid/);
    p.signal('SIGUSR2');
    await p.waitForLine(/ on-usr2 usr2-run$/);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/hup-run/)).toEqual([]);
  });
});

describe('environment of children', () => {
  it('CONTAINERPILOT_PID and CONTAINERPILOT_<JOB>_PID of a running job', async () => {
    const runnerArg = h().uniqueArg();
    const p = h().run({
      jobs: [
        { name: 'long-runner', exec: ['sleep', runnerArg] },
        {
          name: 'reader',
          exec: ['sh', '-c', 'echo "pp-pid=$CONTAINERPILOT_PID"; echo "runner-pid=$CONTAINERPILOT_LONG_RUNNER_PID"'],
          when: { source: 'SIGHUP' },
        },
      ],
    });
    await p.waitForLine(/started: pid/);
    const [runner] = await until(() => {
      const found = withArg(runnerArg);
      return found.length === 1 ? found : null;
    }, 'the long-runner process');
    p.signal('SIGHUP');
    const ppLine = await p.waitForLine(/ reader pp-pid=/);
    const runnerLine = await p.waitForLine(/ reader runner-pid=/);
    expect(ppLine).toMatch(new RegExp(` reader pp-pid=${p.pid}$`));
    expect(runnerLine).toMatch(new RegExp(` reader runner-pid=${runner!.pid}$`));
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    await h().expectNoLeftovers();
  });

  it('children inherit pidpilot’s environment', async () => {
    const p = h().run(
      { jobs: [{ name: 'env-echo', exec: ['sh', '-c', 'echo "inherited=$PPIT_INHERITED"'] }] },
      { env: { PPIT_INHERITED: 'yes it is' } },
    );
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/ env-echo inherited=yes it is$/)).toHaveLength(1);
  });
});

describe('failures', () => {
  it('a missing executable is logged by name; pidpilot keeps running the other jobs', async () => {
    const missing = `no-such-program-${h().marker}`;
    const p = h().run({
      jobs: [
        { name: 'missing', exec: [missing, '--flag'] },
        { name: 'other', exec: ['sh', '-c', 'echo other-ran'] },
        { name: 'keeper', exec: ['sleep', h().uniqueArg()] },
      ],
    });
    const error = await p.waitForLine(jobLine('missing', `could not run: .*${missing}`));
    expect(error).toMatch(/ENOENT|not found/);
    await p.waitForLine(/ other other-ran$/);
    expect(p.running).toBe(true);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/internal error/, 'any')).toEqual([]);
    await h().expectNoLeftovers();
  });

  it('a missing executable alone does not crash pidpilot: it ends with status 0', async () => {
    const p = h().run({ jobs: [{ name: 'missing', exec: [`/nonexistent/${h().marker}`] }] });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(jobLine('missing', `could not run: .*nonexistent/${h().marker}`))).toHaveLength(1);
    expect(p.stderrText()).not.toMatch(/fatal/);
  });

  it('restarts: 3 → the job runs 4 times with backoff, then fails', async () => {
    const p = h().run({
      logging: { level: 'DEBUG' },
      jobs: [{ name: 'flaky', exec: ['sh', '-c', 'echo attempt; exit 1'], restarts: 3 }],
    });
    const r = await p.waitExit();
    expect(r, p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/ flaky attempt$/), p.transcript()).toHaveLength(4);
    expect(p.matching(jobLine('flaky', 'exited with code 1$'))).toHaveLength(4);
    // First restart immediate, then 100ms, 200ms (the default backoff).
    expect(p.matching(jobLine('flaky', 'restarting in \\d+ms'))).toEqual([
      expect.stringMatching(/restarting in 100ms$/),
      expect.stringMatching(/restarting in 200ms$/),
    ]);
    expect(
      p.matching(stateLine('flaky', '\\w+', 'failed', ' \\(restarts exhausted after exit code 1\\)')),
      p.transcript(),
    ).toHaveLength(1);
    expect(p.matching(/event failed flaky$/)).toHaveLength(1);
  });

  it('restarts: "unlimited" keeps restarting until shutdown', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'looper',
          exec: ['sh', '-c', 'echo again; exit 1'],
          restarts: 'unlimited',
          restartBackoff: { initial: '10ms', max: '20ms' },
        },
      ],
    });
    await p.waitForLine(/ looper again$/, { nth: 5 });
    expect(p.running).toBe(true);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });
});
