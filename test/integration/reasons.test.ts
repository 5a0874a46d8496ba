/**
 * Why a job is in its state, as a user sees it through the built binary: the REASON column
 * of `status`, `status --json` and `/v3/status`, the event history; the default dependency
 * condition of a service with setup; run numbers that continue across `restart`, and a
 * `once` pre-stop hook re-armed by it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { curl, eventually } from './control-support.js';
import { until, useHarness } from './support.js';

const h = useHarness();

interface JobStatus {
  name: string;
  state: string;
  reason: string;
  runs: number;
  restarts: number;
}

async function job(name: string): Promise<JobStatus | undefined> {
  const r = await curl(h().socketPath, 'GET', '/v3/status');
  return (r.json?.jobs as JobStatus[] | undefined)?.find((j) => j.name === name);
}

it('a dependent of a server with setup waits for it to be started and set up, and says so', async () => {
  const flag = h().path('seeded');
  const file = h().writeConfig({
    jobs: [
      {
        name: 'app',
        exec: ['sleep', h().uniqueArg()],
        setup: [['sh', '-c', `while [ ! -e ${flag} ]; do sleep 0.05; done`]],
      },
      // No condition: app is a service (it has setup), so the default is `started`, not `succeeded`.
      { name: 'target', exec: ['sh', '-c', 'echo target-ran'], dependsOn: ['app'] },
    ],
  });
  const p = h().start(['-config', file]);
  await eventually(async () => (await job('target'))?.state === 'waiting', 'target waiting');
  expect((await job('target'))?.reason).toBe('waiting for app: started and set up');
  expect((await job('app'))?.reason).toMatch(/^run 1; setup 1\/1 running$/);

  const table = await h().cli(['status', '-config', file]);
  expect(table.code, table.stderr).toBe(0);
  expect(table.stdout).toMatch(/^target +waiting +- +- +0 +- +unknown +no +waiting for app: started and set up$/m);
  const json = JSON.parse((await h().cli(['status', '--json', '-config', file])).stdout);
  expect(json.jobs.find((j: JobStatus) => j.name === 'target').reason).toBe('waiting for app: started and set up');

  writeFileSync(flag, '');
  await p.waitForLine(/ target target-ran$/);
  await eventually(async () => (await job('target'))?.state === 'completed', 'target completed');
  expect((await job('target'))?.reason).toBe('run 1 exited 0');
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
});

it('restarts exhausted: failed with the reason in status, the log (ERROR) and the event history', async () => {
  const state = h().path('state');
  const p = h().run({
    state: { dir: state },
    jobs: [
      { name: 'keeper', exec: ['sleep', h().uniqueArg()] },
      { name: 'flaky', exec: ['sh', '-c', 'exit 1'], restarts: 2 },
    ],
  });
  await eventually(async () => (await job('flaky'))?.state === 'failed', 'flaky failed');
  expect(await job('flaky')).toMatchObject({ reason: 'restarts exhausted after exit code 1', runs: 3, restarts: 2 });
  await p.waitForLine(
    /ERROR.* flaky .*failed: restarts exhausted after exit code 1$|flaky.*failed: restarts exhausted after exit code 1$/,
    { stream: 'any' },
  );
  const events = await eventually(async () => {
    const r = await curl(h().socketPath, 'GET', '/v3/events');
    const events = r.body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { code: string; source: string; reason?: string });
    return events.find((e) => e.code === 'failed' && e.source === 'flaky') ?? null;
  }, 'the failed event in the history');
  expect(events.reason).toBe('restarts exhausted after exit code 1');
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
});

it('restart JOB: run numbers continue, and its `once` pre-stop hook runs again at the real shutdown', async () => {
  const hookLog = h().path('hook.log');
  const file = h().writeConfig({
    jobs: [
      { name: 'web', exec: ['sleep', h().uniqueArg()] },
      { name: 'drain', exec: ['sh', '-c', `echo drained >> ${hookLog}`], when: { source: 'web', once: 'stopping' } },
    ],
  });
  const p = h().start(['-config', file]);
  await eventually(async () => (await job('web'))?.state === 'running', 'web running');
  const restarted = await h().cli(['restart', 'web', '-config', file]);
  expect(restarted.code, restarted.stderr).toBe(0);
  await eventually(async () => (await job('web'))?.runs === 2, 'web on its second run');
  await until(() => existsSync(hookLog), 'the hook to run for the restart');
  await eventually(async () => (await job('drain'))?.state === 'pending', 'the hook re-armed');
  p.signal('SIGTERM');
  expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  expect(readFileSync(hookLog, 'utf8')).toBe('drained\ndrained\n');
});
