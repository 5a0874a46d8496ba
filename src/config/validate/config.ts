/**
 * `validateConfig`: the raw JSON5 value → the typed, normalized `Config`, or a
 * `ConfigErrors` listing every problem in the file. Pure: no I/O, no environment.
 */
import { ConfigError, ConfigErrors, nearest } from '../errors.js';
import type { Positions } from '../parse.js';
import type { Config, JobConfig, WatchConfig } from '../types.js';
import { At, type FieldTable, field, isPlainObject, MAX_REPORTED, Reporter, readObject } from './core.js';
import { DASHBOARD_FIELDS, readDashboard } from './dashboard.js';
import { type DependencyDrafts, resolveDependencies } from './dependencies.js';
import {
  envNameOf,
  HEALTH_FIELDS,
  JOB_CONSUL_FIELDS,
  JOB_FIELDS,
  JOB_LOGGING_FIELDS,
  RESTART_BACKOFF_FIELDS,
  readJob,
  WHEN_FIELDS,
} from './job.js';
import { DEPENDENCY_FIELDS, HTTP_CHECK_FIELDS } from './lifecycle.js';
import { RESTART_LIMIT_FIELDS } from './liveness.js';
import { checkReplicaNames, expandJobs, type JobEntry } from './replicas.js';
import { duration, str, strings } from './scalars.js';
import {
  CONSUL_FIELDS,
  CONSUL_TLS_FIELDS,
  CONTROL_FIELDS,
  DEFAULT_KEEP_RUNS,
  DEFAULT_LOGGING,
  DEFAULT_MAX_EVENT_LOG_BYTES,
  LOGGING_FIELDS,
  METRIC_FIELDS,
  readConsul,
  readControl,
  readLogging,
  readState,
  readTelemetry,
  readWatch,
  STATE_FIELDS,
  TELEMETRY_FIELDS,
  WATCH_FIELDS,
} from './sections.js';

export interface ValidateContext {
  /** The file name shown in errors. */
  file: string;
  /** Positions from `parseJson5` (a function: worked out only if there is an error); none when unknown. */
  positions?: Positions | (() => Positions);
  /** Absolute path recorded as `Config.file`; defaults to `file`. */
  absolutePath?: string;
}

export const DEFAULT_STOP_TIMEOUT = 5000;

/** Errors in reading order (those without a position first); the sort is stable. */
function inFileOrder(errors: readonly ConfigError[]): ConfigError[] {
  const key = (e: ConfigError): [number, number] => [e.line ?? 0, e.column ?? 0];
  return [...errors].sort((a, b) => {
    const [la, ca] = key(a);
    const [lb, cb] = key(b);
    return la - lb || ca - cb;
  });
}

/** The problems kept, and a last one saying how many more were found (Reporter keeps MAX_REPORTED). */
function withUnlisted(errors: ConfigError[], r: Reporter): ConfigError[] {
  if (r.count <= errors.length) return errors;
  const more = r.count - errors.length;
  return [
    ...errors,
    new ConfigError({
      file: r.file,
      path: '',
      message: `and ${more} more problem${more === 1 ? '' : 's'} (only the first ${MAX_REPORTED} are listed)`,
    }),
  ];
}

/**
 * A list of named entries (jobs, watches): null entries are skipped (ContainerPilot's
 * decoder dropped them) and names must be unique, except where `duplicate` takes a second
 * use of a name in (jobs: ContainerPilot runs both). `also` runs for each first use of a
 * name, for further per-list rules; it returns false when it reported a problem.
 */
