/**
 * The supervisor's logger, made without pino until something is to be written. Loading pino
 * and making its logger (with its serializers, levels and symbols) cost ≈ 5M instructions,
 * which came before the first job (bench/README.md, start-up, fourth round); but before that
 * job starts, the log is held anyway (holding-sink.ts) and nothing is written.
 *
 * So start-up logs into a queue: each call is kept with its arguments and the time it was made
 * (a level the configuration leaves out is dropped at once, as pino would). `materialize()`
 * makes the pino logger (logger.ts) and logs the queue through it in order, each record with
 * its own time; from then on every call goes straight to pino. It happens at the first of:
 * run-supervisor's call just after the first jobs are spawned, a job output line written by
 * the line writer (so that nothing overtakes what was logged before it), the sink resumed,
 * flushed, drained or closed (every exit path), and a `fatal` or `panic` (pino writes those
 * synchronously).
 */
import type { LogFormat, LoggingConfig } from '../config/types.js';
import type { HoldingSink } from './holding-sink.js';
import { LEVEL_VALUES } from './levels.js';
import { JobLineWriter } from './line-format.js';
import { loggerModule } from './load-logger.js';
import type { LoggerBundle, SupervisorLogger } from './logger.js';
import { plainDefaultLine } from './plain-line.js';
import type { LogSink } from './types.js';

type Level = keyof typeof LEVEL_VALUES;
const LEVELS = Object.keys(LEVEL_VALUES) as Level[];
/** Written at once, not queued: pino flushes these synchronously. */
const IMMEDIATE: ReadonlySet<Level> = new Set<Level>(['fatal', 'panic']);

interface Queued {
  logger: Deferred;
  level: Level;
  args: unknown[];
  time: number;
}

interface Root {
  readonly threshold: number;
  readonly queue: Queued[] | null;
  /** For the `default` format: writes a line made by plainDefaultLine (null for the other formats). */
  readonly plain: ((line: string) => void) | null;
  materialize(): SupervisorLogger;
  /** Holds the sink (until its next resume): see `log`. */
  hold(): void;
}

/** A logger (or a child of one) that queues until its root is materialized. */
class Deferred {
  private real: SupervisorLogger | null = null;
  /** The job its lines name, and whether its bindings are only that (so plainDefaultLine can write them). */
  private readonly job: string | undefined;
  private readonly plainBindings: boolean;

  constructor(
    private readonly root: Root,
    private readonly parent: Deferred | null,
    private readonly bindings: Record<string, unknown>,
  ) {
    const keys = Object.keys(bindings);
    const own = keys.length === 1 && keys[0] === 'job' && typeof bindings.job === 'string';
    this.job = own ? (bindings.job as string) : parent?.job;
    this.plainBindings = (keys.length === 0 || own) && (parent === null || parent.plainBindings);
  }

  /** The pino logger this one stands for (its root made first, when it is not yet). */
  resolve(): SupervisorLogger {
    if (this.real === null) {
      this.real = this.parent === null ? this.root.materialize() : this.parent.resolve().child(this.bindings);
    }
    return this.real;
  }

  isLevelEnabled(level: string): boolean {
    const value = LEVEL_VALUES[level as Level];
    return value !== undefined && value >= this.root.threshold;
  }

  get level(): string {
    return LEVELS.find((l) => LEVEL_VALUES[l] === this.root.threshold) ?? 'info';
  }

  /** Always one of these, made or not: its pino child is made on its first record that needs pino. */
  child(bindings: Record<string, unknown>): SupervisorLogger {
    return new Deferred(this.root, this, bindings) as unknown as SupervisorLogger;
  }

  log(level: Level, args: unknown[]): void {
    // A level the configuration leaves out is dropped before anything is made for it: a job's
    // pino child (≈ 10k instructions) is made on its first record, and most jobs only ever
    // log at debug.
    if (!this.isLevelEnabled(level)) return;
    const queue = this.root.queue;
    if (queue !== null) {
      if (!IMMEDIATE.has(level)) {
        queue.push({ logger: this, level, args, time: Date.now() });
        return;
      }
      // The queue and this record go into the held sink, and out in one write when pino
      // flushes it for this level: a queued line written on its own could still be in flight
      // (asynchronous) while the flush writes this one, and land after it.
      this.root.hold();
    } else if (this.root.plain !== null && this.plainBindings && !IMMEDIATE.has(level)) {
      const line = plainDefaultLine(this.job, args);
      if (line !== null) return this.root.plain(line);
    }
    (this.resolve()[level] as (...a: unknown[]) => void)(...args);
  }
}

for (const level of LEVELS) {
  Object.defineProperty(Deferred.prototype, level, {
    value(this: Deferred, ...args: unknown[]): void {
      this.log(level, args);
    },
  });
}

export interface DeferredLoggerBundle extends LoggerBundle<HoldingSink> {
  /** Makes the pino logger now and writes what was queued (idempotent). */
  materialize(): void;
}

/**
 * createLogger (logger.ts) with pino made on first need (see above). `sink` is the supervisor's
 * holding sink: its `beforeRelease` is taken for this.
 */
export function createDeferredLogger(cfg: LoggingConfig, sink: HoldingSink): DeferredLoggerBundle {
  let real: SupervisorLogger | null = null;
  let queue: Queued[] | null = [];
  const root: Root = {
    threshold: LEVEL_VALUES[cfg.level.toLowerCase() as Level] ?? LEVEL_VALUES.info,
    get queue() {
      return queue;
    },
    materialize(): SupervisorLogger {
      if (real !== null) return real;
      const { createLogger, logAt } = loggerModule();
      real = createLogger(cfg, sink).logger;
      const queued = queue ?? [];
      queue = null;
      for (const q of queued)
        logAt(q.time, () => (q.logger.resolve()[q.level] as (...a: unknown[]) => void)(...q.args));
      return real;
    },
    hold: () => sink.hold(),
    // pino's own path for `default` writes the rendered line into the same sink (logger.ts).
    plain: cfg.format.toLowerCase() === 'default' ? (line) => void sink.write(line) : null,
  };
  const logger = new Deferred(root, null, {});
  const materialize = (): void => void logger.resolve();
  sink.beforeRelease = materialize;
  // Job output goes straight to the sink: what was logged before a line is written first.
  const ordered: LogSink = {
    write: (chunk) => {
      if (queue !== null) materialize();
      return sink.write(chunk);
    },
    once: (event, listener) => sink.once(event, listener),
    reopen: () => sink.reopen(),
    flushSync: () => sink.flushSync(),
    drain: (timeoutMs) => sink.drain(timeoutMs),
  };
  const format = cfg.format.toLowerCase() as LogFormat;
  return {
    logger: logger as unknown as SupervisorLogger,
    sink,
    lineWriter: new JobLineWriter(ordered, logger, format),
    materialize,
  };
}
