/**
 * Cron schedules (`when: { cron: "*\/5 * * * *", timezone: "Europe/Paris" }`): when the next
 * tick is. Parsing and the calendar arithmetic are croner's (no dependencies, DST-correct in
 * any IANA time zone); it is required on first use, so a configuration without a cron job
 * never loads it. Five fields (minute hour day month weekday), six (seconds first), or seven
 * (a year last); `@hourly`, `@daily` … nicknames; a time zone, else the local one.
 *
 * Not wired in yet (issue 13): `when.cron`, the overlap policy and replicas wait for the job
 * set of the supervisor split; the job's interval timer will take `msUntilNext` as its delay.
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
  /** The first tick strictly after `after`; null when the expression never matches again (Feb 30). */
  next(after: Date): Date | null;
}

/** Parses `expression` in `timezone`; throws an Error whose message says what is wrong, in one sentence. */
export function cronSchedule(expression: string, timezone?: string): CronSchedule {
  let cron: CronInstance;
  try {
    cron = new (cronClass())(expression, { paused: true, ...(timezone !== undefined ? { timezone } : {}) });
    // An unknown time zone is only found when a date is converted.
    cron.nextRun(new Date());
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (timezone !== undefined && /timezone|time zone/i.test(message))
      throw new Error(`unknown time zone ${JSON.stringify(timezone)}: expected an IANA name like "Europe/Paris"`);
    throw new Error(`invalid cron expression ${JSON.stringify(expression)}: ${message.replace(/^\w+: /, '')}`);
  }
  return {
    expression,
    ...(timezone !== undefined ? { timezone } : {}),
    next: (after) => cron.nextRun(after),
  };
}

/** Milliseconds from `now` to the next tick (at least 1), or null when there is none. */
export function msUntilNext(schedule: CronSchedule, now: number = Date.now()): number | null {
  const next = schedule.next(new Date(now));
  return next === null ? null : Math.max(1, next.getTime() - now);
}
