/**
 * `pidpilot status [--json] [-w]`: the jobs of a running supervisor as a table (state,
 * pid, uptime, restarts, last exit, health, readiness, and the reason for the state), or
 * the raw JSON of `/v3/status`. `-w` redraws the table every second until interrupted:
 * in place on a terminal, one table after another otherwise.
 */

import type { StatusSnapshot } from '../control/target.js';
import type { JobSnapshot } from '../jobs/state.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { ControlClient, failWith, runClient } from './client.js';
import { colourWanted, type Paint, painter, stateStyle, visibleLength } from './colour.js';

const WATCH_INTERVAL_MS = 1000;

export function status(args: ParsedArgs): Promise<number> {
  return runClient(async () => {
    const client = ControlClient.fromArgs(args);
    const watch = args.flags.w === true || args.flags.watch === true;
    if (watch && args.flags.json) throw new UsageError('-w and --json do not go together');
    const paint = painter(colourWanted(process.stdout));
    const inPlace = watch && process.stdout.isTTY === true && process.env.TERM !== 'dumb';
    for (;;) {
      const res = await client.call('GET', '/v3/status');
      if (res.status !== 200) failWith(res);
      if (args.flags.json) {
        process.stdout.write(`${JSON.stringify(res.json, null, 2)}\n`);
        return 0;
      }
      const table = formatStatus(res.json as StatusSnapshot, Date.now(), paint);
      // Home, the table, then clear what an older, longer table left below it.
      process.stdout.write(inPlace ? `\x1b[H${table.replace(/\n/g, '\x1b[K\n')}\x1b[J` : watch ? `${table}\n` : table);
      if (!watch) return 0;
      await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
    }
  });
}

/** Columns padded to their widest cell (as shown: colours take no room); the last is not padded. */
export function formatTable(header: readonly string[], rows: readonly string[][], paint: Paint = (t) => t): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i]!))));
  const line = (cells: readonly string[]): string =>
    `${cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c)))).join('  ')}\n`;
  return `${paint(line(header).trimEnd(), 'bold')}\n${rows.map(line).join('')}`;
}

export const STATUS_HEADER = [
  'JOB',
  'STATE',
  'PID',
  'UPTIME',
  'RESTARTS',
  'LAST EXIT',
  'HEALTH',
  'READY',
  'REASON',
] as const;

/** One job as the cells of STATUS_HEADER. */
export function statusRow(j: JobSnapshot, now: number, paint: Paint = (t) => t): string[] {
  return [
    j.name,
    paint(j.state, ...stateStyle(j.state)),
    j.pid === null ? '-' : String(j.pid),
    j.startedAt === null ? '-' : formatUptime(now - j.startedAt),
    String(j.restarts),
    lastExit(j),
    j.health === 'unhealthy' ? paint(j.health, 'red') : j.health,
    j.ready ? 'yes' : 'no',
    j.reason ?? '-',
  ];
}

export function statusHeadline(s: StatusSnapshot, now: number): string {
  const mode = s.maintenance ? ', maintenance mode' : s.shuttingDown ? ', shutting down' : '';
  return `pidpilot ${s.version}, pid ${s.pid}, up ${formatUptime(now - s.startedAt)}${mode}`;
}

export function formatStatus(s: StatusSnapshot, now: number, paint: Paint = (t) => t): string {
  return `${statusHeadline(s, now)}\n\n${formatTable(
    STATUS_HEADER,
    s.jobs.map((j) => statusRow(j, now, paint)),
    paint,
  )}`;
}

export function lastExit(j: JobSnapshot): string {
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
