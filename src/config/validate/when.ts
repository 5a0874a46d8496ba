/**
 * A job's `when`: what starts it (an event once or each time, an interval, or a cron
 * schedule), the timeout on waiting for that event, and what a schedule's tick does while a
 * run is still going (`overlap`).
 */
import { EVENT_CODES, SIGNAL_SOURCES } from '../../events/event.js';
import { CronError, cronSchedule } from '../cron.js';
import type { OverlapPolicy, WhenConfig } from '../types.js';
import { type At, errorMark, field, isPlainObject, readObject } from './core.js';
import { duration, oneOf, str } from './scalars.js';

/** Event codes a `when` may name: the bus's codes, plus the signal names ContainerPilot also accepted as codes. */
const WHEN_CODES: readonly string[] = [...EVENT_CODES, ...SIGNAL_SOURCES];
const eventCode = oneOf(WHEN_CODES);

export const WHEN_FIELDS = {
  source: field(str({ nonEmpty: true })),
  once: field(eventCode),
  each: field(eventCode),
  interval: field(duration({ minMs: 1 })),
  cron: field(str({ nonEmpty: true })),
  timezone: field(str({ nonEmpty: true })),
  overlap: field(oneOf<OverlapPolicy>(['skip', 'queue', 'replace'])),
  timeout: field(duration()),
};

/**
 * What a tick does while a run is still going, unless `overlap` says: a cron tick is skipped;
 * an interval tick waits for the run to end (ContainerPilot's: its next run waited for the
 * lock of the run going on, and then started at once).
 */
const DEFAULT_OVERLAP = { interval: 'queue', cron: 'skip' } as const;

export interface WhenResult {
  when: WhenConfig;
  /** `each` was written (ContainerPilot's condition for refusing unlimited restarts). */
  each: boolean;
}

export function readWhen(v: unknown, at: At): WhenResult | undefined {
  const raw = isPlainObject(v) ? v : undefined;
  const done = errorMark(at);
  const f = readObject(v, at, WHEN_FIELDS);
  if (!f || !raw) return undefined;
  const given = (k: keyof typeof WHEN_FIELDS): boolean => raw[k] !== undefined && raw[k] !== null;

  const triggers = (['interval', 'cron', 'once', 'each'] as const).filter(given);
  if (triggers.length > 1) {
    at.error(
      `only one of \`interval\`, \`cron\`, \`once\` or \`each\` may be set, got ${triggers.map((t) => `\`${t}\``).join(' and ')}`,
      {
        expected: 'one of interval, cron, once, each',
      },
    );
    return undefined;
  }
  for (const k of ['timezone', 'overlap'] as const) {
    const needs = k === 'timezone' ? ['cron'] : ['interval', 'cron'];
    if (given(k) && !triggers.some((t) => needs.includes(t)))
      at.child(k).error(`\`${k}\` needs ${needs.map((n) => `\`${n}\``).join(' or ')}`, {
        atKey: true,
        expected: needs.join(' or '),
      });
  }
  if (given('cron')) {
    for (const k of ['source', 'timeout'] as const) {
      if (given(k))
        at.child(k).error(`\`${k}\` cannot be combined with \`cron\``, { atKey: true, expected: 'cron alone' });
    }
    if (done() || f.cron === undefined) return undefined;
    // The expression and time zone are checked by checkCron, which knows the job's name.
    const when: WhenConfig = { kind: 'cron', cron: f.cron, overlap: f.overlap ?? DEFAULT_OVERLAP.cron };
    if (f.timezone !== undefined) when.timezone = f.timezone;
    return { when, each: false };
  }
  if (given('interval')) {
    // ContainerPilot's docs: "If the interval field is set it is the only field permitted under when".
    for (const k of ['source', 'timeout'] as const) {
      if (given(k))
        at.child(k).error(`\`${k}\` cannot be combined with \`interval\``, { atKey: true, expected: 'interval alone' });
    }
    if (done() || f.interval === undefined) return undefined;
    return {
      when: { kind: 'interval', interval: f.interval, overlap: f.overlap ?? DEFAULT_OVERLAP.interval },
      each: false,
    };
  }

  if (!given('source')) {
    if (triggers.length === 0) {
      // `when: { intervl: … }` already got "did you mean `interval`?"; do not pile on.
      if (done()) return undefined;
      at.error('expected `interval`, `cron`, or `source` with `once` or `each`', {
        expected: 'interval, cron, or source with once/each',
      });
    } else {
      at.child('source').error(`missing required field \`source\`: \`${triggers[0]}\` needs the source of the event`, {
        positionOf: at.child(triggers[0]).path,
      });
    }
    return undefined;
  }
  if (done() || f.source === undefined) return undefined;
  const source = f.source;
  const isSignal = (SIGNAL_SOURCES as readonly string[]).includes(source);
  const code = f.once ?? f.each;
  if (!isSignal) {
    if (code === undefined) {
      at.error('`source` needs `once` or `each`: the event to wait for', {
        expected: 'once or each',
        positionOf: at.child('source').path,
      });
      return undefined;
    }
    if ((SIGNAL_SOURCES as readonly string[]).includes(code)) {
      at.child(triggers[0]).error(`the event ${code} is only emitted with source ${code}`, {
        expected: 'an event code',
      });
      return undefined;
    }
  }
  // ContainerPilot treats `timeout: 0` as "no timeout"; anything in (0, 1ms) is a mistake.
  let timeout = f.timeout;
  if (timeout !== undefined && timeout > 0 && timeout < 1) {
    at.child('timeout').error('must be 0 (no timeout) or at least 1ms', { expected: 'a duration ≥ 1ms' });
    return undefined;
  }
  if (timeout === 0) timeout = undefined;
  const when: WhenConfig = isSignal
    ? // A signal can arrive any number of times: always `each` (ContainerPilot's rule).
      { kind: 'event', source, code: 'signal', mode: 'each' }
    : { kind: 'event', source, code: code as string, mode: f.once !== undefined ? 'once' : 'each' };
  if (timeout !== undefined && when.kind === 'event') when.timeout = timeout;
  return { when, each: given('each') };
}

/**
 * A cron job's expression and time zone, parsed as the job will parse them: an error names
 * the job and the field (`when.cron` or `when.timezone`). Loads croner: only a configuration
 * with a cron job pays for it.
 */
export function checkCron(when: Extract<WhenConfig, { kind: 'cron' }>, at: At, job: string | undefined): void {
  try {
    cronSchedule(when.cron, when.timezone);
  } catch (err) {
    if (!(err instanceof CronError)) throw err;
    const message = job === undefined ? err.message : `job ${JSON.stringify(job)}: ${err.message}`;
    at.child(err.field).error(message, {
      expected: err.field === 'cron' ? 'a cron expression like "*/5 * * * *"' : 'an IANA time zone',
    });
  }
}
