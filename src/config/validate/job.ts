/**
 * A job definition (SPEC §2.1 and the §2.2 extensions implemented so far).
 * Rules follow ContainerPilot's jobs/config.go; where pidpilot is stricter or
 * more lenient the reason is noted at the rule.
 */
import { constants as osConstants } from 'node:os';
import { EVENT_CODES, SIGNAL_SOURCES } from '../../events/event.js';
import { nearest } from '../errors.js';
import { DEFAULT_INTERFACES } from '../interfaces.js';
import type {
  HealthConfig,
  JobConfig,
  JobConsulExtras,
  JobLoggingConfig,
  RestartBackoff,
  WhenConfig,
} from '../types.js';
import { type At, type Reader, errorMark, field, isPlainObject, readObject } from './core.js';
import { type DependencyDraft, dependsOn, env, httpCheck, setup, tcpCheck, user } from './lifecycle.js';
import { bool, duration, exec, goDurationString, int, interfaces, layerOverride, oneOf, str, strings } from './scalars.js';

const SECOND = 1000;

export const DEFAULT_JOB_STOP_TIMEOUT = 10 * SECOND;
export const DEFAULT_SETUP_TIMEOUT = 60 * SECOND;
export const DEFAULT_RESTART_BACKOFF: Readonly<RestartBackoff> = {
  initial: 0,
  max: 10 * SECOND,
  factor: 2,
  resetAfter: 10 * SECOND,
};

/** ContainerPilot's (and Consul's) service-name rule, for jobs that are registered. */
export const SERVICE_NAME = /^[a-z][a-zA-Z0-9-]+$/;
/** Any job name must make a usable `CONTAINERPILOT_{NAME}_PID` (upper-cased, `-` → `_`). */
export const JOB_NAME = /^[A-Za-z0-9_-]+$/;

export function envNameOf(job: string): string {
  return job.toUpperCase().replace(/-/g, '_');
}

// ---------------------------------------------------------------------------
// Field readers

export const JOB_LOGGING_FIELDS = {
  raw: field(bool),
};

const jobLogging: Reader<JobLoggingConfig> = (v, at) => {
  const f = readObject(v, at, JOB_LOGGING_FIELDS);
  return f && { raw: f.raw ?? false };
};

/** Event codes a `when` may name: the bus's codes, plus the signal names ContainerPilot also accepted as codes. */
const WHEN_CODES: readonly string[] = [...EVENT_CODES, ...SIGNAL_SOURCES];
const eventCode = oneOf(WHEN_CODES);

export const WHEN_FIELDS = {
  source: field(str({ nonEmpty: true })),
  once: field(eventCode),
  each: field(eventCode),
  interval: field(duration({ minMs: 1 })),
  timeout: field(duration()),
};

export const HEALTH_FIELDS = {
  exec: field(exec),
  http: field(httpCheck),
  tcp: field(tcpCheck),
  interval: field(duration({ minMs: 1 }), true),
  ttl: field(duration({ minMs: 1 }), true),
  timeout: field(duration({ minMs: 1 })),
  logging: field(jobLogging),
};

/** The ways to check health; exactly one is given. */
const CHECK_KINDS = ['exec', 'http', 'tcp'] as const;

const health: Reader<HealthConfig> = (v, at) => {
  const f = readObject(v, at, HEALTH_FIELDS);
  if (!f) return undefined;
  const raw = v as Record<string, unknown>;
  const given = CHECK_KINDS.filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (given.length === 0) {
    at.child('exec').error('missing required field `exec`: a health check needs one of `exec`, `http` or `tcp`', {
      expected: 'one of exec, http, tcp',
    });
    return undefined;
  }
  if (given.length > 1) {
    at.child(given[1]!).error(`only one of \`exec\`, \`http\` or \`tcp\` may be set, got ${given.map((k) => `\`${k}\``).join(' and ')}`, {
      atKey: true,
      expected: 'one of exec, http, tcp',
    });
    return undefined;
  }
  const check = f.exec !== undefined ? { exec: f.exec } : f.http !== undefined ? { http: f.http } : f.tcp !== undefined ? { tcp: f.tcp } : undefined;
  if (check === undefined || f.interval === undefined || f.ttl === undefined) return undefined;
  return {
    ...check,
    interval: f.interval,
    ttl: f.ttl,
    // ContainerPilot bounds a check by its interval unless told otherwise.
    timeout: f.timeout ?? f.interval,
    logging: f.logging ?? { raw: false },
  };
};

export const JOB_CONSUL_FIELDS = {
  enableTagOverride: field(bool),
  deregisterCriticalServiceAfter: field(goDurationString),
};

const jobConsul: Reader<JobConsulExtras> = (v, at) => {
  const f = readObject(v, at, JOB_CONSUL_FIELDS);
  if (!f) return undefined;
  const out: JobConsulExtras = { enableTagOverride: f.enableTagOverride ?? false };
  if (f.deregisterCriticalServiceAfter !== undefined) out.deregisterCriticalServiceAfter = f.deregisterCriticalServiceAfter;
  return out;
};

export const RESTART_BACKOFF_FIELDS = {
  initial: field(duration()),
  max: field(duration()),
  factor: field<number>((v, at) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 1) {
      at.expected('a number ≥ 1', v);
      return undefined;
    }
    return v;
  }),
  resetAfter: field(duration()),
};

const restartBackoff: Reader<RestartBackoff> = (v, at) => {
  const f = readObject(v, at, RESTART_BACKOFF_FIELDS);
  if (!f) return undefined;
  const b: RestartBackoff = { ...DEFAULT_RESTART_BACKOFF, ...f };
  if (b.initial > b.max) {
    at.child(f.initial !== undefined ? 'initial' : 'max').error(
      `\`initial\` (${b.initial}ms) must not be greater than \`max\` (${b.max}ms)`,
      { expected: 'initial ≤ max' },
    );
    return undefined;
  }
  return b;
};

