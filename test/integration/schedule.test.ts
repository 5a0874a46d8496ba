/**
 * Schedules (issue 13) with real processes through the built binary: a cron job with a
 * seconds field runs again and again, and a run that outlasts its schedule shows each
 * overlap policy exactly: the runs write down their start and end (and the signal that
 * stopped them), and `/v3/status` counts the ticks that did not simply start a run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { curl, eventually, freePort } from './control-support.js';
import { until, useHarness } from './support.js';

const h = useHarness();

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

interface JobStatus {
  state: string;
  reason: string;
  runs: number;
  ticks: { skipped: number; queued: number; replaced: number };
  lastRun: { run: number; signal: string | null; outcome: string; reason?: string } | null;
}

async function job(name: string): Promise<JobStatus | undefined> {
  const answer = await curl(h().socketPath, 'GET', '/v3/status');
  return answer.json?.jobs?.find((j: { name: string }) => j.name === name);
}

/**
 * A run that writes `start N`, waits until the file `release` exists (run 1 only: later
 * runs end at once unless `holdAll`), then writes `end N`; `INT N` if SIGINT stops it.
 */
function gated(log: string, release: string, holdAll = false): string[] {
  const hold = holdAll ? 'true' : '[ "$PIDPILOT_RUN" = 1 ]';
  return [
    'sh',
    '-c',
    `trap 'echo "INT $PIDPILOT_RUN" >> ${log}; exit 130' INT; echo "start $PIDPILOT_RUN" >> ${log}; ` +
      `if ${hold}; then while [ ! -e ${release} ]; do sleep 0.05; done; fi; echo "end $PIDPILOT_RUN" >> ${log}`,
  ];
}

/** Runs never overlap: the log is start 1, end 1, start 2, … (the last run may still be going). */
function expectOneAtATime(log: string[], endWord = 'end'): void {
  log.forEach((line, i) => {
    const run = Math.floor(i / 2) + 1;
    expect(line, log.join('\n')).toBe(i % 2 === 0 ? `start ${run}` : `${endWord} ${run}`);
  });
}

/** SIGTERM: pidpilot exits 0 and leaves nothing behind. */
async function stop(p: ReturnType<ReturnType<typeof h>['run']>): Promise<void> {
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  await h().expectNoLeftovers();
}

/** Lets run 1 end; then the next run comes, and the runs never overlapped. */
async function release1(release: string, log: string, what: string): Promise<void> {
  writeFileSync(release, '');
  await until(() => lines(log).length >= 4, what);
  expectOneAtATime(lines(log));
}

describe('cron schedules', () => {
  it('a six-field cron job runs every second, and says when it runs next', async () => {
    const log = h().path('log');
    const p = h().run({
      jobs: [{ name: 'tick', exec: ['sh', '-c', `echo "run $PIDPILOT_RUN" >> ${log}`], when: { cron: '* * * * * *' } }],
    });
    await until(() => lines(log).length >= 3, 'three runs');
    expect(lines(log).slice(0, 3)).toEqual(['run 1', 'run 2', 'run 3']);
    const pending = await eventually(async () => {
      const s = await job('tick');
      return s?.state === 'pending' ? s : null;
    }, 'the job pending between ticks');
    expect(pending.reason).toMatch(/^next run at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    await stop(p);
  });
});

describe('a bad schedule', () => {
  it('is a configuration error naming the job and the field, for validate and for start-up alike (exit 2)', async () => {
    const file = h().writeConfig({
      jobs: [
        { name: 'backup', exec: ['true'], when: { cron: '0 3 * * *', timezone: 'Europe/Pari' } },
        { name: 'sync', exec: ['true'], when: { cron: '*/5 * * *' } },
      ],
    });
    for (const args of [
      ['validate', '-config', file],
      ['-config', file],
    ]) {
      const r = await h().cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/jobs\[0\]\.when\.timezone: job "backup": unknown time zone "Europe\/Pari"/);
      expect(r.stderr).toMatch(/jobs\[1\]\.when\.cron: job "sync": invalid cron expression "\*\/5 \* \* \*"/);
    }
    await h().expectNoLeftovers();
  });
});

