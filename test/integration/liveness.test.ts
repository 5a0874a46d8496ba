/**
 * Liveness, readiness and teardown (issue 17), with real processes: health thresholds and
 * the start period, restart on unhealthy, the restart budget, sd_notify readiness and
 * watchdog, cleanup commands, and the lifecycle environment.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildNotifySender } from '../support/notify-sender.js';
import { curl, eventually } from './control-support.js';
import { until, useHarness } from './support.js';

const h = useHarness();

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

/** The pids a job printed as `pid=N run=R restarts=K` lines, in order. */
function runsOf(
  p: ReturnType<ReturnType<typeof h>['run']>,
  job: string,
): Array<{ pid: number; run: number; restarts: number }> {
  return p.matching(new RegExp(` ${job} pid=\\d+ run=\\d+ restarts=\\d+ job=${job}$`)).map((l) => {
    const m = / pid=(\d+) run=(\d+) restarts=(\d+)/.exec(l)!;
    return { pid: Number(m[1]), run: Number(m[2]), restarts: Number(m[3]) };
  });
}
const announce = (arg: string) => [
  'sh',
  '-c',
  `echo "pid=$$ run=$PIDPILOT_RUN restarts=$PIDPILOT_RESTARTS job=$PIDPILOT_JOB"; exec sleep ${arg}`,
];

describe('health thresholds and onUnhealthy', () => {
  it('a server whose check starts failing is restarted with a new PID after exactly failureThreshold failures', async () => {
    const checks = h().path('checks');
    const fail = h().path('fail');
    // The check fails only for run 1 once the flag exists, and writes down every result with the run it checked.
    const check = `if [ "$PIDPILOT_RUN" = 1 ] && [ -e ${fail} ]; then echo "fail $PIDPILOT_RUN" >> ${checks}; exit 1; fi; echo "pass $PIDPILOT_RUN" >> ${checks}`;
    const p = h().run({
      jobs: [
        {
          name: 'web',
          exec: announce(h().uniqueArg()),
          health: {
            exec: ['sh', '-c', check],
            interval: '100ms',
            ttl: '10s',
            failureThreshold: 3,
            onUnhealthy: 'restart',
          },
        },
      ],
    });
    await until(() => lines(checks).includes('pass 1'), 'a passing check of run 1');
    writeFileSync(fail, '');
    await until(() => runsOf(p, 'web').length === 2, 'the restart', 30_000);
    const [first, second] = runsOf(p, 'web');
    expect(second!.pid).not.toBe(first!.pid);
    expect(second).toMatchObject({ run: 2, restarts: 1 });
    // Exactly three failures were counted, then the checks of run 1 stopped.
    const run1 = lines(checks).filter((l) => l.endsWith(' 1'));
    expect(run1.slice(run1.indexOf('fail 1'))).toEqual(['fail 1', 'fail 1', 'fail 1']);
    expect(p.matching(/web .*health check failed 3 times/).length).toBeGreaterThan(0);
    await until(() => lines(checks).includes('pass 2'), 'run 2 checked healthy');
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    await h().expectNoLeftovers();
  });

  it('failures in the start period do not count', async () => {
    const checks = h().path('checks');
    const p = h().run({
      jobs: [
        {
          name: 'slow',
          exec: announce(h().uniqueArg()),
          // Never healthy: with failureThreshold 2 it would restart after two checks, but the start period holds that off.
          health: {
            exec: ['sh', '-c', `echo "fail $PIDPILOT_RUN" >> ${checks}; exit 1`],
            interval: '100ms',
            ttl: '10s',
            failureThreshold: 2,
            startPeriod: '2s',
            onUnhealthy: 'restart',
          },
          restartLimit: { burst: 1, interval: '1h' },
        },
      ],
    });
    await until(() => runsOf(p, 'slow').length === 2, 'the restart after the start period', 30_000);
    expect(lines(checks).filter((l) => l === 'fail 1').length).toBeGreaterThan(2);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });

  it('onUnhealthy "stop" fails the job with the reason, and its dependents with it', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'db',
          exec: announce(h().uniqueArg()),
          health: { exec: ['false'], interval: '100ms', ttl: '10s', failureThreshold: 2, onUnhealthy: 'stop' },
        },
        { name: 'app', exec: ['echo', 'app-ran'], dependsOn: [{ job: 'db', condition: 'healthy' }] },
      ],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/db .*failed: health check failed 2 times/).length).toBeGreaterThan(0);
    expect(p.matching(/app .*dependency "db" failed/).length).toBeGreaterThan(0);
    expect(p.matching(/app-ran/)).toEqual([]);
    await h().expectNoLeftovers();
  });
});

