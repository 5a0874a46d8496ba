/**
 * The `default` format's line for the usual call, made without pino. For `default`, pino
 * serialises the record to JSON and logger.ts's renderer parses it back, only to print
 * `<time>[ <job>][ <pid>] <msg>` (renderDefault): ≈ 100k instructions a line while that code
 * is cold, and a shutdown logs one line per job (bench/README.md, shutdown). The usual call is
 * a message, alone or after an object of plain fields; anything else — an error to print with
 * its stack, a field named like one the line shows, a value pino would serialise specially —
 * is left to pino (null), so the line is the one pino's path would print.
 */
import { rfc3339 } from './format.js';

/** Fields the default line shows or pino treats specially: their presence sends the call to pino. */
const SPECIAL = new Set(['err', 'job', 'msg', 'time', 'level']);

/** True for values whose JSON round trip is themselves (or which the default line does not show). */
function isScalar(v: unknown): boolean {
  return v === null || v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/**
 * The line pino + renderDefault would write for `args` (a logger call's arguments) from a
 * logger whose bindings show `job` (undefined for the root), or null when the call is not one
 * this renders exactly.
 */
export function plainDefaultLine(job: string | undefined, args: readonly unknown[]): string | null {
  let msg: unknown;
  let pid: unknown;
  if (args.length === 1) {
    msg = args[0];
  } else if (args.length === 2) {
    const fields = args[0];
    msg = args[1];
    if (typeof fields !== 'object' || fields === null || Object.getPrototypeOf(fields) !== Object.prototype)
      return null;
    for (const key of Object.keys(fields)) {
      if (SPECIAL.has(key) || !isScalar((fields as Record<string, unknown>)[key])) return null;
    }
    pid = (fields as { pid?: unknown }).pid;
  } else {
    return null;
  }
  if (typeof msg !== 'string') return null;
  let line = rfc3339(Date.now());
  if (job !== undefined) line += ` ${job}`;
  // What survives pino's JSON as a number (NaN and the infinities become null there).
  if (typeof pid === 'number' && Number.isFinite(pid)) line += ` ${pid}`;
  return `${line} ${msg}\n`;
}
