/**
 * `pidpilot logs [JOB...] [-n N] [-since DURATION|TIME] [-f]`: the captured output of the
 * named jobs (a job with `replicas`: its instances), or of every job, interleaved by time
 * (`/v3/logs`). With one job the lines are printed as the job wrote them; with several each
 * line starts with its job's name, as
 * `docker compose logs` does (coloured on a terminal). `--json` prints the records (NDJSON).
 */

import { parseGoDuration } from '../config/duration.js';
import type { StatusSnapshot } from '../control/target.js';
import type { StoredLogLine } from '../state/types.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { ControlClient, failWith, runClient } from './client.js';
import { colourWanted, nameStyle, painter } from './colour.js';

/** `-n N` as a limit for the server; undefined when not given. */
export function countFlag(args: ParsedArgs): number | undefined {
  const raw = args.flags.n;
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[0-9]{1,9}$/.test(raw))
    throw new UsageError(`-n takes a number of lines, got "${String(raw)}"`);
  return Number(raw);
}

/** `-since 10m` (a duration ago) or `-since 2026-01-02T15:04:05Z` (a time), as ms since the epoch. */
export function sinceFlag(args: ParsedArgs, now = Date.now()): number | undefined {
  const raw = args.flags.since;
  if (raw === undefined) return undefined;
  const text = String(raw);
  const duration = parseGoDuration(text);
  if (duration.ok) return Math.floor(now - duration.ms);
  const time = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(time))
    throw new UsageError(`-since takes a duration (10m, 1h30m) or a time (2026-01-02T15:04:05Z), got "${text}"`);
  return time;
}

export function follows(args: ParsedArgs): boolean {
  return args.flags.f === true || args.flags.follow === true;
}

/** The query of a history stream (events, logs): `params`, then `-n` as limit and `-f` as follow. */
export function historyQuery(args: ParsedArgs, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params);
  const n = countFlag(args);
  if (n !== undefined) q.set('limit', String(n));
  if (follows(args)) q.set('follow', '1');
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

export function logsQuery(args: ParsedArgs, jobs: readonly string[]): string {
  const since = sinceFlag(args);
  return historyQuery(args, {
    ...(jobs.length > 0 ? { job: jobs.join(',') } : {}),
    ...(since !== undefined ? { since: String(since) } : {}),
  });
}

export function logs(args: ParsedArgs, jobs: readonly string[]): Promise<number> {
  return runClient(async () => {
    const query = logsQuery(args, jobs);
    const json = args.flags.json === true;
    const client = ControlClient.fromArgs(args);
    // Every job's name, so the name column is as wide as the longest from the first line.
    const named = jobs.length > 0 || json ? jobs : await jobNames(client);
    const format = lineFormatter(
      named.length === 1 && jobs.length === 0 ? [...named, ''] : named,
      colourWanted(process.stdout),
    );
    await client.stream(`/v3/logs${query}`, (line) => {
      process.stdout.write(json ? `${line}\n` : format(JSON.parse(line) as StoredLogLine));
    });
    return 0;
  });
}

async function jobNames(client: ControlClient): Promise<string[]> {
  const res = await client.call('GET', '/v3/status');
  if (res.status !== 200) failWith(res);
  return (res.json as StatusSnapshot).jobs.map((j) => j.name);
}

/**
 * One job's lines as written; several jobs' lines behind a `name |` column wide enough for the
 * names seen so far (also when the one name asked for is a job with `replicas`: its instances').
 */
export function lineFormatter(jobs: readonly string[], colour: boolean): (l: StoredLogLine) => string {
  const named = namedFormatter(jobs, colour);
  if (jobs.length === 1) return (l) => (l.job === jobs[0] ? `${l.line}\n` : named(l));
  return named;
}

function namedFormatter(jobs: readonly string[], colour: boolean): (l: StoredLogLine) => string {
  const paint = painter(colour);
  let width = Math.max(0, ...jobs.map((j) => j.length));
  return (l) => {
    width = Math.max(width, l.job.length);
    return `${paint(`${l.job.padEnd(width)} |`, nameStyle(l.job))} ${l.line}\n`;
  };
}
