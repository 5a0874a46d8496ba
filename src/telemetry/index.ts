/**
 * Telemetry for a running supervisor (docs/telemetry.md): loads prom-client, counts the bus's
 * events (including those published before it was loaded), serves `/metrics` and
 * `/status`, and registers the endpoint in discovery when a registry is given.
 */
import type { TelemetryConfig } from '../config/types.js';
import type { MetricRecorder, StatusSnapshot } from '../control/target.js';
import type { ServiceRegistry } from '../discovery/types.js';
import type { Bus } from '../events/bus.js';
import type { BusEvent } from '../events/event.js';
import type { CheckEnd, Observers } from '../events/observers.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { RunRecord } from '../process/types.js';
import { VERSION } from '../version.js';
import { loadMetrics, type Metrics } from './metrics.js';
import { TelemetryServer } from './server.js';
import { registerTelemetryService, type TelemetryService } from './service.js';

/** Events and runs before prom-client is loaded are kept (this many at most) and counted once it is. */
const EARLY_EVENTS_MAX = 10_000;

export interface Telemetry {
  readonly metrics: Metrics;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts counting events at once (cheap) and returns a function that loads the rest;
 * so `startup` is counted even though prom-client loads after the first job started.
 */
/** What telemetry reads from the supervisor it is attached to. */
export interface TelemetrySource {
  readonly bus: Pick<Bus, 'observe'>;
  readonly observers: Observers;
  status(): StatusSnapshot;
  readonly history: { readonly droppedRecords?: number } | null;
  /** Set once the metrics are loaded: `/v3/metric` and `-putmetric` record into them. */
  metrics: MetricRecorder | null;
}

export function beginTelemetry(
  supervisor: TelemetrySource,
): (config: TelemetryConfig, opts: TelemetryOptions) => Promise<Telemetry> {
  let early: BusEvent[] | null = [];
  let earlyRuns: Array<[string, RunRecord]> | null = [];
  let earlyChecks: Array<[string, CheckEnd]> | null = [];
  let metrics: Metrics | null = null;
  supervisor.bus.observe((event) => {
    if (metrics) metrics.onEvent(event);
    else if (early && early.length < EARLY_EVENTS_MAX) early.push(event);
  });
  supervisor.observers.on('run', (job, record) => {
    if (metrics) metrics.onRun(job, record);
    else if (earlyRuns && earlyRuns.length < EARLY_EVENTS_MAX) earlyRuns.push([job, record]);
  });
  supervisor.observers.on('check', (job, check) => {
    if (metrics) metrics.onCheck(job, check);
    else if (earlyChecks && earlyChecks.length < EARLY_EVENTS_MAX) earlyChecks.push([job, check]);
  });
  return async (config, opts) => {
    const loaded = await loadMetrics(config, {
      jobs: () => supervisor.status().jobs,
      historyDropped: () => supervisor.history?.droppedRecords ?? 0,
    });
    for (const event of early ?? []) loaded.onEvent(event);
    for (const [job, record] of earlyRuns ?? []) loaded.onRun(job, record);
    for (const [job, check] of earlyChecks ?? []) loaded.onCheck(job, check);
    early = earlyRuns = earlyChecks = null;
    metrics = loaded;
    supervisor.metrics = loaded;
    const server = new TelemetryServer(loaded, () => supervisor.status(), opts.log);
    const port = await server.listen(config.port, opts.host);
    let service: TelemetryService | null = null;
    if (opts.registry && opts.address) {
      service = registerTelemetryService(opts.registry, {
        address: opts.address,
        port,
        tags: config.tags,
        version: VERSION,
      });
    }
    return {
      metrics: loaded,
      port,
      async close() {
        service?.stop();
        await server.close();
      },
    };
  };
}

export interface TelemetryOptions {
  log: Logger;
  /** Interface to listen on; all of them by default. */
  host?: string;
  /** Discovery, and the address to advertise there (resolved from `telemetry.interfaces`). */
  registry?: ServiceRegistry | null;
  address?: string;
}
