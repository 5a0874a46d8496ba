/**
 * log/ owns everything that writes log output:
 * - the sink (sink.ts): the one destination shared by pino and job output — stdout,
 *   stderr or a file (reopened on SIGUSR1 for logrotate) — with a bounded queue,
 *   back-pressure ('drain') and write errors that never crash the supervisor;
 * - the supervisor's logger (logger.ts): pino with ContainerPilot's levels (DEBUG … PANIC)
 *   and the three formats `default`, `text`, `json`, on that sink, without worker threads;
 * - job output (lines.ts, relay.ts): a child's stdout/stderr turned into INFO log lines
 *   tagged with job and stream — any line length, binary data, back-pressure — fast.
 * It does not own when SIGUSR1 is handled or which streams are relayed (the supervisor
 * and process runner decide; `logging.raw` output never comes here).
 */
export type { LineFormatter, LineWriter, LogSink, Logger, OutputStream } from './types.js';
export { createSink, Sink, type SinkOptions } from './sink.js';
export {
  createLogger,
  LEVEL_VALUES,
  renderDefault,
  renderText,
  type LoggerBundle,
  type SupervisorLogger,
} from './logger.js';
export { relayLines, MAX_LINE_BYTES, type RelayOptions } from './relay.js';
export { rfc3339 } from './format.js';