function readNamedList<T>(
  v: unknown,
  at: At,
  [what, whats]: readonly ['job', 'jobs'] | readonly ['watch', 'watches'],
  readItem: (item: unknown, at: At) => { name?: string; config?: T },
  also?: (name: string, index: number, at: At) => boolean,
  duplicate?: (config: T, name: string, nth: number, index: number, firstIndex: number) => void,
): T[] | undefined {
  if (!Array.isArray(v)) {
    at.expected(`an array of ${whats}`, v);
    return undefined;
  }
  const list: T[] = [];
  const byName = new Map<string, number>();
  const uses = new Map<string, number>();
  v.forEach((item, i) => {
    if (item === null) return;
    const itemAt = at.child(i);
    const { name, config } = readItem(item, itemAt);
    if (config) list.push(config);
    if (name === undefined) return;
    const first = byName.get(name);
    if (first !== undefined && duplicate) {
      const nth = (uses.get(name) ?? 1) + 1;
      uses.set(name, nth);
      if (config) duplicate(config, name, nth, i, first);
      return;
    }
    if (first !== undefined) {
      itemAt.child('name').error(`duplicate ${what} name ${JSON.stringify(name)} (also ${whats}[${first}])`, {
        expected: 'a unique name',
      });
      return;
    }
    if (also && !also(name, i, itemAt)) return;
    byName.set(name, i);
  });
  return list;
}

/** The `dependsOn` of each list of jobs read, resolved by `validateConfig` once all jobs are known. */
const dependencyDrafts = new WeakMap<JobConfig[], DependencyDrafts[]>();
/** Each list's jobs by name, where they are, and their `replicas`, for the rules across jobs. */
const jobEntries = new WeakMap<JobConfig[], JobEntry[]>();

function readJobs(v: unknown, at: At): JobConfig[] | undefined {
  // Two names may differ and still give the same CONTAINERPILOT_{NAME}_PID.
  const byEnv = new Map<string, { name: string; index: number }>();
  const drafts: DependencyDrafts[] = [];
  const entries: JobEntry[] = [];
  let replicas: number | undefined; // of the item just read, for `also` right after
  const readAndKeepDrafts = (item: unknown, itemAt: At): ReturnType<typeof readJob> => {
    const result = readJob(item, itemAt);
    if (result.config && result.dependsOn)
      drafts.push({ job: result.config, at: itemAt.child('dependsOn'), drafts: result.dependsOn });
    replicas = result.replicas;
    return result;
  };
  const list = readNamedList(
    v,
    at,
    ['job', 'jobs'],
    readAndKeepDrafts,
    (name, i, jobAt) => {
      const env = envNameOf(name);
      const clash = byEnv.get(env);
      if (clash) {
        jobAt
          .child('name')
          .error(
            `job names ${JSON.stringify(name)} and ${JSON.stringify(clash.name)} (jobs[${clash.index}]) both give the environment variable CONTAINERPILOT_${env}_PID`,
            { expected: 'names that differ after upper-casing and `-` → `_`' },
          );
        return false;
      }
      byEnv.set(env, { name, index: i });
      entries.push({ name, at: jobAt, index: i, ...(replicas !== undefined ? { replicas } : {}) });
      return true;
    },
    (job, name, nth, index, firstIndex) => {
      // docs/containerpilot.md#duplicate-job-names: both run; the later one is addressed as name#k.
      job.name = `${name}#${nth}`;
      job.duplicateOf = { name, index, firstIndex };
      // Which of them would the instances copy, and whose events would `name` carry? Neither makes sense.
      const first = entries.find((e) => e.index === firstIndex);
      if (replicas !== undefined || first?.replicas !== undefined)
        at.child(replicas !== undefined ? index : firstIndex)
          .child('replicas')
          .error(
            `\`replicas\` cannot be used on a job whose name another job also has (jobs[${firstIndex}] and jobs[${index}] are both named ${JSON.stringify(name)}, which only ContainerPilot compatibility allows)`,
            { expected: 'a unique name for a job with replicas' },
          );
    },
  );
  if (list) {
    dependencyDrafts.set(list, drafts);
    jobEntries.set(list, entries);
  }
  return list;
}

function readWatches(v: unknown, at: At): WatchConfig[] | undefined {
  return readNamedList(v, at, ['watch', 'watches'], readWatch);
}

export const TOP_FIELDS = {
  consul: field(readConsul),
  logging: field(readLogging),
  jobs: field(readJobs),
  watches: field(readWatches),
  control: field(readControl),
  telemetry: field(readTelemetry),
  dashboard: field(readDashboard),
  stopTimeout: field(duration()),
  state: field(readState),
  main: field(str({ nonEmpty: true })),
  envFile: field(strings({ single: true, nonEmptyItems: true })),
};

