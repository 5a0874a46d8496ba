/**
 * The top-level sections other than jobs: consul, logging, control, state,
 * watches (§6.4) and telemetry (§10).
 */

import { DEFAULT_INTERFACES } from '../interfaces.js';
import type {
  ConsulConfig,
  ConsulTlsConfig,
  LogFormat,
  LoggingConfig,
  LogLevel,
  MetricConfig,
  MetricType,
  StateConfig,
  TelemetryConfig,
  WatchConfig,
} from '../types.js';
import { type At, field, type Reader, readObject } from './core.js';
import { SERVICE_NAME } from './job.js';
import { bool, duration, int, interfaces, layerOverride, oneOf, str, strings } from './scalars.js';

// ---------------------------------------------------------------------------
// consul

export const CONSUL_TLS_FIELDS = {
  cafile: field(str()),
  capath: field(str()),
  clientcert: field(str()),
  clientkey: field(str()),
  servername: field(str()),
  verify: field(bool),
};

const consulTls: Reader<ConsulTlsConfig> = (v, at) => {
  const f = readObject(v, at, CONSUL_TLS_FIELDS);
  if (!f) return undefined;
  const out: ConsulTlsConfig = {};
  for (const k of ['cafile', 'capath', 'clientcert', 'clientkey', 'servername'] as const) {
    if (f[k] !== undefined && f[k] !== '') out[k] = f[k];
  }
  if (f.verify !== undefined) out.verify = f.verify;
  return out;
};

export const CONSUL_FIELDS = {
  address: field(str({ nonEmpty: true })),
  scheme: field(oneOf(['http', 'https'] as const, { foldCase: true })),
  token: field(str()),
  tls: field(consulTls),
};

type Scheme = 'http' | 'https';

/**
 * Splits `https://host:port` into scheme and address as ContainerPilot did; a bare
 * `host:port` has no scheme. `unix://` addresses are passed through whole.
 */
function splitAddress(raw: string, at: At): { address: string; scheme?: Scheme } | undefined {
  const s = raw.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(s);
  let address = s;
  let scheme: Scheme | undefined;
  if (m) {
    const given = m[1].toLowerCase();
    if (given === 'http' || given === 'https') {
      scheme = given;
      address = m[2];
    } else if (given !== 'unix') {
      at.error(`unsupported scheme "${m[1]}://" in ${JSON.stringify(raw)}`, {
        expected: '"host:port", "http://host:port" or "https://host:port"',
      });
      return undefined;
    }
  }
  if (address === '' || /\s/.test(address)) {
    at.expected('"host:port", "http://host:port" or "https://host:port"', raw);
    return undefined;
  }
  return scheme ? { address, scheme } : { address };
}

/**
 * `consul`: a string address, or an object. Fields the file leaves out stay
 * absent, so discovery can fill them from Consul's environment variables.
 */
export const readConsul: Reader<ConsulConfig> = (v, at) => {
  if (typeof v === 'string') {
    const a = splitAddress(v, at);
    // ContainerPilot fixed the scheme of a string address: http unless it says https.
    return a && { address: a.address, scheme: a.scheme ?? 'http' };
  }
  const f = readObject(v, at, CONSUL_FIELDS, 'an address string or an object');
  if (!f) return undefined;
  const out: ConsulConfig = {};
  if (f.address !== undefined) {
    const a = splitAddress(f.address, at.child('address'));
    if (!a) return undefined;
    if (a.scheme && f.scheme && a.scheme !== f.scheme) {
      at.child('scheme').error(`"${f.scheme}" contradicts the ${a.scheme}:// in \`address\``, {
        expected: `"${a.scheme}"`,
      });
      return undefined;
    }
    out.address = a.address;
    const scheme = f.scheme ?? a.scheme;
    if (scheme) out.scheme = scheme;
  } else if (f.scheme) {
    out.scheme = f.scheme;
  }
  if (f.token !== undefined && f.token !== '') out.token = f.token;
  if (f.tls !== undefined) out.tls = f.tls;
  return out;
};

