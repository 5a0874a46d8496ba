/**
 * Cron schedules (`when: { cron: "*\/5 * * * *", timezone: "Europe/Paris" }`): when the next
 * tick is. Parsing and the calendar arithmetic are croner's (no dependencies; daylight-saving
 * aware in any IANA time zone); it is required on first use (src/vendored.ts), so a
 * configuration without a cron job never loads it. Five fields (minute hour day month
 * weekday), six (seconds first) or seven (a year last); `@hourly`, `@daily`, … nicknames; a
 * time zone, else the machine's.
 *
 * Daylight saving (croner's rules, docs/configuration.md): a time the spring change skips
 * (02:30 in Paris on the last Sunday of March) fires at the first instant after the gap
 * (03:00); a time the autumn change repeats fires once, at its first occurrence; a pattern
 * that names every hour or minute (`*\/30 * * * *`) keeps firing through both at real times.
 * The wait itself is the job's long timer (jobs/job-timers.ts), which handles a wall clock that moves.
 */
import { requireVendored } from '../vendored.js';

interface CronInstance {
  nextRun(prev?: Date): Date | null;
}
type CronClass = new (pattern: string, options: { paused: boolean; timezone?: string }) => CronInstance;

let Cron: CronClass | undefined;

function cronClass(): CronClass {
  Cron ??= requireVendored<{ Cron: CronClass }>('croner').Cron;
  return Cron;
}

export interface CronSchedule {
  readonly expression: string;
  readonly timezone?: string;
  /** The first tick strictly after `after` (epoch ms); null when the expression never matches again. */
  next(after: number): number | null;
}

/** What is wrong with a cron expression or time zone, and which of the two it is. */
export class CronError extends Error {
  constructor(
    readonly field: 'cron' | 'timezone',
    message: string,
  ) {
    super(message);
  }
}

/** Parses `expression` in `timezone`; throws a CronError saying what is wrong, in one sentence. */
export function cronSchedule(expression: string, timezone?: string, now: number = Date.now()): CronSchedule {
  let cron: CronInstance;
  let first: Date | null;
  try {
    cron = new (cronClass())(expression, { paused: true, ...(timezone !== undefined ? { timezone } : {}) });
    // An unknown time zone is only found when a date is converted.
    first = cron.nextRun(new Date(now));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (timezone !== undefined && /time ?zone/i.test(message))
      throw new CronError(
        'timezone',
        `unknown time zone ${JSON.stringify(timezone)}: expected an IANA name like "Europe/Paris"`,
      );
    const why = message.replace(/^\w+: /, '').replace(/^invalid configuration format \([^)]*\), /, '');
    throw new CronError('cron', `invalid cron expression ${JSON.stringify(expression)}: ${why}`);
  }
  if (first === null)
    throw new CronError(
      'cron',
      `the cron expression ${JSON.stringify(expression)} never fires (after ${new Date(now).toISOString()})`,
    );
  return {
    expression,
    ...(timezone !== undefined ? { timezone } : {}),
    next: (after) => cron.nextRun(new Date(after))?.getTime() ?? null,
  };
}

/** `2026-12-02T15:00:00Z`: a tick time as reasons show it (whole seconds, UTC). */
export function tickTime(at: number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
