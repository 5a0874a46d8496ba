/**
 * Edges of the job state machine found in review: a restart delay running out during
 * shutdown, and a run whose exit is followed by output that never stops (a process that
 * escaped the group keeps writing to the inherited pipe).
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { config, harness, job } from '../../support/jobs.js';

const sh = (script: string): string[] => ['sh', '-c', script];
const escaped: string[] = [];
afterEach(() => {
  for (const marker of escaped.splice(0)) {
    try {
      execFileSync('pkill', ['-f', marker]);
    } catch {
      // already gone
    }
  }
});

describe('during shutdown', () => {
  it('a job waiting out its restart delay is not restarted while its dependents stop first', async () => {
    const h = harness(
      config([
        job('db', {
          exec: sh('sleep 0.2; exit 1'),
          restarts: Infinity,
          restartBackoff: { initial: 2000, max: 2000, factor: 1, resetAfter: 60_000 },
        }),
        // Slow to stop: db must wait for it, long enough for db's restart delay to run out.
        job('app', {
          exec: sh('trap "sleep 3; exit 0" TERM; while :; do sleep 0.05; done'),
          dependsOn: [{ job: 'db', condition: 'started' }],
        }),
      ]),
    );
    const exit = h.run();
    await h.waitFor('exitFailed', 'db');
    void h.supervisor.shutdown('test');
    expect(await exit).toBe(0);
    expect(h.supervisor.job('db')!.snapshot().runs).toBe(1);
    expect(h.trace().filter((e) => e === 'exitFailed:db')).toHaveLength(1);
  });
});

describe('after a run exits', () => {
  it('output that keeps coming from an escaped process does not hold the exit back for ever', async () => {
    const marker = `escaped-writer-${process.pid}-${Date.now()}`;
    escaped.push(marker);
    const h = harness(
      config([
        job('leaky', { exec: sh(`setsid sh -c 'while :; do echo ${marker}; sleep 0.02; done' & sleep 0.3; exit 3`) }),
      ]),
    );
    const exit = h.run();
    await h.waitFor('exitFailed', 'leaky');
    expect(await exit).toBe(0);
  });
});
