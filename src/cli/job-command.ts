/**
 * `pidpilot start|stop|restart JOB [-timeout DURATION]` and `pidpilot signal JOB SIGNAL`: act on one job of a running
 * supervisor. `stop` and `restart` take a timeout after which what is left of the
 * job's process group is killed.
 */

import type { JobAction } from '../control/target.js';
import type { ParsedArgs } from './args.js';
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