// ---------------------------------------------------------------------------
// logging

export const DEFAULT_LOGGING: Readonly<LoggingConfig> = { level: 'info', format: 'default', output: 'stdout' };

export const LOGGING_FIELDS = {
  // logrus, which ContainerPilot used, also reads "warning".
  level: field(
    oneOf<LogLevel>(['debug', 'info', 'warn', 'error', 'fatal', 'panic'], {
      foldCase: true,
      aliases: { warning: 'warn' },
    }),
  ),
  format: field(oneOf<LogFormat>(['default', 'text', 'json'], { foldCase: true })),
  output: field(str({ nonEmpty: true })),
};

export const readLogging: Reader<LoggingConfig> = (v, at) => {
  const f = readObject(v, at, LOGGING_FIELDS);
  if (!f) return undefined;
  let output = f.output ?? DEFAULT_LOGGING.output;
  // ContainerPilot compared the stream names case-insensitively; anything else is a file path.
  if (/^(stdout|stderr)$/i.test(output)) output = output.toLowerCase();
  return { level: f.level ?? DEFAULT_LOGGING.level, format: f.format ?? DEFAULT_LOGGING.format, output };
};

// ---------------------------------------------------------------------------
// control, state

export const CONTROL_FIELDS = {
  socket: field(str({ nonEmpty: true })),
};

export const readControl: Reader<{ socket?: string }> = (v, at) => {
  const f = readObject(v, at, CONTROL_FIELDS);
  return f && (f.socket !== undefined ? { socket: f.socket } : {});
};

export const DEFAULT_KEEP_RUNS = 20;
export const DEFAULT_MAX_EVENT_LOG_BYTES = 10 * 1024 * 1024;

export const STATE_FIELDS = {
  dir: field(str({ nonEmpty: true })),
  keepRuns: field(int({ min: 0 })),
  maxEventLogBytes: field(int({ min: 1024, what: 'a number of bytes ≥ 1024' })),
};

export const readState: Reader<StateConfig> = (v, at) => {
  const f = readObject(v, at, STATE_FIELDS);
  if (!f) return undefined;
  const out: StateConfig = {
    keepRuns: f.keepRuns ?? DEFAULT_KEEP_RUNS,
    maxEventLogBytes: f.maxEventLogBytes ?? DEFAULT_MAX_EVENT_LOG_BYTES,
  };
  if (f.dir !== undefined) out.dir = f.dir;
  return out;
};

// ---------------------------------------------------------------------------
// watches

export const WATCH_FIELDS = {
  name: field(str({ nonEmpty: true }), true),
  // ContainerPilot took whole seconds; a duration string is accepted too.
  interval: field(duration({ minMs: 1 }), true),
  tag: field(str()),
  dc: field(str()),
  override: field(layerOverride),
};

export function readWatch(v: unknown, at: At): { name?: string; config?: WatchConfig } {
  const before = at.r.count;
  const f = readObject(v, at, WATCH_FIELDS, 'a watch object');
  if (!f) return {};
  if (f.name !== undefined && !SERVICE_NAME.test(f.name)) {
    at.child('name').error(
      `service name ${JSON.stringify(f.name)} is not valid: it must start with a lower-case letter and contain only letters, digits and '-'`,
      { expected: 'a name matching ^[a-z][a-zA-Z0-9-]+$' },
    );
  }
  if (at.r.count > before || f.name === undefined || f.interval === undefined) {
    return f.name !== undefined ? { name: f.name } : {};
  }
  const config: WatchConfig = { name: f.name, interval: f.interval };
  if (f.tag !== undefined && f.tag !== '') config.tag = f.tag;
  if (f.dc !== undefined && f.dc !== '') config.dc = f.dc;
  return { name: f.name, config };
}

// ---------------------------------------------------------------------------
// telemetry

