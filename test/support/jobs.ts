/**
 * Helpers for tests that run a Supervisor in-process with real child processes:
 * JobConfig/Config builders with the validator's defaults, a memory log sink, and
 * an event recorder.
 */
import { EventEmitter } from 'node:events';
import type { Config, JobConfig } from '../../src/config/types.js';
import type { BusEvent } from '../../src/events/event.js';
import { createLogger } from '../../src/log/logger.js';
import { relayLines } from '../../src/log/relay.js';
import type { LogSink } from '../../src/log/types.js';
import { Supervisor } from '../../src/supervisor.js';

/** Collects everything written, as a sink would put it on the wire. */
export class MemorySink extends EventEmitter implements LogSink {
  readonly parts: Buffer[] = [];
  flushes = 0;
  write(chunk: Buffer | string): boolean {
    this.parts.push(Buffer.isBuffer(chunk) ? Buffer.from(chunk) : Buffer.from(chunk, 'utf8'));
    return true;
  }
  reopen(): void {}
  flushSync(): void {
    this.flushes++;
  }
  drain(): Promise<boolean> {
    return Promise.resolve(true);
  }
  get text(): string {
    return Buffer.concat(this.parts).toString('utf8');
  }
  get lines(): string[] {
    return this.text.split('\n').slice(0, -1);
  }
}

export function job(name: string, fields: Partial<JobConfig> = {}): JobConfig {
  return {
    name,
    logging: { raw: false },
    when: { kind: 'startup' },
    stopTimeout: 10_000,
    restarts: 0,
    restartBackoff: { initial: 0, max: 10_000, factor: 2, resetAfter: 10_000 },
    stopSignal: 'SIGTERM',
    tags: [],
    meta: {},
    interfaces: ['eth0:inet'],
    consul: { enableTagOverride: false },
    dependsOn: [],
    setup: [],
    setupTimeout: 60_000,
    env: {},
    notify: false,
    cleanup: [],
    cleanupTimeout: 10_000,
    ...fields,
  };
}

export function config(jobs: JobConfig[], fields: Partial<Config> = {}): Config {
  return {
    file: '/test/pidpilot.json5',
    logging: { level: 'debug', format: 'default', output: 'stdout' },
    jobs,
    watches: [],
    control: {},
    stopTimeout: 5000,
    state: { keepRuns: 20, maxEventLogBytes: 10 * 1024 * 1024 },
    ...fields,
  };
}

export interface Harness {
  supervisor: Supervisor;
  events: BusEvent[];
  sink: MemorySink;
  /** `code:source` of every event, in order. */
  trace(): string[];
  /** Resolves when an event matching code/source has been published. */
  waitFor(code: string, source: string): Promise<BusEvent>;
  /** Resolves once the log output matches `pattern` (children's lines included). */
  waitForOutput(pattern: RegExp): Promise<void>;
  /** Runs the supervisor to its end; resolves with the exit status. */
  run(): Promise<number>;
}

export function harness(cfg: Config): Harness {
  const sink = new MemorySink();
  const { logger, lineWriter } = createLogger(cfg.logging, sink);
  const supervisor = new Supervisor(cfg, {
    log: logger,
    relay: (stream, source, name) => relayLines(stream, { job: source, stream: name, writer: lineWriter }),
  });
  const events: BusEvent[] = [];
  const waiters: Array<{ code: string; source: string; resolve: (e: BusEvent) => void }> = [];
  supervisor.bus.observe((e) => {
    events.push(e);
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      if (w.code === e.code && w.source === e.source) {
        waiters.splice(i--, 1);
        w.resolve(e);
      }
    }
  });
  let running: Promise<number> | null = null;
  return {
    supervisor,
    events,
    sink,
    trace: () => events.map((e) => `${e.code}:${e.source}`),
    waitFor: (code, source) => {
      const seen = events.find((e) => e.code === code && e.source === source);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ code, source, resolve }));
    },
    waitForOutput: async (pattern) => {
      while (!pattern.test(sink.text)) await new Promise((r) => setTimeout(r, 10));
    },
    run: () => (running ??= supervisor.run()),
  };
}

/** Index of `code:source` in a trace; fails loudly when absent. */
export function at(trace: string[], entry: string): number {
  const i = trace.indexOf(entry);
  if (i === -1) throw new Error(`${entry} not in trace:\n${trace.join('\n')}`);
  return i;
}

/** The validator's defaults for a health check's liveness fields (thresholds 1, no start period, no action). */
export const HEALTH_DEFAULTS = {
  failureThreshold: 1,
  successThreshold: 1,
  startPeriod: 0,
  onUnhealthy: 'none',
} as const;
