/**
 * A job's `when`: what starts it (an event once or each time, or an interval), and the
 * timeout on waiting for that event.
 */
import { EVENT_CODES, SIGNAL_SOURCES } from '../../events/event.js';
import type { WhenConfig } from '../types.js';
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
  timeout: field(duration()),
};

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

  const triggers = (['interval', 'once', 'each'] as const).filter(given);
  if (triggers.length > 1) {
    at.error(
      `only one of \`interval\`, \`once\` or \`each\` may be set, got ${triggers.map((t) => `\`${t}\``).join(' and ')}`,
      {
        expected: 'one of interval, once, each',
      },
    );
    return undefined;
  }
  if (given('interval')) {
    // ContainerPilot's docs: "If the interval field is set it is the only field permitted under when".
    for (const k of ['source', 'timeout'] as const) {
      if (given(k))
        at.child(k).error(`\`${k}\` cannot be combined with \`interval\``, { atKey: true, expected: 'interval alone' });
    }
    if (done() || f.interval === undefined) return undefined;
    return { when: { kind: 'interval', interval: f.interval }, each: false };
  }

  if (!given('source')) {
    if (triggers.length === 0) {
      // `when: { intervl: … }` already got "did you mean `interval`?"; do not pile on.
      if (done()) return undefined;
      at.error('expected `interval`, or `source` with `once` or `each`', {
        expected: 'interval, or source with once/each',
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