const RESTARTS_EXPECTED = '"unlimited", "never", or a non-negative integer';

/** `restarts`: "unlimited" → Infinity, "never" → 0, or a count (number or numeric string). */
const restarts: Reader<number> = (v, at) => {
  if (v === 'unlimited') return Infinity;
  if (v === 'never') return 0;
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\+?[0-9]+$/.test(v)) n = Number(v);
  // ContainerPilot truncated 1.5 to 1; a fractional restart count is a mistake, so it is refused.
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) {
    const suggestion = typeof v === 'string' ? nearest(v, ['unlimited', 'never']) : undefined;
    at.error(
      `expected ${RESTARTS_EXPECTED}, got ${typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? 'an array' : String(v)}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      { expected: RESTARTS_EXPECTED, ...(suggestion ? { suggestion } : {}) },
    );
    return undefined;
  }
  return n;
};

/** Every signal name this platform knows (`SIGTERM`, `SIGQUIT`, …). */
const SIGNALS: readonly string[] = Object.keys(osConstants.signals);

/**
 * `stopSignal`: a signal name with or without `SIG`, any case. SIGKILL is allowed
 * (no grace wanted); SIGSTOP is refused: it cannot be handled and would only
 * suspend the process, so every stop would end in SIGKILL after the timeout.
 */
const stopSignal: Reader<NodeJS.Signals> = (v, at) => {
  const expected = 'a signal name like "SIGTERM", "SIGQUIT" or "SIGINT"';
  if (typeof v !== 'string') {
    at.expected(expected, v);
    return undefined;
  }
  const upper = v.trim().toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (name === 'SIGSTOP') {
    at.error('SIGSTOP cannot be used to stop a job: it cannot be caught and only suspends the process', {
      expected,
    });
    return undefined;
  }
  if (!SIGNALS.includes(name)) {
    // Compare without the common `SIG` prefix, or every short typo looks close to some signal.
    const near = nearest(name.slice(3), SIGNALS.map((s) => s.slice(3)));
    const suggestion = near === undefined ? undefined : `SIG${near}`;
    at.error(`expected ${expected}, got ${JSON.stringify(v)}${suggestion ? `; did you mean "${suggestion}"?` : ''}`, {
      expected,
      ...(suggestion ? { suggestion } : {}),
    });
    return undefined;
  }
  return name as NodeJS.Signals;
};

/** `meta`: Consul service metadata, whose rules (documented by Consul) are checked here rather than at registration. */
const meta: Reader<Record<string, string>> = (v, at) => {
  if (!isPlainObject(v)) {
    at.expected('an object of strings', v);
    return undefined;
  }
  const out: Record<string, string> = {};
  let ok = true;
  const keys = Object.keys(v);
  if (keys.length > 64) {
    at.error(`Consul allows at most 64 meta keys, got ${keys.length}`, { expected: 'at most 64 keys' });
    ok = false;
  }
  for (const key of keys) {
    const item = at.child(key);
    const val = v[key];
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(key)) {
      item.error(`meta key ${JSON.stringify(key)} must be 1–128 letters, digits, '_' or '-'`, {
        atKey: true,
        expected: 'a key matching ^[A-Za-z0-9_-]{1,128}$',
      });
      ok = false;
    } else if (key.startsWith('consul-')) {
      item.error('meta keys starting with "consul-" are reserved by Consul', { atKey: true, expected: 'a key without the "consul-" prefix' });
      ok = false;
    }
    if (typeof val !== 'string') {
      item.expected('a string', val);
      ok = false;
    } else if (val.length > 512) {
      item.error(`Consul allows meta values of at most 512 characters, got ${val.length}`, { expected: 'at most 512 characters' });
      ok = false;
    } else {
      Object.defineProperty(out, key, { value: val, enumerable: true, writable: true, configurable: true });
    }
  }
  return ok ? out : undefined;
};

// ---------------------------------------------------------------------------
// `when`

interface WhenResult {
  when: WhenConfig;
  /** `each` was written (ContainerPilot's condition for refusing unlimited restarts). */
  each: boolean;
}

function readWhen(v: unknown, at: At): WhenResult | undefined {
  const raw = isPlainObject(v) ? v : undefined;
  const done = errorMark(at);
  const f = readObject(v, at, WHEN_FIELDS);
  if (!f || !raw) return undefined;
  const given = (k: keyof typeof WHEN_FIELDS): boolean => raw[k] !== undefined && raw[k] !== null;

  const triggers = (['interval', 'once', 'each'] as const).filter(given);
  if (triggers.length > 1) {
    at.error(`only one of \`interval\`, \`once\` or \`each\` may be set, got ${triggers.map((t) => `\`${t}\``).join(' and ')}`, {
      expected: 'one of interval, once, each',
    });
    return undefined;
  }
  if (given('interval')) {
    // ContainerPilot's docs: "If the interval field is set it is the only field permitted under when".
    for (const k of ['source', 'timeout'] as const) {
      if (given(k)) at.child(k).error(`\`${k}\` cannot be combined with \`interval\``, { atKey: true, expected: 'interval alone' });
    }
    if (done() || f.interval === undefined) return undefined;
    return { when: { kind: 'interval', interval: f.interval }, each: false };
  }

  if (!given('source')) {
    if (triggers.length === 0) {
      // `when: { intervl: … }` already got "did you mean `interval`?"; do not pile on.
      if (done()) return undefined;
      at.error('expected `interval`, or `source` with `once` or `each`', { expected: 'interval, or source with once/each' });
    } else {
      at.child('source').error(`missing required field \`source\`: \`${triggers[0]}\` needs the source of the event`, {
        positionOf: at.child(triggers[0]).path,
      });
    }
    return undefined;
  }
  if (done() || f.source === undefined) return undefined;
  const source = f.source;
  const isSignal = (SIGNAL_SOURCES as readonly string[]).includes(source);
  const code = f.once ?? f.each;
  if (!isSignal) {
    if (code === undefined) {
      at.error('`source` needs `once` or `each`: the event to wait for', { expected: 'once or each', positionOf: at.child('source').path });
      return undefined;
    }
    if ((SIGNAL_SOURCES as readonly string[]).includes(code)) {
      at.child(triggers[0]).error(`the event ${code} is only emitted with source ${code}`, { expected: 'an event code' });
      return undefined;
    }
  }
  // ContainerPilot treats `timeout: 0` as "no timeout"; anything in (0, 1ms) is a mistake.
  let timeout = f.timeout;
  if (timeout !== undefined && timeout > 0 && timeout < 1) {
    at.child('timeout').error('must be 0 (no timeout) or at least 1ms', { expected: 'a duration ≥ 1ms' });
    return undefined;
  }
  if (timeout === 0) timeout = undefined;
  const when: WhenConfig = isSignal
    ? // A signal can arrive any number of times: always `each` (ContainerPilot's rule).
      { kind: 'event', source, code: 'signal', mode: 'each' }
    : { kind: 'event', source, code: code as string, mode: f.once !== undefined ? 'once' : 'each' };
  if (timeout !== undefined && when.kind === 'event') when.timeout = timeout;
  return { when, each: given('each') };
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
};

