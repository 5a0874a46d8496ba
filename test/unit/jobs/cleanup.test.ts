import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCleanup, stepRecord } from '../../../src/jobs/liveness/cleanup.js';
import { ProcessRun } from '../../../src/process/run.js';

function logger() {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => void lines.push(`INFO ${m}`),
    warn: (m: string) => void lines.push(`WARN ${m}`),
  };
}

describe('runCleanup (real processes)', () => {
  it('runs every command in order, one at a time; failures and timeouts are logged and do not stop the rest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidpilot-cleanup-'));
    const log = logger();
    const commands = [
      ['sh', '-c', `echo one >> ${dir}/order`],
      ['sh', '-c', `echo two >> ${dir}/order; exit 3`],
      ['sh', '-c', `echo three >> ${dir}/order; exec sleep 30`],
      ['no-such-program-pidpilot-test'],
      ['sh', '-c', `test "$(cat ${dir}/order)" = "$(printf 'one\\ntwo\\nthree')" && touch ${dir}/last-saw-all`],
    ];
    const heard: number[] = [];
    const steps = await runCleanup(
      commands,
      (argv) =>
        ProcessRun.start({
          argv,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
          timeout: 300,
          stopSignal: 'SIGTERM',
          stdout: 'ignore',
          stderr: 'ignore',
        }).result,
      log,
      (step) => heard.push(step.index),
    );
    expect(heard).toEqual([0, 1, 2, 3, 4]);
    expect(steps.map((s) => s.result.outcome)).toEqual(['succeeded', 'failed', 'errored', 'errored', 'succeeded']);
    expect(steps[1]!.result.code).toBe(3);
    expect(steps[2]!.result.reason).toBe('timeout');
    expect(existsSync(join(dir, 'last-saw-all'))).toBe(true);
    expect(readFileSync(join(dir, 'order'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(log.lines[0]).toBe(`INFO cleanup 1/5 (sh -c echo one >> ${dir}/order) done`);
    expect(log.lines[1]).toMatch(/^WARN cleanup 2\/5 .* failed: exit code 3$/);
    expect(log.lines[2]).toMatch(/^WARN cleanup 3\/5 .* errored: timed out, killed by SIGTERM$/);
    expect(log.lines[3]).toMatch(/^WARN cleanup 4\/5 \(no-such-program-pidpilot-test\) errored: ENOENT/);
    // As recorded with the run: the command, how it ended, whether its bound ran out.
    expect(steps.map(stepRecord).map(({ durationMs: _, ...r }) => r)).toEqual([
      { command: commands[0], outcome: 'succeeded', code: 0, signal: null, timedOut: false },
      { command: commands[1], outcome: 'failed', code: 3, signal: null, timedOut: false },
      { command: commands[2], outcome: 'errored', code: null, signal: 'SIGTERM', timedOut: true, reason: 'timeout' },
      expect.objectContaining({
        command: commands[3],
        outcome: 'errored',
        timedOut: false,
        reason: expect.stringMatching(/ENOENT/),
      }),
      { command: commands[4], outcome: 'succeeded', code: 0, signal: null, timedOut: false },
    ]);
  });

  it('a runner that throws is recorded as errored and the rest still runs', async () => {
    const log = logger();
    const ran: number[] = [];
    const steps = await runCleanup(
      [['a'], ['b']],
      async (_argv, i) => {
        ran.push(i);
        if (i === 0) throw new Error('boom');
        return { pid: 1, startedAt: 0, endedAt: 0, durationMs: 0, code: 0, signal: null, outcome: 'succeeded' };
      },
      log,
    );
    expect(ran).toEqual([0, 1]);
    expect(steps.map((s) => s.result.outcome)).toEqual(['errored', 'succeeded']);
    expect(log.lines[0]).toBe('WARN cleanup 1/2 (a) errored: Error: boom');
  });
});
