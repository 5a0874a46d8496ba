/**
 * Readers of a job's structured fields: `logging`, `health`, `consul`, `restartBackoff`,
 * `restarts`, `stopSignal`, `meta`. Rules follow ContainerPilot's jobs/config.go; where
 * pidpilot is stricter or more lenient the reason is noted at the rule.
 */
import { constants as osConstants } from 'node:os';
import { nearest } from '../errors.js';
import type { HealthConfig, JobConsulExtras, JobLoggingConfig, RestartBackoff } from '../types.js';
import { describe, field, isPlainObject, type Reader, readObject } from './core.js';
import { httpCheck, tcpCheck } from './lifecycle.js';
import { HEALTH_LIVENESS_FIELDS, healthLiveness } from './liveness.js';
import { bool, duration, exec, goDurationString } from './scalars.js';

export const DEFAULT_RESTART_BACKOFF: Readonly<RestartBackoff> = {
  initial: 0,
  max: 10_000,
  factor: 2,
  resetAfter: 10_000,
};

export const JOB_LOGGING_FIELDS = {
  raw: field(bool),
};

export const jobLogging: Reader<JobLoggingConfig> = (v, at) => {
  const f = readObject(v, at, JOB_LOGGING_FIELDS);
  return f && { raw: f.raw ?? false };
};

export const HEALTH_FIELDS = {
  exec: field(exec),
  http: field(httpCheck),
  tcp: field(tcpCheck),
  interval: field(duration({ minMs: 1 }), true),
  ttl: field(duration({ minMs: 1 }), true),
  timeout: field(duration({ minMs: 1 })),
  logging: field(jobLogging),
  ...HEALTH_LIVENESS_FIELDS,
};

/** The ways to check health; exactly one is given. */
const CHECK_KINDS = ['exec', 'http', 'tcp'] as const;

export const health: Reader<HealthConfig> = (v, at) => {
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
    at.child(given[1]!).error(
      `only one of \`exec\`, \`http\` or \`tcp\` may be set, got ${given.map((k) => `\`${k}\``).join(' and ')}`,
      {
        atKey: true,
        expected: 'one of exec, http, tcp',
      },
    );
    return undefined;
  }
  const check =
    f.exec !== undefined
      ? { exec: f.exec }
      : f.http !== undefined
        ? { http: f.http }
        : f.tcp !== undefined
          ? { tcp: f.tcp }
          : undefined;
  if (check === undefined || f.interval === undefined || f.ttl === undefined) return undefined;
  return {
    ...check,
    interval: f.interval,
    ttl: f.ttl,
    // ContainerPilot bounds a check by its interval unless told otherwise.
    timeout: f.timeout ?? f.interval,
    logging: f.logging ?? { raw: false },
    ...healthLiveness(f),
  };
};

export const JOB_CONSUL_FIELDS = {
  enableTagOverride: field(bool),
  deregisterCriticalServiceAfter: field(goDurationString),
};

export const jobConsul: Reader<JobConsulExtras> = (v, at) => {
  const f = readObject(v, at, JOB_CONSUL_FIELDS);
  if (!f) return undefined;
  const out: JobConsulExtras = { enableTagOverride: f.enableTagOverride ?? false };
  if (f.deregisterCriticalServiceAfter !== undefined)
    out.deregisterCriticalServiceAfter = f.deregisterCriticalServiceAfter;
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

export const restartBackoff: Reader<RestartBackoff> = (v, at) => {
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
export const restarts: Reader<number> = (v, at) => {
  if (v === 'unlimited') return Infinity;
  if (v === 'never') return 0;
  let n: number | undefined;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\+?[0-9]+$/.test(v)) n = Number(v);
  // ContainerPilot truncated 1.5 to 1; a fractional restart count is a mistake, so it is refused.
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) {
    const suggestion = typeof v === 'string' ? nearest(v, ['unlimited', 'never']) : undefined;
    at.error(
      `expected ${RESTARTS_EXPECTED}, got ${typeof v === 'string' ? JSON.stringify(v) : describe(v)}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
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
export const stopSignal: Reader<NodeJS.Signals> = (v, at) => {
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
    const near = nearest(
      name.slice(3),
      SIGNALS.map((s) => s.slice(3)),
    );
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
export const meta: Reader<Record<string, string>> = (v, at) => {
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
      item.error('meta keys starting with "consul-" are reserved by Consul', {
        atKey: true,
        expected: 'a key without the "consul-" prefix',
      });
      ok = false;
    }
    if (typeof val !== 'string') {
      item.expected('a string', val);
      ok = false;
    } else if (val.length > 512) {
      item.error(`Consul allows meta values of at most 512 characters, got ${val.length}`, {
        expected: 'at most 512 characters',
      });
      ok = false;
    } else {
      Object.defineProperty(out, key, { value: val, enumerable: true, writable: true, configurable: true });
    }
  }
  return ok ? out : undefined;
};