// ---------------------------------------------------------------------------
// The job

export interface JobResult {
  /** The name as written, when it is a string (for cross-job checks even if the job has errors). */
  name?: string;
  config?: JobConfig;
  /** Dependencies as written; `validateConfig` checks them against every job and fills in conditions. */
  dependsOn?: DependencyDraft[];
}

export function readJob(v: unknown, at: At): JobResult {
  const done = errorMark(at);
  const f = readObject(v, at, JOB_FIELDS, 'a job object');
  if (!f) return {};
  const raw = v as Record<string, unknown>;
  const name = f.name;

  const whenResult = f.when;
  const when: WhenConfig = whenResult?.when ?? { kind: 'startup' };

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
      at.child('health').error('missing required field `health`: a job with `port` is registered as a service and needs a health check', {
        positionOf: at.child('port').path,
      });
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

  const isInterval = when.kind === 'interval';
  const restartCount = f.restarts ?? (isInterval ? Infinity : 0);
  if (restartCount === Infinity && whenResult?.each) {
    at.child('restarts').error(
      '"unlimited" cannot be combined with `when.each`: every event would start another process that restarts forever',
      { expected: '"never" or a number' },
    );
  }

  if (done() || name === undefined) return name === undefined ? {} : { name };

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
  return { name, config: job, ...(f.dependsOn ? { dependsOn: f.dependsOn } : {}) };
}
