/**
 * The pino logger's module, for deferred-logger.ts. In the bundle, scripts/bundle.mjs replaces
 * this file with a lazy `require`, so that logger.ts and pino are evaluated only when the
 * supervisor's log is first written, after the first jobs have started (bench/README.md,
 * start-up, fourth round); from src/ (tests) it is imported as usual.
 */
import * as logger from './logger.js';

export function loggerModule(): typeof logger {
  return logger;
}
