/**
 * `pidpilot start|stop|restart JOB [-timeout DURATION]`: act on one job of a running
 * supervisor. `stop` and `restart` take a timeout after which what is left of the
 * job's process group is killed.
 */
import type { ParsedArgs } from './args.js';
import { ControlClient, failWith, runClient } from './client.js';
import type { JobAction } from '../control/target.js';

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
