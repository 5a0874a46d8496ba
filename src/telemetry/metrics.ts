/**
 * The Prometheus metrics of docs/telemetry.md, through prom-client: the user's metrics from
 * `telemetry.metrics` (fed by `/v3/metric` and `-putmetric`), pidpilot's internal ones,
 * and Node's process metrics. prom-client is loaded only here, and this module only
 * when telemetry is configured: a supervisor without telemetry never pays for it.
 */
import type { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import type { MetricConfig, MetricType, TelemetryConfig } from '../config/types.js';
import { metricFullName } from '../config/validate/sections.js';
import type { MetricRecorder } from '../control/target.js';
import type { BusEvent } from '../events/event.js';
import type { CheckEnd } from '../events/observers.js';
import type { JobSnapshot } from '../jobs/state.js';
import type { RunRecord } from '../process/types.js';

type UserMetric = Counter | Gauge | Histogram | Summary;

/** What the metrics read from and are fed by. */
export interface MetricsSource {
  /** Current job snapshots, read at scrape time. */
  jobs(): readonly JobSnapshot[];
  /** History records dropped so far because they could not be written (a full disk). */
  historyDropped?(): number;
}

/** ContainerPilot's matching name: all three parts joined, empty ones kept (`__x`). */
function legacyName(m: Pick<MetricConfig, 'namespace' | 'subsystem' | 'name'>): string {
  return `${m.namespace ?? ''}_${m.subsystem ?? ''}_${m.name}`;
}

/**
 * How much a job's count grew since the last scrape (and remembers it). A job rebuilt by
 * reload or restart counts from 0 again: everything it has then is new.
 */
function increase(last: Map<string, number>, key: string, now: number): number {
  const before = last.get(key) ?? 0;
  last.set(key, now);
  return now >= before ? now - before : now;
}

export class Metrics implements MetricRecorder {
  readonly registry: Registry;
  private readonly user = new Map<string, { type: MetricConfig['type']; metric: UserMetric }>();
  /** Accepted keys (exposed and legacy names) → exposed name. */
  private readonly aliases = new Map<string, string>();
  private readonly events: Counter<'code' | 'source'>;
  private readonly controlRequests: Counter<'code' | 'path'>;
  private readonly runDuration: Histogram<'job' | 'outcome'>;
  private readonly checkDuration: Histogram<'job' | 'outcome'>;

  /** Use `loadMetrics()`, which imports prom-client. */
  constructor(prom: typeof import('prom-client'), config: TelemetryConfig, source: MetricsSource) {
    const registry = new prom.Registry();
    this.registry = registry;
    prom.collectDefaultMetrics({ register: registry });
    for (const m of config.metrics) {
      const name = metricFullName(m);
      const opts = { name, help: m.help, registers: [registry] };
      const metric: UserMetric =
        m.type === 'counter'
          ? new prom.Counter(opts)
          : m.type === 'gauge'
            ? new prom.Gauge(opts)
            : m.type === 'histogram'
              ? new prom.Histogram({ ...opts, ...(m.buckets ? { buckets: m.buckets } : {}) })
              : new prom.Summary(opts);
      this.user.set(name, { type: m.type, metric });
      this.aliases.set(name, name);
      this.aliases.set(legacyName(m), name);
    }

    this.events = new prom.Counter({
      name: 'containerpilot_events',
      help: 'count of events published, partitioned by code and source',
      labelNames: ['code', 'source'],
      registers: [registry],
    });
    this.controlRequests = new prom.Counter({
      name: 'containerpilot_control_http_requests',
      help: 'count of requests to the control socket, partitioned by path and HTTP code',
      labelNames: ['code', 'path'],
      registers: [registry],
    });
    this.runDuration = new prom.Histogram({
      name: 'pidpilot_job_run_duration_seconds',
      help: 'duration of finished job runs, partitioned by job and outcome',
      labelNames: ['job', 'outcome'],
      buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
      registers: [registry],
    });
    this.checkDuration = new prom.Histogram({
      name: 'pidpilot_health_check_duration_seconds',
      help: 'latency of finished health checks (exec, http, tcp), partitioned by job and outcome',
      labelNames: ['job', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [registry],
    });
    const lastRestarts = new Map<string, number>();
    new prom.Counter({
      name: 'pidpilot_job_restarts_total',
      help: 'restarts performed by the restart policy, per job',
      labelNames: ['job'],
      registers: [registry],
      collect() {
        for (const job of source.jobs()) {
          this.inc({ job: job.name }, increase(lastRestarts, job.name, job.restarts));
        }
      },
    });
    const lastTicks = new Map<string, number>();
    new prom.Counter({
      name: 'pidpilot_job_ticks_total',
      help: 'ticks of a scheduled job (interval, cron) that came while a run was going, by what became of them: skipped, queued, replaced',
      labelNames: ['job', 'outcome'],
      registers: [registry],
      collect() {
        for (const job of source.jobs()) {
          if (!job.ticks) continue;
          for (const outcome of ['skipped', 'queued', 'replaced'] as const)
            this.inc({ job: job.name, outcome }, increase(lastTicks, `${job.name}\0${outcome}`, job.ticks[outcome]));
        }
      },
    });
    let lastDropped = 0;
    new prom.Counter({
      name: 'pidpilot_history_dropped_records_total',
      help: 'history records (events, run records, output lines) dropped because the state dir could not be written',
      registers: [registry],
      collect() {
        const now = source.historyDropped?.() ?? 0;
        this.inc(Math.max(0, now - lastDropped));
        lastDropped = now;
      },
    });
    new prom.Gauge({
      name: 'pidpilot_job_state',
      help: '1 for the state each job is in',
      labelNames: ['job', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const job of source.jobs()) this.set({ job: job.name, state: job.state }, 1);
      },
    });
    new prom.Gauge({
      name: 'pidpilot_job_ready',
      help: '1 when the job is ready (healthy or started, setup done)',
      labelNames: ['job'],
      registers: [registry],
      collect() {
        this.reset();
        for (const job of source.jobs()) this.set({ job: job.name }, job.ready ? 1 : 0);
      },
    });
  }

  resolve(key: string): { name: string; type: MetricType } | undefined {
    const name = this.aliases.get(key);
    const entry = name === undefined ? undefined : this.user.get(name);
    return entry && name !== undefined ? { name, type: entry.type } : undefined;
  }

  record(name: string, value: number): void {
    const entry = this.user.get(name);
    if (!entry) return;
    switch (entry.type) {
      case 'counter':
        // A counter cannot go down (validated before; prom-client would throw).
        if (value >= 0) (entry.metric as Counter).inc(value);
        return;
      case 'gauge':
        (entry.metric as Gauge).set(value);
        return;
      case 'histogram':
        (entry.metric as Histogram).observe(value);
        return;
      case 'summary':
        (entry.metric as Summary).observe(value);
        return;
    }
  }

  /** A bus observer: must be fast and must not throw. */
  onEvent(event: BusEvent): void {
    this.events.inc({ code: event.code, source: event.source });
  }

  onRun(job: string, record: RunRecord): void {
    this.runDuration.observe({ job, outcome: record.outcome }, record.durationMs / 1000);
  }

  onCheck(job: string, check: CheckEnd): void {
    this.checkDuration.observe({ job, outcome: check.outcome }, check.durationMs / 1000);
  }

  onControlRequest(path: string, status: number): void {
    this.controlRequests.inc({ path, code: String(status) });
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Imports prom-client (only now) and builds the metrics. */
export async function loadMetrics(config: TelemetryConfig, source: MetricsSource): Promise<Metrics> {
  const prom = await import('prom-client');
  return new Metrics(prom, config, source);
}
