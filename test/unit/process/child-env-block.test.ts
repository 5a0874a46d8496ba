/**
 * The two-layer child environment (src/process/child-env-block.ts): what execve gets is every
 * name once, the overlay's value where both layers have it.
 */
import { describe, expect, it } from 'vitest';
import { envPairs, envRecord, PreparedEnv } from '../../../src/process/child-env-block.js';

describe('envPairs', () => {
  it('gives each name once, the overlay winning over the base', () => {
    const base = new PreparedEnv({ PATH: '/bin', HOME: '/root', CONTAINERPILOT_PID: '1' });
    const pairs = envPairs({ base, overlay: { CONTAINERPILOT_PID: '7', PIDPILOT_RUN: '3', HOME: '/home/x' } });
    expect([...pairs].sort()).toEqual(['CONTAINERPILOT_PID=7', 'HOME=/home/x', 'PATH=/bin', 'PIDPILOT_RUN=3']);
  });

  it('leaves the prepared base as it was for the next spawn', () => {
    const base = new PreparedEnv({ A: '1', B: '2' });
    envPairs({ base, overlay: { A: 'x' } });
    expect(envPairs({ base, overlay: {} })).toEqual(['A=1', 'B=2']);
  });

  it('agrees with the environment as one record', () => {
    const base = new PreparedEnv({ A: '1', B: '2', C: '3' });
    const env = { base, overlay: { B: 'b', D: 'd' } };
    const fromPairs = Object.fromEntries(
      envPairs(env).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
    );
    expect(fromPairs).toEqual(envRecord(env));
  });
});
