/**
 * pidpilot's own exit status (docs/configuration.md `main`, §4.1): the main job's status, 128+signal
 * when it was killed, and 0 when every job has completed.
 */
import { writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { settleArg, until, useHarness, withArg } from './support.js';

const h = useHarness();

it('exits with the main job’s exit status (7) and stops the other jobs', async () => {
  const other = h().uniqueArg();
  const p = h().run({
    main: 'app',
    jobs: [
      {
        name: 'app',
        exec: ['sh', '-c', `echo main-running; until [ -e ${h().path('go')} ]; do sleep 0.05; done; exit 7`],
      },
      { name: 'other', exec: ['sleep', other] },
    ],
  });
  await p.waitForLine(/ app main-running$/);
  await until(() => withArg(other).length === 1, 'the other job');
  writeFileSync(h().path('go'), '');
  const r = await p.waitExit();
  expect(r, p.transcript()).toEqual({ code: 7, signal: null });
  expect(p.matching(/pidpilot exiting with status 7$/)).toHaveLength(1);
  expect(await settleArg(other)).toEqual([]);
  await h().expectNoLeftovers();
});

it('exits with 128+n when the main job is killed by signal n', async () => {
  const p = h().run({
    main: 'app',
    jobs: [
      { name: 'app', exec: ['sh', '-c', 'kill -KILL $$'] },
      { name: 'other', exec: ['sleep', h().uniqueArg()] },
    ],
  });
  const r = await p.waitExit();
  expect(r, p.transcript()).toEqual({ code: 128 + constants.signals.SIGKILL, signal: null });
  await h().expectNoLeftovers();
});

it('exits with 128+n for a catchable signal too (SIGUSR1)', async () => {
  const p = h().run({
    main: 'app',
    jobs: [{ name: 'app', exec: ['sh', '-c', 'kill -USR1 $$'] }],
  });
  const r = await p.waitExit();
  expect(r, p.transcript()).toEqual({ code: 128 + constants.signals.SIGUSR1, signal: null });
});

it('a main job that exits 0 makes pidpilot exit 0 while other jobs still run', async () => {
  const other = h().uniqueArg();
  const p = h().run({
    main: 'app',
    jobs: [
      { name: 'app', exec: ['sh', '-c', `until [ -e ${h().path('go')} ]; do sleep 0.05; done`] },
      { name: 'other', exec: ['sleep', other] },
    ],
  });
  await until(() => withArg(other).length === 1, 'the other job');
  writeFileSync(h().path('go'), '');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  await h().expectNoLeftovers();
});

it('exits 0 by itself when every job has completed', async () => {
  const p = h().run({
    jobs: [
      { name: 'one', exec: ['sh', '-c', 'echo one-done'] },
      { name: 'two', exec: ['sh', '-c', 'sleep 0.2; echo two-done'] },
      { name: 'three', exec: 'true', when: { source: 'two', once: 'exitSuccess' } },
    ],
  });
  const r = await p.waitExit();
  expect(r, p.transcript()).toEqual({ code: 0, signal: null });
  expect(p.matching(/ one one-done$/)).toHaveLength(1);
  expect(p.matching(/ two two-done$/)).toHaveLength(1);
  expect(p.matching(/shutting down \(every job has completed\)/)).toHaveLength(1);
  expect(p.matching(/pidpilot exiting with status 0$/)).toHaveLength(1);
});

it('exits by itself when the jobs left wait on a trigger chain that can no longer fire', async () => {
  // `first` fails, so `second` (once first exitSuccess) can never start, so neither can
  // `third` (once second exitSuccess). Nothing is left to run: pidpilot must end, as it
  // does when only `second` is there. It must not wait forever.
  const p = h().run({
    jobs: [
      { name: 'first', exec: ['sh', '-c', 'exit 1'] },
      { name: 'second', exec: ['echo', 'second-ran'], when: { source: 'first', once: 'exitSuccess' } },
      { name: 'third', exec: ['echo', 'third-ran'], when: { source: 'second', once: 'exitSuccess' } },
    ],
  });
  const r = await p.waitExit();
  expect(r, p.transcript()).toEqual({ code: 0, signal: null });
  expect(p.matching(/second-ran|third-ran/)).toEqual([]);
});

it('the same with one link: exits by itself when a job waits on a source that has ended', async () => {
  const p = h().run({
    jobs: [
      { name: 'first', exec: ['sh', '-c', 'exit 1'] },
      { name: 'second', exec: ['echo', 'second-ran'], when: { source: 'first', once: 'exitSuccess' } },
    ],
  });
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  expect(p.matching(/second-ran/)).toEqual([]);
});

it('if pidpilot itself is SIGKILLed, its job processes die with it', async () => {
  const a = h().uniqueArg();
  const b = h().uniqueArg();
  const p = h().run({
    jobs: [
      { name: 'one', exec: ['sleep', a] },
      { name: 'two', exec: ['sleep', b] },
    ],
  });
  await until(() => withArg(a).length === 1 && withArg(b).length === 1, 'both jobs to run');
  p.signal('SIGKILL');
  expect(await p.waitExit()).toEqual({ code: null, signal: 'SIGKILL' });
  expect(await settleArg(a)).toEqual([]);
  expect(await settleArg(b)).toEqual([]);
  await h().expectNoLeftovers();
});

it('a normal shutdown (SIGTERM) exits 0 without a main job', async () => {
  const p = h().run({ jobs: [{ name: 'app', exec: ['sh', '-c', 'echo app-up; exec sleep ' + h().uniqueArg()] }] });
  await p.waitForLine(/ app app-up$/);
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  await h().expectNoLeftovers();
});

// With `main`, a shutdown by a signal (docker/podman stop) exits with the status the main job ended with, as tini does.
it('SIGTERM with a main job that traps TERM and exits 3 exits 3', async () => {
  const p = h().run({
    main: 'app',
    jobs: [
      { name: 'app', exec: ['sh', '-c', `trap 'exit 3' TERM; echo trap-set; while :; do sleep 0.05; done`] },
      { name: 'other', exec: ['sleep', h().uniqueArg()] },
    ],
  });
  await p.waitForLine(/ app trap-set$/);
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 3, signal: null });
  expect(p.matching(/pidpilot exiting with status 3$/)).toHaveLength(1);
  await h().expectNoLeftovers();
});

