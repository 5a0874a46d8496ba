/**
 * The supervisor's deferred logger (src/log/deferred-logger.ts): pino is made only when the log
 * is first written, and what was logged before comes out then as it would have at once — in
 * order, each record with the time it was logged, before any job output written after it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogFormat, LogLevel } from '../../../src/config/types.js';
import { createDeferredLogger } from '../../../src/log/deferred-logger.js';
import { rfc3339 } from '../../../src/log/format.js';
import { HoldingSink } from '../../../src/log/holding-sink.js';
import { createLogger } from '../../../src/log/logger.js';
import { plainDefaultLine } from '../../../src/log/plain-line.js';
import { tempDir } from './support.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0)) c();
});

function setup(level: LogLevel = 'info', format: LogFormat = 'default') {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const file = join(dir, 'pidpilot.log');
  const bundle = createDeferredLogger({ level, format, output: file }, new HoldingSink(file));
  const lines = (): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);
  return { ...bundle, lines };
}

const T1 = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
const T2 = T1 + 1234;

describe('deferred logger', () => {
  it('writes what was logged before it was made in order, each record with the time it was logged', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { logger, sink, materialize, lines } = setup('info');
    vi.setSystemTime(T1);
    logger.info('one');
    vi.setSystemTime(T2);
    const web = logger.child({ job: 'web' });
    web.warn('two');
    logger.debug('below the level: dropped');
    expect(lines()).toEqual([]);
    expect(await sink.drain(5000)).toBe(true); // every exit path drains or flushes: the queue is written
    expect(lines()).toEqual([`${rfc3339(T1)} one`, `${rfc3339(T2)} web two`]);
    vi.setSystemTime(T2 + 1000);
    materialize(); // already made by the flush: nothing queued is written twice
    logger.info('three');
    expect(await sink.drain(5000)).toBe(true);
    expect(lines()).toEqual([`${rfc3339(T1)} one`, `${rfc3339(T2)} web two`, `${rfc3339(T2 + 1000)} three`]);
  });

  it('nothing is written until it is made; materialize() writes the queue into the held sink in order', async () => {
    const { logger, sink, materialize, lines } = setup('info', 'json');
    sink.hold();
    logger.info('started');
    logger.child({ job: 'web' }).error({ code: 3 }, 'failed');
    expect(lines()).toEqual([]);
    materialize();
    expect(lines()).toEqual([]); // written into the sink, which holds it
    expect(await sink.drain(5000)).toBe(true);
    const recs = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs.map((r) => [r.level, r.msg, r.job, r.code])).toEqual([
      ['info', 'started', undefined, undefined],
      ['error', 'failed', 'web', 3],
    ]);
  });

  it('a job output line written before it is made comes after what was logged before it', async () => {
    const { logger, sink, lineWriter, lines } = setup('info');
    logger.info('pidpilot started');
    lineWriter.open('web', 'stdout').writeLine([Buffer.from('hello')], false);
    logger.info('after the line');
    expect(await sink.drain(5000)).toBe(true);
    expect(lines().map((l) => l.replace(/^\S+ /, ''))).toEqual(['pidpilot started', 'web hello', 'after the line']);
  });

  it('fatal is written at once, after what was queued before it', async () => {
    const { logger, sink, lines } = setup('info');
    logger.warn('queued');
    logger.fatal('boom');
    // No drain, flush or materialize(): the fatal alone makes pino and writes.
    await vi.waitFor(() => expect(lines().map((l) => l.replace(/^\S+ /, ''))).toEqual(['queued', 'boom']), {
      timeout: 5000,
    });
    expect(await sink.drain(5000)).toBe(true);
  });

  it('knows the configured level before pino is made', () => {
    const quiet = setup('warn');
    expect(quiet.logger.isLevelEnabled('info')).toBe(false);
    expect(quiet.logger.isLevelEnabled('error')).toBe(true);
    expect(quiet.lineWriter.enabled).toBe(false);
    const { lineWriter } = setup('debug');
    expect(lineWriter.enabled).toBe(true);
  });
});

/** Calls a logger gets: those plainDefaultLine writes itself, and those it leaves to pino. */
const PLAIN_CALLS: unknown[][] = [
  ['hello'],
  [{ pid: 123, run: 2 }, 'stopped (shutdown)'],
  [{}, 'no fields'],
  [{ pid: -0 }, 'minus zero'],
  [{ pid: 1.5, ok: true, none: null, gone: undefined }, 'odd pid'],
  [{ pid: Number.NaN }, 'NaN pid'],
  [{ pid: Number.POSITIVE_INFINITY }, 'infinite pid'],
  [{ pid: '12' }, 'string pid'],
  [{ pid: 1e21 }, 'large pid'],
  ['%s and %% and "quotes", a tab\t, a newline\n, \u2028 and a lone \ud800 surrogate'],
];
const PINO_CALLS: unknown[][] = [
  [{ err: new Error('boom') }, 'with an error'],
  [{ job: 'other', pid: 1 }, 'job overridden'],
  [{ msg: 'inner' }, 'msg field'],
  [{ pid: 7, nested: { a: 1 } }, 'nested field'],
  [{ pid: 7, big: 1n }, 'bigint field'],
  ['format %s', 'argument'],
  [new Error('an error alone')],
  [{ pid: 3 }],
  [42],
];

describe('the default format without pino (plain-line.ts)', () => {
  it('takes the usual calls and leaves the rest to pino', () => {
    for (const args of PLAIN_CALLS) expect(plainDefaultLine('web', args)).not.toBeNull();
    for (const args of PINO_CALLS) expect(plainDefaultLine('web', args)).toBeNull();
  });

  it('writes, call for call, the lines pino and the default renderer write', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T1);
    const deferred = setup('debug');
    deferred.materialize();
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'pino.log');
    const viaPino = createLogger({ level: 'debug', format: 'default', output: file }, new HoldingSink(file));
    for (const [a, b] of [
      [deferred.logger, viaPino.logger],
      [deferred.logger.child({ job: 'web' }), viaPino.logger.child({ job: 'web' })],
      [deferred.logger.child({ job: 'db', zone: 'a' }), viaPino.logger.child({ job: 'db', zone: 'a' })],
    ] as const) {
      for (const args of [...PLAIN_CALLS, ...PINO_CALLS]) {
        (a.info as (...x: unknown[]) => void)(...args);
        (b.info as (...x: unknown[]) => void)(...args);
      }
    }
    expect(await deferred.sink.drain(5000)).toBe(true);
    expect(await viaPino.sink.drain(5000)).toBe(true);
    const expected = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    expect(expected.length).toBeGreaterThan(3 * PLAIN_CALLS.length);
    expect(deferred.lines()).toEqual(expected);
  });
});