describe('restart budget', () => {
  it('a job that restarts more than burst times within interval fails, and its dependents cascade', async () => {
    const p = h().run({
      jobs: [
        {
          name: 'crashy',
          exec: ['sh', '-c', 'echo "crash run=$PIDPILOT_RUN"; exit 1'],
          restarts: 'unlimited',
          restartLimit: { burst: 3, interval: '1h' },
          health: { exec: ['true'], interval: '1h', ttl: '2h' },
        },
        { name: 'app', exec: ['echo', 'app-ran'], dependsOn: [{ job: 'crashy', condition: 'healthy' }] },
      ],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/crashy crash run=\d+$/).map((l) => l.replace(/.*run=/, ''))).toEqual(['1', '2', '3', '4']);
    expect(
      p.matching(/crashy .*failed: restarted too often: more than 3 restarts within 3600s/).length,
    ).toBeGreaterThan(0);
    expect(p.matching(/app .*dependency "crashy" failed/).length).toBeGreaterThan(0);
    expect(p.matching(/app-ran/)).toEqual([]);
  });
});

describe('sd_notify', () => {
  let send: string;
  beforeAll(() => {
    send = buildNotifySender();
  });

  it('a notify job is started (and its dependents go) only on READY=1; STATUS= is its reason; a stopped watchdog restarts it', async () => {
    const go = h().path('go');
    const quiet = h().path('quiet');
    const script = [
      'echo "pid=$$ run=$PIDPILOT_RUN restarts=$PIDPILOT_RESTARTS job=$PIDPILOT_JOB"',
      `echo "watchdog $WATCHDOG_USEC"`,
      `until [ -e ${go} ] || [ "$PIDPILOT_RUN" != 1 ]; do sleep 0.05; done`,
      `${send} "$(printf 'READY=1\\nSTATUS=serving run %s' "$PIDPILOT_RUN")"`,
      `while [ ! -e ${quiet} ] || [ "$PIDPILOT_RUN" != 1 ]; do ${send} WATCHDOG=1; sleep 0.1; done`,
      `exec sleep ${h().uniqueArg()}`,
    ].join('\n');
    const p = h().run({
      jobs: [
        { name: 'svc', exec: ['sh', '-c', script], notify: true, watchdog: '1s' },
        { name: 'after', exec: ['echo', 'after-ran'], dependsOn: [{ job: 'svc', condition: 'started' }] },
      ],
    });
    await p.waitForLine(/ svc watchdog 1000000$/);
    // Not started yet: its dependent waits.
    const status = async () =>
      JSON.parse((await h().cli(['status', '--json'])).stdout).jobs as Array<{
        name: string;
        state: string;
        reason: string;
        pid: number;
      }>;
    expect((await status()).find((j) => j.name === 'svc')).toMatchObject({ state: 'starting' });
    expect(p.matching(/after-ran/)).toEqual([]);
    writeFileSync(go, '');
    await p.waitForLine(/ after after-ran$/);
    await eventually(
      async () => (await status()).find((j) => j.name === 'svc')?.reason.includes('serving run 1'),
      'STATUS as the reason',
    );
    // Pings stop: the watchdog restarts it.
    writeFileSync(quiet, '');
    await until(() => runsOf(p, 'svc').length === 2, 'the watchdog restart', 30_000);
    const [first, second] = runsOf(p, 'svc');
    expect(second!.pid).not.toBe(first!.pid);
    expect(p.matching(/svc .*watchdog/i).some((l) => /no WATCHDOG=1 within 1s/.test(l))).toBe(true);
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    await h().expectNoLeftovers();
  });
});

