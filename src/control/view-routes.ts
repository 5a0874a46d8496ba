/**
 * pidpilot's endpoints for the views (the dashboard, `top`, `logs`, `signal`), beside
 * ContainerPilot's in routes.ts:
 * - `GET /v3/logs[?job=a,b][&since=MS][&limit=N][&follow=1]`: the captured output of every
 *   job (or of the named ones) interleaved by time, each line with its job's name;
 * - `POST /v3/jobs/{name}/signal` with `{"signal": "HUP"}` (or `SIGHUP`): sends a signal to
 *   the job's process group;
 * - `GET /v3/graph`: the dependency and trigger graph of the running configuration.
 */
import { constants } from 'node:os';
import { killGroup } from '../process/exec-path.js';
import type { HistoryReader, StoredLogLine, Unfollow } from '../state/types.js';
import { HttpError } from './http.js';
import type { ControlTarget } from './target.js';

/** What the follow-stream machinery of routes.ts needs to serve a history. */
export interface StreamSource<T> {
  past: () => Promise<T[]>;
  follow: (fn: (item: T) => void) => Unfollow;
  key: (item: T) => string;
}

/** `since` as milliseconds since the epoch (the CLI turns `5m` or a date into one). */
export function sinceParam(url: URL): number | undefined {
  const raw = url.searchParams.get('since');
  if (raw === null || raw === '') return undefined;
  if (!/^[0-9]{1,15}$/.test(raw)) throw new HttpError(400, `since must be milliseconds since the epoch, got "${raw}"`);
  return Number(raw);
}

/**
 * The jobs `?job=a,b` names (each must exist; a job with `replicas` stands for its instances),
 * or every job of the status.
 */
function selectedJobs(target: ControlTarget, url: URL): string[] {
  const all = target.status().jobs.map((j) => j.name);
  const raw = url.searchParams
    .getAll('job')
    .flatMap((v) => v.split(','))
    .filter((v) => v !== '');
  if (raw.length === 0) return all;
  const names = raw.flatMap((name) => {
    if (target.jobExists(name)) return [name];
    const instances = target.instancesOf(name);
    if (instances.length > 0) return instances;
    throw new HttpError(404, `no such job: ${name}`);
  });
  return [...new Set(names)];
}

/** The last `limit` lines of the selected jobs at or after `since`, oldest first, then what comes. */
export function allLogsSource(
  history: HistoryReader,
  target: ControlTarget,
  url: URL,
  limit: number,
): StreamSource<StoredLogLine> {
  const jobs = selectedJobs(target, url);
  const since = sinceParam(url);
  const fresh = (l: StoredLogLine): boolean => since === undefined || l.time >= since;
  return {
    past: async () => {
      const per = await Promise.all(jobs.map((job) => history.logs(job, { limit })));
      // Each job's lines are in order; a stable sort by time interleaves them.
      const merged = per
        .flat()
        .filter(fresh)
        .sort((a, b) => a.time - b.time);
      return merged.slice(Math.max(0, merged.length - limit));
    },
    follow: (fn) => {
      const offs = jobs.map((job) => history.followLogs(job, (l) => fresh(l) && fn(l)));
      return () => {
        for (const off of offs) off();
      };
    },
    key: (l) => `${l.time}:${l.job}:${l.stream}:${l.line}`,
  };
}

/** A signal name as `kill -l` spells it, with or without `SIG`; numbers are refused (they differ between systems). */
export function signalOf(body: unknown): NodeJS.Signals {
  const raw = (body as { signal?: unknown } | undefined)?.signal;
  if (typeof raw !== 'string' || raw === '')
    throw new HttpError(400, 'the body must be {"signal": "NAME"}, e.g. {"signal": "HUP"}');
  const name = (raw.toUpperCase().startsWith('SIG') ? raw.toUpperCase() : `SIG${raw.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw new HttpError(400, `unknown signal "${raw}"`);
  return name;
}

/** Sends `signal` to the process group of the job's running process. */
export function signalJob(
  target: ControlTarget,
  job: string,
  signal: NodeJS.Signals,
): { job: string; signal: string; pid: number } {
  const pid = target.status().jobs.find((j) => j.name === job)?.pid ?? null;
  if (pid === null) throw new HttpError(409, `job ${job} has no running process to signal`);
  if (!killGroup(pid, signal)) throw new HttpError(409, `job ${job}'s process ${pid} is gone or may not be signalled`);
  return { job, signal, pid };
}