/**
 * Every field table by the name of its JSON Schema definition (`$defs`), so a test
 * can hold the tables and schema/pidpilot.schema.json to the same field names.
 */
export const FIELD_TABLES: Readonly<Record<string, FieldTable>> = {
  config: TOP_FIELDS,
  consul: CONSUL_FIELDS,
  consulTls: CONSUL_TLS_FIELDS,
  logging: LOGGING_FIELDS,
  job: JOB_FIELDS,
  jobLogging: JOB_LOGGING_FIELDS,
  when: WHEN_FIELDS,
  health: HEALTH_FIELDS,
  httpCheck: HTTP_CHECK_FIELDS,
  dependency: DEPENDENCY_FIELDS,
  restartBackoff: RESTART_BACKOFF_FIELDS,
  restartLimit: RESTART_LIMIT_FIELDS,
  jobConsul: JOB_CONSUL_FIELDS,
  watch: WATCH_FIELDS,
  control: CONTROL_FIELDS,
  telemetry: TELEMETRY_FIELDS,
  dashboard: DASHBOARD_FIELDS,
  metric: METRIC_FIELDS,
  state: STATE_FIELDS,
};

/**
 * Validates and normalizes a parsed configuration. Throws `ConfigErrors` with all
 * problems found; never throws anything else, whatever `raw` is.
 */
export function validateConfig(raw: unknown, ctx: ValidateContext): Config {
  const r = new Reporter(ctx.file, ctx.positions ?? new Map());
  const root = new At('', r);
  if (!isPlainObject(raw)) {
    root.expected('an object at the top level, like { jobs: [ … ] }', raw);
    throw new ConfigErrors(r.errors);
  }
  const f = readObject(raw, root, TOP_FIELDS) ?? {};
  const jobs = f.jobs ?? [];

  if (f.main !== undefined) {
    // The raw names, so a `main` pointing at a job that has its own errors is not reported twice.
    const names = (Array.isArray(raw.jobs) ? raw.jobs : [])
      .map((j: unknown) => (isPlainObject(j) && typeof j.name === 'string' ? j.name : undefined))
      .filter((n): n is string => n !== undefined)
      .concat(jobs.filter((j) => j.duplicateOf).map((j) => j.name)); // a duplicate's name#k
    if (!names.includes(f.main)) {
      const suggestion = nearest(f.main, names);
      root
        .child('main')
        .error(
          `no job named ${JSON.stringify(f.main)}${suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ''}`,
          { expected: 'the name of a job', ...(suggestion ? { suggestion } : {}) },
        );
    }
  }

  // Only among jobs that are themselves valid: a dependency on a broken job is reported there.
  if (r.count === 0) resolveDependencies(dependencyDrafts.get(jobs) ?? [], jobs);
  const entries = jobEntries.get(jobs) ?? [];
  checkReplicaNames(entries, f.main === undefined ? undefined : root.child('main'), f.main);

  if (r.count > 0) throw new ConfigErrors(withUnlisted(inFileOrder(r.errors), r), r.count);

  const expanded = expandJobs(jobs, entries);
  const config: Config = {
    file: ctx.absolutePath ?? ctx.file,
    logging: f.logging ?? { ...DEFAULT_LOGGING },
    jobs: expanded.jobs,
    watches: f.watches ?? [],
    control: f.control ?? {},
    // ContainerPilot read 0 as "use the default".
    stopTimeout: f.stopTimeout || DEFAULT_STOP_TIMEOUT,
    state: f.state ?? { keepRuns: DEFAULT_KEEP_RUNS, maxEventLogBytes: DEFAULT_MAX_EVENT_LOG_BYTES },
  };
  if (f.consul !== undefined) config.consul = f.consul;
  if (f.telemetry !== undefined) config.telemetry = f.telemetry;
  if (f.dashboard !== undefined) config.dashboard = f.dashboard;
  if (f.main !== undefined) config.main = f.main;
  if (f.envFile !== undefined && f.envFile.length > 0) config.envFile = f.envFile;
  if (expanded.replicated) config.replicated = expanded.replicated;
  return config;
}
