/**
 * `pidpilot status [--json]`: the jobs of a running supervisor as a table (state, pid,
 * uptime, restarts, last exit, health, readiness, and the reason for the state), or the
 * raw JSON of `/v3/status`.
 */
import type { ParsedArgs } from './args.js';
import { ControlClient, failWith, runClient } from './client.js';
import type { StatusSnapshot } from '../control/target.js';
import type { JobSnapshot } from '../jobs/state.js';

export function status(args: ParsedArgs): Promise<number> {
  return runClient(async () => {
    const res = await ControlClient.fromArgs(args).call('GET', '/v3/status');
    if (res.status !== 200) failWith(res);
    if (args.flags.json) {
      process.stdout.write(`${JSON.stringify(res.json, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(formatStatus(res.json as StatusSnapshot, Date.now()));
    return 0;
  });
}

export function formatStatus(s: StatusSnapshot, now: number): string {
  const header = ['JOB', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'HEALTH', 'READY', 'REASON'];
  const rows = s.jobs.map((j) => [
    j.name,
    j.state,
    j.pid === null ? '-' : String(j.pid),
    j.startedAt === null ? '-' : formatUptime(now - j.startedAt),
    String(j.restarts),
    lastExit(j),
    j.health,
    j.ready ? 'yes' : 'no',
    j.reason ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}\n`;
  const mode = s.maintenance ? ', maintenance mode' : s.shuttingDown ? ', shutting down' : '';
  return `pidpilot ${s.version}, pid ${s.pid}, up ${formatUptime(now - s.startedAt)}${mode}\n\n${line(header)}${rows.map(line).join('')}`;
}

function lastExit(j: JobSnapshot): string {
  const r = j.lastRun;
  if (!r) return '-';
  if (r.signal) return `${r.outcome} (${r.signal})`;
  if (r.code !== null && r.code !== undefined) return `${r.outcome} (${r.code})`;
  return r.reason ? `${r.outcome} (${r.reason})` : r.outcome;
}

export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor(s / 3600) % 24).padStart(2, '0')}h`;
}
