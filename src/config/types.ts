/**
 * The typed, validated, immutable configuration. Everything here is normalized:
 * durations are milliseconds, `exec` is an argv array, defaults are filled in.
 * Produced by `loadConfig()` (config/load.ts); consumed by the supervisor.
 */

/** Milliseconds. */
export type Duration = number;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'panic';
export type LogFormat = 'default' | 'text' | 'json';

export interface LoggingConfig {
  level: LogLevel;
  format: LogFormat;
  /** 'stdout', 'stderr', or a file path. */
  output: string;
}

export interface ConsulTlsConfig {
  cafile?: string;
  capath?: string;
  clientcert?: string;
  clientkey?: string;
  servername?: string;
  verify?: boolean;
}

/**
 * Consul agent address as written in the file (env-var defaults are applied by discovery).
 * `address`/`scheme` are absent when an object-form `consul` leaves them out, so that
 * discovery can take them from `CONSUL_HTTP_ADDR` / `CONSUL_HTTP_SSL` (else
 * 127.0.0.1:8500 / http), as ContainerPilot's Consul client did. A string-form
 * `consul` always sets both (scheme `http` unless it says `https://`).
 */
export interface ConsulConfig {
  address?: string;
  scheme?: 'http' | 'https';
  token?: string;
  tls?: ConsulTlsConfig;
}

export interface JobLoggingConfig {
  /** Pass output through untouched instead of logging it line by line. */
  raw: boolean;
}

/**
 * What starts a job. ContainerPilot's `when`, normalized:
 * - `startup`: no `when` (start on the global `startup` event);
 * - `event`: `source` + `once`/`each` (signals SIGHUP/SIGUSR2 are always `each`);
 * - `interval`: run periodically (ContainerPilot);
 * - `cron`: run at the times of a cron expression, in `timezone` (else the machine's).
 * The scheduled kinds (`interval`, `cron`) have an `overlap` policy: what a tick that comes
 * while a run is still going does (docs/configuration.md).
 */
export type WhenConfig =
  | { kind: 'startup' }
  | { kind: 'event'; source: string; code: string; mode: 'once' | 'each'; timeout?: Duration }
  | { kind: 'interval'; interval: Duration; overlap: OverlapPolicy }
  | { kind: 'cron'; cron: string; timezone?: string; overlap: OverlapPolicy };

/** `skip` the tick, `queue` one run after the current, or `replace` the current run. */
export type OverlapPolicy = 'skip' | 'queue' | 'replace';

export type ScheduledWhen = Extract<WhenConfig, { kind: 'interval' | 'cron' }>;

/** Runs are ticks of a schedule (`interval` or `cron`): `restarts` counts runs, a run never restarts. */
export function isScheduled(when: WhenConfig): when is ScheduledWhen {
  return when.kind === 'interval' || when.kind === 'cron';
}

/** `health.http`: a GET (or `method`) whose status must be 2xx/3xx, or exactly `expectStatus`. */
export interface HttpCheckConfig {
  url: string;
  method: string;
  expectStatus?: number;
}

/** `health.tcp`: a connection to host:port must succeed. */
export interface TcpCheckConfig {
  host: string;
  port: number;
}

/** When a health check moves the job's health, and what an unhealthy job does (issue 17). */
export interface HealthLiveness {
  /** Consecutive failures that turn the job unhealthy. Default 1. */
  failureThreshold: number;
  /** Consecutive passes that turn it healthy. Default 1. */
  successThreshold: number;
  /** After each start, failures do not count for this long (until it has been healthy). Default 0. */
  startPeriod: Duration;
  /** What a job that turned unhealthy does: nothing (ContainerPilot), restart, or stop. Default none. */
  onUnhealthy: 'none' | 'restart' | 'stop';
}

/** Exactly one of `exec`, `http`, `tcp` is set. */
export interface HealthConfig extends HealthLiveness {
  /** argv of the check command. */
  exec?: string[];
  http?: HttpCheckConfig;
  tcp?: TcpCheckConfig;
  interval: Duration;
  /** TTL for the discovery check. */
  ttl: Duration;
  /** Bound on one check run; defaults to `interval`. */
  timeout: Duration;
  logging: JobLoggingConfig;
}

export interface RestartBackoff {
  initial: Duration;
  max: Duration;
  factor: number;
  resetAfter: Duration;
}

/** What a dependency must reach before its dependent starts (docs/configuration.md). */
export type DependencyCondition = 'healthy' | 'succeeded' | 'started';

export interface DependencyConfig {
  job: string;
  /** Resolved: the default of docs/configuration.md is filled in by the validator. */
  condition: DependencyCondition;
}

/** `user`: a name (resolved through /etc/passwd when the job starts) or numeric ids. */
export type UserSpec = { name: string; group?: string } | { uid: number; gid?: number };

export interface JobConsulExtras {
  enableTagOverride: boolean;
  deregisterCriticalServiceAfter?: string;
}

