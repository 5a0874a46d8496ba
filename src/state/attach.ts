/**
 * The history (docs/history.md) attached to a supervisor: every bus event (a job's lifecycle
 * events with the reason of its state) and every run record go to a HistoryStore in the
 * state dir. History is auxiliary: a state dir that cannot be used is reported, and
 * pidpilot runs without it.
 */
import type { BusEvent, EventCode } from '../events/event.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { PartHost } from '../parts.js';
import { resolveStateDir } from './dir.js';
import { HistoryStore } from './store.js';

/** Events recorded with the reason of the job's state (`failed`: `restarts exhausted after exit code 1`). */
const REASONED_EVENTS: ReadonlySet<EventCode> = new Set<EventCode>(['stopping', 'stopped', 'failed', 'timerExpired']);

export function attachHistory(host: PartHost, log: Logger): HistoryStore | null {
  let store: HistoryStore;
  try {
    store = new HistoryStore({
      dir: resolveStateDir(host.config),
      ...host.config.state,
      warn: (m) => log.warn(m),
      info: (m) => log.info(m),
      // Made and locked after the first spawn (cli/run-supervisor.ts calls open()); until then records are queued.
      deferOpen: true,
    });
  } catch (err) {
    log.warn(`history is not recorded: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
  // A cleanup event's reason is its command's end, told just before it is published (in order, per source).
  const cleanupReasons = new Map<string, string[]>();
  host.observers.on('cleanup', (source, reason) => {
    const queued = cleanupReasons.get(source);
    if (queued) queued.push(reason);
    else cleanupReasons.set(source, [reason]);
  });
  const reasonOf = (e: BusEvent): string | undefined => {
    if (e.code === 'cleanupSuccess' || e.code === 'cleanupFailed') {
      const queued = cleanupReasons.get(e.source);
      const reason = queued?.shift();
      if (queued?.length === 0) cleanupReasons.delete(e.source);
      return reason;
    }
    return REASONED_EVENTS.has(e.code) ? host.reasonOf(e.source) : undefined;
  };
  host.bus.observe((e) => store.recordEvent(e, reasonOf(e)));
  host.observers.on('run', (job, record) => store.recordRun(job, record));
  host.attach({
    // The jobs' ends are recorded as they come, while the shutdown waits for the rest.
    shutdown: () => {
      store.writePromptly();
      return { closed: Promise.resolve() };
    },
    close: () => store.close(),
  });
  return store;
}
