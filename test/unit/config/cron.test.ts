/** Cron schedules (src/config/cron.ts) with a given "now": the next tick, seconds, time zones, DST, errors. */
import { describe, expect, it } from 'vitest';
import { type CronError, cronSchedule, tickTime } from '../../../src/config/cron.js';

const t = (iso: string): number => Date.parse(iso);
const NOW = t('2026-01-01T00:00:00Z');

/** The first `n` ticks after `from`, as ISO times. */
function ticks(expression: string, timezone: string | undefined, from: string, n: number): string[] {
  const s = cronSchedule(expression, timezone, NOW);
  const out: string[] = [];
  let at = t(from);
  for (let i = 0; i < n; i++) {
    at = s.next(at)!;
    out.push(tickTime(at));
  }
  return out;
}

describe('cron schedule', () => {
  it('five fields: the next matching minute, strictly after the given time', () => {
    expect(ticks('*/5 * * * *', 'UTC', '2026-01-01T00:01:00Z', 3)).toEqual([
      '2026-01-01T00:05:00Z',
      '2026-01-01T00:10:00Z',
      '2026-01-01T00:15:00Z',
    ]);
    expect(ticks('*/5 * * * *', 'UTC', '2026-01-01T00:05:00Z', 1)).toEqual(['2026-01-01T00:10:00Z']);
  });

  it('six fields: seconds first', () => {
    expect(ticks('*/15 * * * * *', 'UTC', '2026-01-01T00:00:01Z', 2)).toEqual([
      '2026-01-01T00:00:15Z',
      '2026-01-01T00:00:30Z',
    ]);
  });

  it('a monthly schedule: further ahead than one Node timer holds', () => {
    expect(ticks('@monthly', 'UTC', '2026-12-02T15:00:00Z', 2)).toEqual([
      '2027-01-01T00:00:00Z',
      '2027-02-01T00:00:00Z',
    ]);
  });

  it('in a time zone, winter and summer', () => {
    expect(ticks('0 3 * * *', 'Europe/Paris', '2026-01-10T00:00:00Z', 1)).toEqual(['2026-01-10T02:00:00Z']); // UTC+1
    expect(ticks('0 3 * * *', 'Europe/Paris', '2026-07-10T00:00:00Z', 1)).toEqual(['2026-07-10T01:00:00Z']); // UTC+2
  });

  it('spring forward: a time that does not exist fires at the end of the gap, once', () => {
    // 2026-03-29 in Paris: 02:00 → 03:00. 02:30 does not exist that day.
    expect(ticks('30 2 * * *', 'Europe/Paris', '2026-03-28T12:00:00Z', 2)).toEqual([
      '2026-03-29T01:00:00Z', // 03:00 CEST
      '2026-03-30T00:30:00Z', // 02:30 CEST
    ]);
  });

  it('fall back: a time that happens twice fires once; a half-hourly pattern keeps real half hours', () => {
    // 2026-10-25 in Paris: 03:00 CEST → 02:00 CET, so 02:30 happens twice.
    expect(ticks('30 2 * * *', 'Europe/Paris', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00Z', // 02:30 CEST
      '2026-10-26T01:30:00Z', // 02:30 CET the next day; not 2026-10-25T01:30Z again
    ]);
    expect(ticks('*/30 * * * *', 'Europe/Paris', '2026-10-24T23:50:00Z', 4)).toEqual([
      '2026-10-25T00:00:00Z',
      '2026-10-25T00:30:00Z',
      '2026-10-25T01:00:00Z',
      '2026-10-25T01:30:00Z',
    ]);
  });

  it('says what is wrong with a bad expression or time zone, and which field it is', () => {
    const error = (f: () => unknown): CronError => {
      try {
        f();
      } catch (err) {
        return err as CronError;
      }
      throw new Error('no error');
    };
    expect(error(() => cronSchedule('* * *'))).toMatchObject({
      field: 'cron',
      message: expect.stringMatching(/^invalid cron expression "\* \* \*": exactly five, six, or seven/),
    });
    expect(error(() => cronSchedule('61 * * * *')).message).toBe(
      'invalid cron expression "61 * * * *": Invalid value for minute: 61',
    );
    expect(error(() => cronSchedule('* * * * *', 'Mars/Base'))).toMatchObject({
      field: 'timezone',
      message: 'unknown time zone "Mars/Base": expected an IANA name like "Europe/Paris"',
    });
    expect(error(() => cronSchedule('0 0 30 2 *', 'UTC', NOW)).message).toBe(
      'the cron expression "0 0 30 2 *" never fires (after 2026-01-01T00:00:00.000Z)',
    );
  });
});