describe('overlap: a run that outlasts its schedule', () => {
  it('skip (the default for cron): ticks during the run are dropped and counted, never a second run at once', async () => {
    const log = h().path('log');
    const release = h().path('release');
    const p = h().run({ jobs: [{ name: 'slow', exec: gated(log, release), when: { cron: '* * * * * *' } }] });
    const held = await eventually(async () => {
      const s = await job('slow');
      return s && s.ticks.skipped >= 2 ? s : null;
    }, 'two ticks skipped during run 1');
    expect(held).toMatchObject({ runs: 1, ticks: { queued: 0, replaced: 0 } });
    expect(lines(log)).toEqual(['start 1']);
    expect(p.matching(/ slow tick skipped: run 1 still running$/).length).toBeGreaterThanOrEqual(2);
    await release1(release, log, 'run 2 after run 1 ended');
    await stop(p);
  });

  it('queue: one run waits for the current one, a further tick is dropped', async () => {
    const log = h().path('log');
    const release = h().path('release');
    const p = h().run({
      jobs: [{ name: 'slow', exec: gated(log, release), when: { cron: '* * * * * *', overlap: 'queue' } }],
    });
    const held = await eventually(async () => {
      const s = await job('slow');
      return s && s.ticks.queued >= 1 && s.ticks.skipped >= 1 ? s : null;
    }, 'a tick queued and one more dropped during run 1');
    // At most one queued: the second tick during the run was dropped, and nothing else ran.
    expect(held).toMatchObject({ runs: 1, ticks: { queued: 1, replaced: 0 } });
    expect(lines(log)).toEqual(['start 1']);
    expect(p.matching(/ slow tick queued: run 1 still running$/)).toHaveLength(1);
    expect(
      p.matching(/ slow tick skipped: run 1 still running and the next run already queued$/).length,
    ).toBeGreaterThan(0);
    await release1(release, log, 'the queued run');
    await stop(p);
  });

  it('replace: each tick stops the run with the job stop signal, then starts a new one', async () => {
    const log = h().path('log');
    const release = h().path('release'); // never made: every run is held until a tick replaces it
    const port = await freePort();
    const p = h().run({
      telemetry: { port },
      jobs: [
        {
          name: 'slow',
          exec: gated(log, release, true),
          when: { cron: '* * * * * *', overlap: 'replace' },
          stopSignal: 'SIGINT',
          stopTimeout: '10s',
        },
      ],
    });
    const s = await eventually(async () => {
      const s = await job('slow');
      return s && s.ticks.replaced >= 2 && s.runs >= 3 ? s : null;
    }, 'two runs replaced');
    expect(s.ticks).toMatchObject({ skipped: 0, queued: 0 });
    // Every replaced run got SIGINT (its trap wrote it down) before the next one started.
    await until(() => lines(log).length >= 4, 'the log of two replaced runs');
    expectOneAtATime(lines(log), 'INT');
    expect(s.lastRun).toMatchObject({ outcome: 'aborted', reason: 'replaced by a tick of the schedule' });
    expect(p.matching(/ slow tick replaces run 1: SIGINT sent$/)).toHaveLength(1);
    // Counted where a dashboard sees it.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const replaced = /^pidpilot_job_ticks_total\{job="slow",outcome="replaced"\} (\d+)$/m.exec(metrics);
    expect(Number(replaced?.[1]), metrics).toBeGreaterThanOrEqual(2);
    await stop(p);
  });

  it('interval jobs queue by default (ContainerPilot: the next run waits for the current one)', async () => {
    const log = h().path('log');
    const release = h().path('release');
    const p = h().run({
      jobs: [{ name: 'slow', exec: gated(log, release), when: { interval: '300ms' }, timeout: '60s' }],
    });
    const held = await eventually(async () => {
      const s = await job('slow');
      return s && s.ticks.queued >= 1 ? s : null;
    }, 'a tick queued during run 1');
    expect(held).toMatchObject({ runs: 1, ticks: { queued: 1, replaced: 0 } });
    await release1(release, log, 'the queued run');
    await stop(p);
  });
});