describe('sd_notify start timeout (notifyTimeout)', () => {
  let send: string;
  beforeAll(() => {
    send = buildNotifySender();
  });

  it('a program that never sends READY=1 is stopped with its stop signal and counts as a failed start, through restarts', async () => {
    // It speaks sd_notify (STATUS=), but never says READY=1; it exits 0 on its stop signal.
    const script = [
      'echo "pid=$$ run=$PIDPILOT_RUN restarts=$PIDPILOT_RESTARTS job=$PIDPILOT_JOB"',
      `${send} "STATUS=loading forever"`,
      'trap \'echo "got TERM in run $PIDPILOT_RUN"; exit 0\' TERM',
      'while :; do sleep 0.05; done',
    ].join('\n');
    const p = h().run({
      jobs: [
        { name: 'svc', exec: ['sh', '-c', script], notify: true, notifyTimeout: '1s', restarts: 1 },
        { name: 'after', exec: ['echo', 'after-ran'], dependsOn: [{ job: 'svc', condition: 'started' }] },
        { name: 'keep', exec: ['sleep', h().uniqueArg()] },
      ],
    });
    const status = async () =>
      JSON.parse((await h().cli(['status', '--json'])).stdout).jobs as Array<{
        name: string;
        state: string;
        reason: string;
      }>;
    await p.waitForLine(/started: pid/); // the control socket is up
    await eventually(
      async () => (await status()).find((j) => j.name === 'svc')?.state === 'failed',
      'svc to fail',
      30_000,
    );
    const svc = (await status()).find((j) => j.name === 'svc')!;
    expect(svc.reason).toBe('restarts exhausted after no READY=1 within 1s');
    // Two runs (the restart policy's one restart), each stopped with its stop signal.
    const runs = runsOf(p, 'svc');
    expect(runs.map((r) => [r.run, r.restarts])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    expect(runs[1]!.pid).not.toBe(runs[0]!.pid);
    expect(p.matching(/ svc got TERM in run \d$/)).toHaveLength(2);
    expect(p.matching(/no READY=1 within 1s: stopping it/)).toHaveLength(2);
    // Never started: its dependent never ran, and fails with it.
    expect(p.matching(/after-ran/)).toEqual([]);
    expect((await status()).find((j) => j.name === 'after')).toMatchObject({ state: 'failed' });
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    await h().expectNoLeftovers();
  });
});

describe('cleanup', () => {
  it('runs after every run end with the run’s outcome; at shutdown before the jobs it depends on stop; a failing one never blocks and is recorded', async () => {
    const log = h().path('cleanup.log');
    const alive = h().path('db-alive');
    const state = h().path('state');
    const hang = h().uniqueArg();
    const p = h().run({
      stopTimeout: '20s',
      state: { dir: state },
      jobs: [
        {
          name: 'db',
          exec: [
            'sh',
            '-c',
            `touch ${alive}; trap 'rm -f ${alive}; exit 0' TERM; echo db-up; while :; do sleep 0.05; done`,
          ],
        },
        {
          name: 'app',
          // Run 1 fails once db is up (db is only `started` when app starts: its shell may not
          // have made the file yet), so its cleanup sees db up.
          exec: [
            'sh',
            '-c',
            `if [ "$PIDPILOT_RUN" = 1 ]; then while [ ! -e ${alive} ]; do sleep 0.01; done; exit 3; fi; echo app-up; exec sleep ${h().uniqueArg()}`,
          ],
          restarts: 1,
          dependsOn: [{ job: 'db', condition: 'started' }],
          cleanup: [
            [
              'sh',
              '-c',
              `echo "$PIDPILOT_JOB run=$PIDPILOT_RUN result=$PIDPILOT_RESULT code=$PIDPILOT_EXIT_CODE signal=$PIDPILOT_EXIT_SIGNAL db=$(test -e ${alive} && echo up || echo down)" >> ${log}`,
            ],
            ['sh', '-c', 'exit 5'],
            ['sleep', hang],
          ],
          cleanupTimeout: '300ms',
        },
      ],
    });
    await p.waitForLine(/ app app-up$/);
    await until(() => lines(log).length === 1, 'the cleanup after run 1');
    expect(lines(log)).toEqual(['app run=1 result=failed code=3 signal= db=up']);
    // Recorded, while it runs: the run's record with each command's end, and an event for each.
    const steps = [
      {
        command: ['sh', '-c', expect.stringContaining('echo')],
        outcome: 'succeeded',
        code: 0,
        signal: null,
        timedOut: false,
      },
      { command: ['sh', '-c', 'exit 5'], outcome: 'failed', code: 5, signal: null, timedOut: false },
      {
        command: ['sleep', hang],
        outcome: 'errored',
        code: null,
        signal: 'SIGTERM',
        timedOut: true,
        reason: 'timeout',
      },
    ].map((s) => expect.objectContaining(s));
    const runs = await eventually(async () => {
      const r = await curl(h().socketPath, 'GET', '/v3/jobs/app/runs');
      const got = r.status === 200 ? (r.json?.runs as Array<Record<string, unknown>> | undefined) : undefined;
      return got && got.length >= 1 ? got : null;
    }, 'the run record of run 1');
    expect(runs[0]).toMatchObject({ job: 'app', run: 1, code: 3, outcome: 'failed', cleanup: steps });
    const events = await eventually(async () => {
      const r = await h().cli(['events']);
      return r.code === 0 && /cleanup 3\/3/.test(r.stdout) ? r.stdout : null;
    }, 'the cleanup events of run 1');
    expect(events).toMatch(/ cleanupSuccess app \(cleanup 1\/3 \(sh -c echo .*\) done\)$/m);
    expect(events).toMatch(/ cleanupFailed app \(cleanup 2\/3 \(sh -c exit 5\) failed: exit code 5\)$/m);
    expect(events).toMatch(
      new RegExp(
        ` cleanupFailed app \\(cleanup 3/3 \\(sleep ${hang.replace('.', '\\.')}\\) errored: timed out, killed by SIGTERM\\)$`,
        'm',
      ),
    );
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(lines(log)).toEqual([
      'app run=1 result=failed code=3 signal= db=up',
      'app run=2 result=aborted code= signal=SIGTERM db=up',
    ]);
    expect(p.matching(/app .*cleanup 2\/3 .* failed: exit code 5/).length).toBe(2);
    expect(p.matching(/app .*cleanup 3\/3 .* errored: timed out, killed by SIGTERM/).length).toBe(2);
    // The run stopped at shutdown is recorded with its cleanup too, before pidpilot exits.
    const stored = lines(`${state}/runs/app.jsonl`).map((l) => JSON.parse(l));
    expect(stored).toHaveLength(2);
    expect(stored[1]).toMatchObject({ run: 2, outcome: 'aborted', signal: 'SIGTERM', cleanup: steps });
    const stepEvents = lines(`${state}/events.jsonl`)
      .map((l) => JSON.parse(l))
      .filter((e) => e.code.startsWith('cleanup'));
    expect(stepEvents.map((e) => `${e.code} ${e.source}`)).toEqual(
      ['cleanupSuccess', 'cleanupFailed', 'cleanupFailed', 'cleanupSuccess', 'cleanupFailed', 'cleanupFailed'].map(
        (c) => `${c} app`,
      ),
    );
    expect(stepEvents.every((e) => typeof e.reason === 'string' && e.reason.startsWith('cleanup '))).toBe(true);
    await h().expectNoLeftovers();
  });
});

describe('the lifecycle environment', () => {
  it('a job triggered by another job’s exitFailed learns that run’s outcome', async () => {
    const p = h().run({
      jobs: [
        { name: 'crash', exec: ['sh', '-c', 'exit 4'] },
        {
          name: 'onfail',
          exec: [
            'sh',
            '-c',
            'echo "trigger=$PIDPILOT_TRIGGER_JOB result=$PIDPILOT_RESULT code=$PIDPILOT_EXIT_CODE job=$PIDPILOT_JOB run=$PIDPILOT_RUN restarts=$PIDPILOT_RESTARTS"',
          ],
          when: { source: 'crash', once: 'exitFailed' },
        },
      ],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/ onfail trigger=/).map((l) => l.replace(/.* onfail /, ''))).toEqual([
      'trigger=crash result=failed code=4 job=onfail run=1 restarts=0',
    ]);
  });
});
