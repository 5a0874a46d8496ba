import type { LogLevel } from '../config/types.js';

/** pino level numbers; `panic` (above pino's `fatal`) is ContainerPilot's highest. */
export const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = {
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  panic: 70,
};