it('SIGTERM with a main job that dies of it exits 143', async () => {
  const p = h().run({
    main: 'app',
    jobs: [{ name: 'app', exec: ['sh', '-c', 'echo app-up; exec sleep ' + h().uniqueArg()] }],
  });
  await p.waitForLine(/ app app-up$/);
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 128 + constants.signals.SIGTERM, signal: null });
  await h().expectNoLeftovers();
});

it('SIGTERM with a main job that ignores it and is SIGKILLed after its stop timeout exits 137', async () => {
  const p = h().run({
    main: 'app',
    stopTimeout: '20s',
    jobs: [
      {
        name: 'app',
        stopTimeout: '300ms',
        exec: ['sh', '-c', `trap '' TERM; echo trap-set; while :; do sleep 0.05; done`],
      },
    ],
  });
  await p.waitForLine(/ app trap-set$/);
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 128 + constants.signals.SIGKILL, signal: null });
  await h().expectNoLeftovers();
});

describe('pidpilot run JOB interrupted before JOB finished exits 128+signal, never 0', () => {
  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} → ${status}, even though the target exits 0 on it`, async () => {
      const file = h().writeConfig({
        jobs: [
          { name: 'db', exec: ['sleep', h().uniqueArg()] },
          {
            name: 'target',
            dependsOn: [{ job: 'db', condition: 'started' }],
            exec: ['sh', '-c', `trap 'exit 0' INT TERM; echo trap-set; while :; do sleep 0.05; done`],
          },
        ],
      });
      const p = h().start(['run', 'target', '-config', file]);
      await p.waitForLine(/ target trap-set$/);
      p.signal(signal);
      expect(await p.waitExit(), p.transcript()).toEqual({ code: status, signal: null });
      expect(p.matching(new RegExp(`pidpilot exiting with status ${status}$`))).toHaveLength(1);
      await h().expectNoLeftovers();
    });
  }
});
