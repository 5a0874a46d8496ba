/**
 * A job definition (docs/configuration.md and the §2.2 extensions implemented so far): its field table and
 * the rules across fields. The structured fields are read in job-fields.ts, `when` in when.ts.
 * Rules follow ContainerPilot's jobs/config.go; where pidpilot is stricter or
 * more lenient the reason is noted at the rule.
 */
import { DEFAULT_INTERFACES } from '../interfaces.js';
import { MAX_REPLICAS } from '../replicas.js';
import { isScheduled, type JobConfig, type WhenConfig } from '../types.js';
import { type At, errorMark, field, readObject } from './core.js';
import {
  DEFAULT_RESTART_BACKOFF,
  health,
  jobConsul,
  jobLogging,
  meta,
  restartBackoff,
  restarts,
  stopSignal,
} from './job-fields.js';
import { type DependencyDraft, dependsOn, env, setup, user } from './lifecycle.js';
import { JOB_LIVENESS_FIELDS, jobLiveness } from './liveness.js';
import { duration, exec, int, interfaces, layerOverride, oneOf, str, strings } from './scalars.js';
import { checkCron, readWhen } from './when.js';

const SECOND = 1000;

export const DEFAULT_JOB_STOP_TIMEOUT = 10 * SECOND;
export const DEFAULT_SETUP_TIMEOUT = 60 * SECOND;
export {
  DEFAULT_RESTART_BACKOFF,
  HEALTH_FIELDS,
  JOB_CONSUL_FIELDS,
  JOB_LOGGING_FIELDS,
  RESTART_BACKOFF_FIELDS,
} from './job-fields.js';
export { WHEN_FIELDS } from './when.js';

/** ContainerPilot's (and Consul's) service-name rule, for jobs that are registered. */
export const SERVICE_NAME = /^[a-z][a-zA-Z0-9-]+$/;
/** Any job name must make a usable `CONTAINERPILOT_{NAME}_PID` (upper-cased, `-` → `_`). */
export const JOB_NAME = /^[A-Za-z0-9_-]+$/;

export function envNameOf(job: string): string {
  return job.toUpperCase().replace(/-/g, '_');
}

/** `initial_status` is read as a string here and checked only for registered jobs (see below). */
const INITIAL_STATUSES = ['passing', 'warning', 'critical'] as const;

export const JOB_FIELDS = {
  name: field(str({ nonEmpty: true }), true),
  exec: field(exec),
  logging: field(jobLogging),
  when: field(readWhen),
  timeout: field(duration({ minMs: 1 })),
  stopTimeout: field(duration()),
  restarts: field(restarts),
  restartBackoff: field(restartBackoff),
  stopSignal: field(stopSignal),
  health: field(health),
  port: field(int({ min: 0, max: 65535, what: 'a port number from 1 to 65535' })),
  initial_status: field(str()),
  tags: field(strings({ single: true })),
  meta: field(meta),
  interfaces: field(interfaces),
  consul: field(jobConsul),
  dependsOn: field(dependsOn),
  setup: field(setup),
  setupTimeout: field(duration({ minMs: 1 })),
  workdir: field(str({ nonEmpty: true })),
  env: field(env),
  user: field(user),
  override: field(layerOverride),
  envFile: field(strings({ single: true, nonEmptyItems: true })),
  replicas: field(int({ min: 1, max: MAX_REPLICAS })),
  ...JOB_LIVENESS_FIELDS,
};

// ---------------------------------------------------------------------------
// The job

export interface JobResult {
  /** The name as written, when it is a string (for cross-job checks even if the job has errors). */
  name?: string;
  config?: JobConfig;
  /** Dependencies as written; `validateConfig` checks them against every job and fills in conditions. */
  dependsOn?: DependencyDraft[];
  /** `replicas` as written; `validateConfig` checks names across jobs and expands the job (config/replicas.ts). */
  replicas?: number;
}

