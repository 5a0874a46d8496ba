/**
 * `pidpilot start|stop|restart JOB [-timeout DURATION]` and `pidpilot signal JOB SIGNAL`: act on one job of a running
 * supervisor. `stop` and `restart` take a timeout after which what is left of the
 * job's process group is killed.
 */

import type { JobAction } from '../control/target.js';
import { type ParsedArgs, UsageError } from './args.js';
import { ControlClient, failWith, runClient } from './client.js';

export function jobCommand(args: ParsedArgs, action: JobAction, job: string): Promise<number> {
  return runClient(async () => {
    const timeout = typeof args.flags.timeout === 'string' ? args.flags.timeout : undefined;
    const body = timeout !== undefined && action !== 'start' ? { timeout } : undefined;
    const res = await ControlClient.fromArgs(args).call('POST', `/v3/jobs/${encodeURIComponent(job)}/${action}`, body);
    if (res.status !== 200) failWith(res);
    const state = (res.json as { state?: string } | undefined)?.state ?? '?';
    process.stdout.write(`${job}: ${action} done (now ${state})\n`);
    return 0;
  });
}

/** `pidpilot scale JOB N`: runs N instances of a job with `replicas` (docs/control-api.md#scale). */
export function scaleCommand(args: ParsedArgs, job: string, count: string): Promise<number> {
  if (!/^[0-9]+$/.test(count)) throw new UsageError(`scale needs a whole number of replicas, got "${count}"`);
  return runClient(async () => {
    const res = await ControlClient.fromArgs(args).call('POST', `/v3/jobs/${encodeURIComponent(job)}/scale`, {
      replicas: Number(count),
    });
    if (res.status !== 200) failWith(res);
    const { replicas, started, stopped } = res.json as { replicas: number; started: string[]; stopped: string[] };
    const changes = [...started.map((n) => `started ${n}`), ...stopped.map((n) => `stopped ${n}`)];
    process.stdout.write(
      `${job}: ${replicas} replica${replicas === 1 ? '' : 's'}${changes.length > 0 ? ` (${changes.join(', ')})` : ' (unchanged)'}\n`,
    );
    return 0;
  });
}

/** `pidpilot signal JOB SIGNAL`: sends SIGNAL (HUP, SIGHUP, …) to the job's process group. */
export function signalCommand(args: ParsedArgs, job: string, signal: string): Promise<number> {
  return runClient(async () => {
    const res = await ControlClient.fromArgs(args).call('POST', `/v3/jobs/${encodeURIComponent(job)}/signal`, {
      signal,
    });
    if (res.status !== 200) failWith(res);
    const sent = res.json as { signal: string; pid: number };
    process.stdout.write(`${job}: sent ${sent.signal} to process group ${sent.pid}\n`);
    return 0;
  });
}
