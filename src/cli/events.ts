/**
 * `pidpilot events [-n N] [-f]`: the event history a running supervisor keeps (docs/history.md),
 * and with `-f` what happens from now on. `--json` prints the records as the server sends
 * them (NDJSON). (`logs` is in logs.ts.)
 */

import type { StoredEvent } from '../state/types.js';
import type { ParsedArgs } from './args.js';
import { ControlClient, runClient } from './client.js';
import { historyQuery } from './logs.js';

export function events(args: ParsedArgs): Promise<number> {
  return runClient(async () => {
    const json = args.flags.json === true;
    await ControlClient.fromArgs(args).stream(`/v3/events${historyQuery(args)}`, (line) => {
      process.stdout.write(json ? `${line}\n` : formatEvent(JSON.parse(line) as StoredEvent));
    });
    return 0;
  });
}

export function formatEvent(e: StoredEvent): string {
  return `${new Date(e.time).toISOString()} ${String(e.seq).padStart(6)} ${e.code} ${e.source}${e.reason ? ` (${e.reason})` : ''}\n`;
}
