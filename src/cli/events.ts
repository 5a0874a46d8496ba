/**
 * `pidpilot events [-f]` and `pidpilot logs JOB [-f]`: the history a running supervisor
 * keeps (SPEC §7), and with `-f` what happens from now on. `--json` prints the records
 * as the server sends them (NDJSON).
 */
import type { ParsedArgs } from './args.js';
import { ControlClient, runClient } from './client.js';
import type { StoredEvent, StoredLogLine } from '../state/types.js';

function follows(args: ParsedArgs): boolean {
  return args.flags.f === true || args.flags.follow === true;
}

function query(args: ParsedArgs): string {
  return follows(args) ? '?follow=1' : '';
}

export function events(args: ParsedArgs): Promise<number> {
  return runClient(async () => {
    const json = args.flags.json === true;
    await ControlClient.fromArgs(args).stream(`/v3/events${query(args)}`, (line) => {
      process.stdout.write(json ? `${line}\n` : formatEvent(JSON.parse(line) as StoredEvent));
    });
    return 0;
  });
}

export function logs(args: ParsedArgs, job: string): Promise<number> {
  return runClient(async () => {
    const json = args.flags.json === true;
    await ControlClient.fromArgs(args).stream(`/v3/jobs/${encodeURIComponent(job)}/logs${query(args)}`, (line) => {
      process.stdout.write(json ? `${line}\n` : `${(JSON.parse(line) as StoredLogLine).line}\n`);
    });
    return 0;
  });
}

export function formatEvent(e: StoredEvent): string {
  return `${new Date(e.time).toISOString()} ${String(e.seq).padStart(6)} ${e.code} ${e.source}${e.reason ? ` (${e.reason})` : ''}\n`;
}