/** systemd's StartLimitBurst/StartLimitIntervalSec: more restarts than `burst` within `interval` fail the job. */
export interface RestartLimit {
  burst: number;
  interval: Duration;
}

/** Readiness and teardown beyond ContainerPilot's (issue 17). */
export interface JobLiveness {
  restartLimit?: RestartLimit;
  /** Ready only when the process sends READY=1 to $NOTIFY_SOCKET (systemd's sd_notify). */
  notify: boolean;
  /** With `notify`: restarted when no WATCHDOG=1 came for this long. */
  watchdog?: Duration;
  /**
   * With `notify`: a run that sends no READY=1 within this long is stopped and counts as a
   * failed start (systemd's TimeoutStartSec). None by default: it may take as long as it takes.
   */
  notifyTimeout?: Duration;
  /** argv of commands run one at a time after each run of the process has ended. */
  cleanup: string[][];
  /** Bound on each cleanup command. Default 10s. */
  cleanupTimeout: Duration;
}

export interface JobConfig extends JobLiveness {
  /** Unique among the jobs: what status, control, `dependsOn` and the history call it. */
  name: string;
  /**
   * On the second and later jobs of one name (ContainerPilot runs them all,
   * docs/containerpilot.md#duplicate-job-names): the name they share, under which they
   * publish events and register, and which entries of `jobs` they are. `name` is then
   * `<shared>#k` (k = 2, 3, … in file order; `#` is not allowed in names written in a file).
   */
  duplicateOf?: { name: string; index: number; firstIndex: number };
  /** argv; absent for a job that only registers/health-checks. */
  exec?: string[];
  logging: JobLoggingConfig;
  when: WhenConfig;
  /** Bound on one run; interval jobs default to their interval. */
  timeout?: Duration;
  /** Time allowed for pre-stop hooks and for the process to exit after its stop signal. Default 10s. */
  stopTimeout: Duration;
  /** Restarts allowed after the first run; `Infinity` means unlimited. */
  restarts: number;
  restartBackoff: RestartBackoff;
  /** Signal sent first on stop. Default SIGTERM. */
  stopSignal: NodeJS.Signals;
  health?: HealthConfig;
  port?: number;
  initialStatus?: 'passing' | 'warning' | 'critical';
  tags: string[];
  meta: Record<string, string>;
  interfaces: string[];
  consul: JobConsulExtras;
  /** Jobs that must meet a condition before this one starts (with its `when`). */
  dependsOn: DependencyConfig[];
  /** argv of commands run in order once the job is healthy (or started); then it is ready. */
  setup: string[][];
  /** Bound on each setup command. Default 60s. */
  setupTimeout: Duration;
  /** Working directory of the job's processes (exec, health exec, setup). */
  workdir?: string;
  /** Extra environment for the job's processes (the file is templated, so are these). */
  env: Record<string, string>;
  /** User to run the job's processes as (pidpilot must be root). */
  user?: UserSpec;
  /** Env files (dotenv) as written; their variables are already folded into `env` by the loader (config/env-files.ts). */
  envFile?: string[];
  /** Set on each instance of a job with `replicas` (config/replicas.ts): the job's name, and this one's number (1…N). */
  replica?: { of: string; index: number };
}

/** A job with `replicas` (docs/configuration.md): its definition as written, and how many instances run. */
export interface ReplicaGroup {
  /** The definition, named as written (its instances are `name-1` … `name-N`). */
  job: JobConfig;
  replicas: number;
}

export interface WatchConfig {
  name: string;
  interval: Duration;
  tag?: string;
  dc?: string;
}

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface MetricConfig {
  namespace?: string;
  subsystem?: string;
  name: string;
  help: string;
  type: MetricType;
  buckets?: number[];
}

export interface TelemetryConfig {
  port: number;
  interfaces: string[];
  tags: string[];
  metrics: MetricConfig[];
}

/** The supervisor serving the dashboard itself (`pidpilot ui` does it from outside). */
export interface DashboardConfig {
  port: number;
  listen: string;
  allowActions: boolean;
  token?: string;
}

export interface StateConfig {
  dir?: string;
  keepRuns: number;
  maxEventLogBytes: number;
}

export interface Config {
  /** Absolute path of the file this was loaded from (the first layer when there are several). */
  file: string;
  /** With layered configuration (several `-config`): every layer's absolute path, in order. */
  files?: string[];
  consul?: ConsulConfig;
  logging: LoggingConfig;
  jobs: JobConfig[];
  watches: WatchConfig[];
  control: { socket?: string };
  telemetry?: TelemetryConfig;
  /** Absent: no dashboard is served by the supervisor. */
  dashboard?: DashboardConfig;
  /** Global bound on shutdown. Default 5s. */
  stopTimeout: Duration;
  state: StateConfig;
  /** Name of the job whose end ends the supervisor (exit status = that job's). */
  main?: string;
  /** Env files for every job, as written; folded into each job's `env` by the loader. */
  envFile?: string[];
  /** Jobs with `replicas`, by name; `jobs` holds their instances in the job's place. */
  replicated?: Record<string, ReplicaGroup>;
}