/** Prometheus' metric-name rule, applied to the exposed (joined) name. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

const buckets: Reader<number[]> = (v, at) => {
  const what = 'a non-empty array of increasing numbers';
  if (!Array.isArray(v) || v.length === 0) {
    at.expected(what, v);
    return undefined;
  }
  for (let i = 0; i < v.length; i++) {
    const b: unknown = v[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) {
      at.child(i).expected('a finite number', b);
      return undefined;
    }
    if (i > 0 && b <= (v[i - 1] as number)) {
      at.child(i).error(`bucket bounds must increase: ${b} follows ${String(v[i - 1])}`, { expected: what });
      return undefined;
    }
  }
  return v as number[];
};

export const METRIC_FIELDS = {
  namespace: field(str()),
  subsystem: field(str()),
  name: field(str({ nonEmpty: true }), true),
  // The Prometheus client ContainerPilot used refused an empty help text.
  help: field(str({ nonEmpty: true }), true),
  type: field(oneOf<MetricType>(['counter', 'gauge', 'histogram', 'summary']), true),
  buckets: field(buckets),
};

/** The name Prometheus exposes: the non-empty parts joined with `_`. */
export function metricFullName(m: Pick<MetricConfig, 'namespace' | 'subsystem' | 'name'>): string {
  return [m.namespace, m.subsystem, m.name].filter((p) => p !== undefined && p !== '').join('_');
}

function readMetric(v: unknown, at: At): MetricConfig | undefined {
  const before = at.r.count;
  const f = readObject(v, at, METRIC_FIELDS, 'a metric object');
  if (!f || f.name === undefined || f.help === undefined || f.type === undefined) return undefined;
  const m: MetricConfig = { name: f.name, help: f.help, type: f.type };
  if (f.namespace) m.namespace = f.namespace;
  if (f.subsystem) m.subsystem = f.subsystem;
  const full = metricFullName(m);
  if (!METRIC_NAME.test(full)) {
    at.child('name').error(
      `metric name ${JSON.stringify(full)} is not valid for Prometheus: use letters, digits, '_' and ':', not starting with a digit`,
      { expected: 'a name matching ^[a-zA-Z_:][a-zA-Z0-9_:]*$' },
    );
  }
  if (f.buckets !== undefined) {
    if (f.type !== 'histogram') {
      at.child('buckets').error('`buckets` applies only to metrics of type "histogram"', {
        atKey: true,
        expected: 'type "histogram"',
      });
    } else {
      m.buckets = f.buckets;
    }
  }
  return at.r.count > before ? undefined : m;
}

export const DEFAULT_TELEMETRY_PORT = 9090;

export const TELEMETRY_FIELDS = {
  port: field(int({ min: 1, max: 65535, what: 'a port number from 1 to 65535' })),
  interfaces: field(interfaces),
  tags: field(strings({ single: true })),
  metrics: field<MetricConfig[]>((v, at) => {
    if (!Array.isArray(v)) {
      at.expected('an array of metrics', v);
      return undefined;
    }
    const before = at.r.count;
    const out: MetricConfig[] = [];
    const seen = new Map<string, number>();
    v.forEach((item, i) => {
      if (item === null) return;
      const m = readMetric(item, at.child(i));
      if (!m) return;
      const full = metricFullName(m);
      const first = seen.get(full);
      if (first !== undefined) {
        at.child(i)
          .child('name')
          .error(`duplicate metric ${JSON.stringify(full)} (also metrics[${first}])`, {
            expected: 'a unique metric name',
          });
      } else {
        seen.set(full, i);
      }
      out.push(m);
    });
    return at.r.count > before ? undefined : out;
  }),
};

export const readTelemetry: Reader<TelemetryConfig> = (v, at) => {
  const f = readObject(v, at, TELEMETRY_FIELDS);
  if (!f) return undefined;
  return {
    port: f.port ?? DEFAULT_TELEMETRY_PORT,
    interfaces: f.interfaces ?? [...DEFAULT_INTERFACES],
    tags: f.tags ?? [],
    metrics: f.metrics ?? [],
  };
};
