/** Cron schedules (src/jobs/schedule.ts): the next tick, seconds, time zones, and errors. */
import { describe, expect, it } from 'vitest';
import { cronSchedule, msUntilNext } from '../../../src/jobs/schedule.js';

const at = (iso: string) => new Date(iso);

describe('cron schedule', () => {
  it('five fields: the next matching minute, strictly after the given time', () => {
    const s = cronSchedule('*/5 * * * *', 'UTC');
    expect(s.next(at('2026-01-01T00:01:00Z'))).toEqual(at('2026-01-01T00:05:00Z'));
    expect(s.next(at('2026-01-01T00:05:00Z'))).toEqual(at('2026-01-01T00:10:00Z'));
    expect(msUntilNext(s, at('2026-01-01T00:04:59.500Z').getTime())).toBe(500);
  });

  it('six fields: seconds first', () => {
    const s = cronSchedule('*/15 * * * * *', 'UTC');
    expect(s.next(at('2026-01-01T00:00:01Z'))).toEqual(at('2026-01-01T00:00:15Z'));
  });

  it('in a time zone, across a daylight-saving change', () => {
    // 02:30 every day in Paris: on 2026-03-29 02:30 does not exist (clocks jump 02:00 → 03:00).
    const s = cronSchedule('30 9 * * *', 'Europe/Paris');
    expect(s.next(at('2026-01-10T00:00:00Z'))).toEqual(at('2026-01-10T08:30:00Z')); // UTC+1
    expect(s.next(at('2026-07-10T00:00:00Z'))).toEqual(at('2026-07-10T07:30:00Z')); // UTC+2
    expect(cronSchedule('@hourly', 'UTC').next(at('2026-01-01T00:01:00Z'))).toEqual(at('2026-01-01T01:00:00Z'));
  });

  it('an expression that never matches again has no next tick', () => {
    const s = cronSchedule('0 0 30 2 *', 'UTC');
    expect(s.next(at('2026-01-01T00:00:00Z'))).toBeNull();
    expect(msUntilNext(s)).toBeNull();
  });

  it('says what is wrong with a bad expression or time zone', () => {
    expect(() => cronSchedule('* * *')).toThrow(/invalid cron expression "\* \* \*": .*five, six, or seven/);
    expect(() => cronSchedule('61 * * * *')).toThrow(/invalid cron expression "61 \* \* \* \*"/);
    expect(() => cronSchedule('* * * * *', 'Mars/Base')).toThrow(
      /unknown time zone "Mars\/Base": expected an IANA name/,
    );
  });
});
