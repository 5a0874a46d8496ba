/**
 * The environment of a job's child (src/jobs/child-env.ts): pidpilot's environment, the job's
 * `env` over it, then CONTAINERPILOT_PID, the running jobs' PIDs, the run's lifecycle variables
 * and a run's extra variables, each later layer winning, each name once.
 */
import { describe, expect, it } from 'vitest';
import { ChildEnv } from '../../../src/jobs/child-env.js';
import { envPairs, envRecord } from '../../../src/process/child-env-block.js';
import { job } from '../../support/jobs.js';

describe('ChildEnv.forJob', () => {
  it('layers the job env, the PIDs, the lifecycle and the extra variables in that order', () => {
    const env = new ChildEnv({ PATH: '/bin', A: 'base' });
    env.pidChanged('db', 42);
    const web = { ...job('web'), env: { A: 'job', B: 'job', PIDPILOT_RUN: 'job' } };
    const layered = env.forJob(web, { PIDPILOT_JOB: 'web', PIDPILOT_RUN: '2' }, { B: 'extra', C: 'extra' });
    expect(Object.entries(layered.overlay)).toEqual([
      ['A', 'job'],
      ['B', 'extra'],
      ['PIDPILOT_RUN', '2'],
      ['CONTAINERPILOT_PID', String(process.pid)],
      ['CONTAINERPILOT_DB_PID', '42'],
      ['PIDPILOT_JOB', 'web'],
      ['C', 'extra'],
    ]);
    expect(envRecord(layered)).toMatchObject({ PATH: '/bin', A: 'job', B: 'extra', C: 'extra' });
  });

  it('passes a variable named __proto__ on as a variable', () => {
    const env = new ChildEnv({ PATH: '/bin' });
    const odd = JSON.parse('{"__proto__":"job"}') as Record<string, string>;
    const extra = JSON.parse('{"__proto__":"extra"}') as Record<string, string>;
    expect(envPairs(env.forJob({ ...job('web'), env: odd }))).toContain('__proto__=job');
    expect(envPairs(env.forJob({ ...job('web'), env: odd }, {}, extra))).toContain('__proto__=extra');
  });
});
