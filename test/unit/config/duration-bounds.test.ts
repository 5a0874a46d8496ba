/**
 * Absurd durations are configuration errors naming the field; long legitimate ones are accepted
 * (they work: see test/unit/jobs/long-durations.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { check, expectError, job, oneJob } from './helpers.js';

const TOO_LONG = 'must be at most 87600h (10 years)';

describe('duration upper bound', () => {
  it('accepts a month and 10 years in every kind of field', () => {
    const j = job(
      'name: "a", when: { interval: "720h" }, timeout: "720h", stopTimeout: "87600h", health: { exec: "true", interval: "720h", ttl: "720h", timeout: "720h" }',
    );
    expect(j.when).toMatchObject({ kind: 'interval', interval: 720 * 3_600_000 });
    expect(j.stopTimeout).toBe(87_600 * 3_600_000);
    expect(j.health).toMatchObject({ interval: 720 * 3_600_000, ttl: 720 * 3_600_000 });
    expect(check('{ stopTimeout: "720h", jobs: [{ name: "a" }] }').stopTimeout).toBe(720 * 3_600_000);
  });

  it.each([
    ['stopTimeout: "9223372036854775807ns"', 'jobs[0].stopTimeout', '"9223372036854775807ns"'],
    ['health: { exec: "true", interval: 2147483648, ttl: 10 }', 'jobs[0].health.interval', '2147483648'],
    ['health: { exec: "true", interval: 5, ttl: "87601h" }', 'jobs[0].health.ttl', '"87601h"'],
    ['health: { exec: "true", interval: 5, ttl: 10, timeout: "100000h" }', 'jobs[0].health.timeout', '"100000h"'],
    ['when: { interval: "100000h" }', 'jobs[0].when.interval', '"100000h"'],
    ['when: { source: "b", once: "healthy", timeout: "100000h" }', 'jobs[0].when.timeout', '"100000h"'],
    ['timeout: "2562047h"', 'jobs[0].timeout', '"2562047h"'],
    ['setupTimeout: "100000h"', 'jobs[0].setupTimeout', '"100000h"'],
    ['restartBackoff: { max: "100000h" }', 'jobs[0].restartBackoff.max', '"100000h"'],
    [
      'consul: { deregisterCriticalServiceAfter: "100000h" }',
      'jobs[0].consul.deregisterCriticalServiceAfter',
      '"100000h"',
    ],
  ])('%s is an error naming the field', (body, path, at) => {
    const text = oneJob(`name: "a", ${body}`);
    expectError(text, { path, at, message: new RegExp(`^${TOO_LONG.replace(/[()]/g, '\\$&')}`) });
  });

  it('the global stopTimeout and a watch interval too', () => {
    const t1 = '{ stopTimeout: "9223372036854775807ns", jobs: [{ name: "a" }] }';
    expectError(t1, { path: 'stopTimeout', at: '"9223', message: `${TOO_LONG}, got "9223372036854775807ns"` });
    const t2 = '{ watches: [{ name: "db", interval: 999999999 }] }';
    expectError(t2, {
      path: 'watches[0].interval',
      at: '999999999',
      message: new RegExp(TOO_LONG.replace(/[()]/g, '\\$&')),
    });
  });
});