export function readJob(v: unknown, at: At): JobResult {
  const done = errorMark(at);
  const f = readObject(v, at, JOB_FIELDS, 'a job object');
  if (!f) return {};
  const raw = v as Record<string, unknown>;
  const name = f.name;

  const whenResult = f.when;
  const when: WhenConfig = whenResult?.when ?? { kind: 'startup' };
  if (when.kind === 'cron') checkCron(when, at.child('when'), name);

  if (name !== undefined && !JOB_NAME.test(name)) {
    at.child('name').error(
      `job name ${JSON.stringify(name)} may contain only letters, digits, '_' and '-' (it names the environment variable CONTAINERPILOT_{NAME}_PID)`,
      { expected: 'a name matching ^[A-Za-z0-9_-]+$' },
    );
  }

  // A port of 0 meant "not registered" to ContainerPilot; kept for templated configs.
  const port = f.port === 0 ? undefined : f.port;
  if (port !== undefined) {
    if (raw.health === undefined || raw.health === null) {
      at.child('health').error(
        'missing required field `health`: a job with `port` is registered as a service and needs a health check',
        {
          positionOf: at.child('port').path,
        },
      );
    }
    if (name !== undefined && JOB_NAME.test(name) && !SERVICE_NAME.test(name)) {
      at.child('name').error(
        `service name ${JSON.stringify(name)} is not valid: a job with \`port\` is registered in Consul, so its name must start with a lower-case letter and contain only letters, digits and '-'`,
        { expected: 'a name matching ^[a-z][a-zA-Z0-9-]+$' },
      );
    }
  }

  // ContainerPilot checks initial_status only for registered jobs (its tests rely on an
  // invalid value being ignored on a job without `port`), and so does pidpilot.
  let initialStatus: JobConfig['initialStatus'];
  if (port !== undefined && f.initial_status !== undefined) {
    initialStatus = oneOf(INITIAL_STATUSES)(f.initial_status, at.child('initial_status'));
  }

  // A scheduled job's runs are its ticks: by default it runs for ever, like ContainerPilot's interval jobs.
  const restartCount = f.restarts ?? (isScheduled(when) ? Infinity : 0);
  if (restartCount === Infinity && whenResult?.each) {
    at.child('restarts').error(
      '"unlimited" cannot be combined with `when.each`: every event would start another process that restarts forever',
      { expected: '"never" or a number' },
    );
  }

  const liveness = jobLiveness(f, { exec: f.exec !== undefined, ...(f.health ? { health: f.health } : {}) }, at);
  if (f.replicas !== undefined) replicaRules(f.replicas, f.exec !== undefined, port ?? numericPort(f.env), at);

  if (done() || name === undefined || liveness === undefined) return name === undefined ? {} : { name };

  const job: JobConfig = {
    name,
    logging: f.logging ?? { raw: false },
    when,
    stopTimeout: f.stopTimeout ?? DEFAULT_JOB_STOP_TIMEOUT,
    restarts: restartCount,
    restartBackoff: f.restartBackoff ?? { ...DEFAULT_RESTART_BACKOFF },
    stopSignal: f.stopSignal ?? 'SIGTERM',
    tags: f.tags ?? [],
    meta: f.meta ?? {},
    interfaces: f.interfaces ?? [...DEFAULT_INTERFACES],
    consul: f.consul ?? { enableTagOverride: false },
    dependsOn: [],
    setup: f.setup ?? [],
    setupTimeout: f.setupTimeout ?? DEFAULT_SETUP_TIMEOUT,
    env: f.env ?? {},
    ...liveness,
  };
  if (f.workdir !== undefined) job.workdir = f.workdir;
  if (f.user !== undefined) job.user = f.user;
  if (f.envFile !== undefined && f.envFile.length > 0) job.envFile = f.envFile;
  if (f.exec !== undefined) job.exec = f.exec;
  // An interval job's run is bounded by its interval unless told otherwise (ContainerPilot).
  const timeout = f.timeout ?? (when.kind === 'interval' ? when.interval : undefined);
  if (timeout !== undefined) job.timeout = timeout;
  if (f.health !== undefined) job.health = f.health;
  if (port !== undefined) job.port = port;
  if (initialStatus !== undefined) job.initialStatus = initialStatus;
  return {
    name,
    config: job,
    ...(f.dependsOn ? { dependsOn: f.dependsOn } : {}),
    ...(f.replicas !== undefined ? { replicas: f.replicas } : {}),
  };
}

function numericPort(env: Record<string, string> | undefined): number | undefined {
  const port = env?.PORT;
  return port !== undefined && /^[0-9]+$/.test(port) ? Number(port) : undefined;
}

/** What `replicas` needs of the job itself; names across jobs are checked in replicas.ts. */
function replicaRules(replicas: number, hasExec: boolean, port: number | undefined, at: At): void {
  if (!hasExec) {
    // ContainerPilot's registration-only job (no exec) registers one service for a process it does not run.
    at.child('replicas').error(
      '`replicas` needs `exec`: a job without exec only registers a service for a process pidpilot does not run, and has nothing to copy',
      { expected: 'a job with exec, or no replicas' },
    );
  } else if (port !== undefined && port + replicas - 1 > 65535) {
    at.child('replicas').error(
      `replica ${replicas} would use port ${port + replicas - 1}: replica i uses port + i − 1, which must stay ≤ 65535`,
      { expected: `at most ${65536 - port} replicas from port ${port}` },
    );
  }
}
