/**
 * The supervisor's logger: pino, writing into the shared sink in one of three formats.
 *
 * pino always serializes to JSON (its serializers, child bindings and error handling are
 * what we use it for). For `json` that JSON goes to the sink as is. For `default` and
 * `text`, a tiny in-process destination parses each line back and renders it: pino's own
 * messages are rare (at most a few per event), so one `JSON.parse` each costs nothing
 * measurable, and this keeps pino's full feature set with no worker thread (no transport,
 * no pino-pretty). The hot path, job output, never goes through pino (see line-format.ts).
 */
import { pino } from 'pino';
import type { LogFormat, LoggingConfig } from '../config/types.js';
import { logfmtValue, quote, rfc3339 } from './format.js';
import { LEVEL_VALUES } from './levels.js';
import { JobLineWriter } from './line-format.js';
import { createSink, type Sink } from './sink.js';
import type { LineWriter, Logger, LogSink } from './types.js';

/** pino with the extra `panic` level (above `fatal`), as ContainerPilot's levels have it. */
export type SupervisorLogger = Logger<'panic'>;

export { LEVEL_VALUES };

export interface LoggerBundle<S extends LogSink = LogSink> {
  logger: SupervisorLogger;
  sink: S;
  /** Formats job output lines into the same sink; give it to `relayLines()`. */
  lineWriter: LineWriter;
}

/** A pino destination: what pino needs from a stream. */
interface Destination {
  write(line: string): void;
  flushSync(): void;
}

const PANIC_PREFIX = '{"level":"panic"';

/** The time of the record being logged, when it is not now (deferred-logger.ts replays records). */
let loggedAt: number | undefined;

/** Runs `log` with the records it logs stamped `time` (ms since the epoch) instead of now. */
export function logAt(time: number, log: () => void): void {
  loggedAt = time;
  try {
    log();
  } finally {
    loggedAt = undefined;
  }
}

function jsonDestination(sink: LogSink): Destination {
  return {
    write(line) {
      sink.write(line);
      // pino flushes on fatal by itself; do the same for panic.
      if (line.startsWith(PANIC_PREFIX)) sink.flushSync();
    },
    flushSync: () => sink.flushSync(),
  };
}

function renderingDestination(sink: LogSink, render: (rec: Record<string, unknown>) => string): Destination {
  return {
    write(line) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        sink.write(line);
        return;
      }
      sink.write(render(rec));
      if (rec.level === 'panic') sink.flushSync();
    },
    flushSync: () => sink.flushSync(),
  };
}

function stackOf(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && typeof (err as { stack?: unknown }).stack === 'string') {
    return (err as { stack: string }).stack;
  }
  return undefined;
}

function stampOf(rec: Record<string, unknown>): string {
  return typeof rec.time === 'string' ? rec.time : rfc3339(Date.now());
}

/**
 * ContainerPilot's `default` look: `<timestamp>[ <job>][ <pid>] <msg>`. Like its
 * DefaultLogFormatter, the only fields shown are `job` and a numeric `pid`; there is no
 * level. An error's stack (when one is logged with `err`) follows on the next lines.
 */
export function renderDefault(rec: Record<string, unknown>): string {
  let s = stampOf(rec);
  if (rec.job !== undefined && rec.job !== null) s += ' ' + String(rec.job);
  if (typeof rec.pid === 'number') s += ' ' + rec.pid;
  s += ' ' + (rec.msg === undefined ? '' : String(rec.msg));
  const stack = stackOf(rec.err);
  if (stack !== undefined) s += '\n' + stack;
  return s + '\n';
}

function logfmtAny(v: unknown): string {
  if (typeof v === 'string') return logfmtValue(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return logfmtValue(JSON.stringify(v) ?? '');
}

/**
 * logfmt: `time=<timestamp> level=<level> msg="<msg>" <key>=<value>…` in pino's key
 * order. `msg` is always quoted; other values only when needed. An `err` object becomes
 * `err="<message>" stack="<stack>"`.
 */
export function renderText(rec: Record<string, unknown>): string {
  let s = `time=${logfmtValue(stampOf(rec))} level=${logfmtAny(rec.level)} msg=${quote(rec.msg === undefined ? '' : String(rec.msg))}`;
  for (const key of Object.keys(rec)) {
    if (key === 'time' || key === 'level' || key === 'msg') continue;
    const v = rec[key];
    if (key === 'err' && v !== null && typeof v === 'object') {
      const message = (v as { message?: unknown }).message;
      s += ` err=${logfmtValue(typeof message === 'string' ? message : JSON.stringify(v))}`;
      const stack = stackOf(v);
      if (stack !== undefined) s += ` stack=${quote(stack)}`;
      continue;
    }
    s += ` ${key}=${logfmtAny(v)}`;
  }
  return s + '\n';
}

function destinationFor(format: LogFormat, sink: LogSink): Destination {
  switch (format) {
    case 'json':
      return jsonDestination(sink);
    case 'text':
      return renderingDestination(sink, renderText);
    default:
      return renderingDestination(sink, renderDefault);
  }
}

/**
 * Builds the supervisor's logger and the job-output line writer on one sink. Without a
 * `sink`, one is created for `cfg.output` (a file is opened now; a failure throws).
 */
export function createLogger(cfg: LoggingConfig): LoggerBundle<Sink>;
export function createLogger<S extends LogSink>(cfg: LoggingConfig, sink: S): LoggerBundle<S>;
export function createLogger(cfg: LoggingConfig, sink?: LogSink): LoggerBundle {
  const out = sink ?? createSink(cfg.output);
  const format = cfg.format.toLowerCase() as LogFormat;
  const logger = pino<'panic'>(
    {
      level: cfg.level.toLowerCase(),
      customLevels: { panic: LEVEL_VALUES.panic },
      // No pid/hostname on every line: ContainerPilot has neither.
      base: null,
      messageKey: 'msg',
      timestamp: () => `,"time":"${rfc3339(loggedAt ?? Date.now())}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destinationFor(format, out),
  );
  return { logger, sink: out, lineWriter: new JobLineWriter(out, logger, format) };
}
