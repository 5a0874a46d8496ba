/**
 * ContainerPilot's client flags (README.md): `-putenv K=V` (repeatable; `-putenv K`
 * unsets), `-putmetric K=V` (repeatable), `-maintenance enable|disable`, `-reload`,
 * `-ping`. Several may be given at once; they run in that order and the first
 * failure stops the rest.
 */
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { ControlClient, errorOf, fail, failWith, runClient } from './client.js';

function pairs(values: readonly string[], flag: string, allowBare: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const item of values) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new UsageError(`-${flag} ${item}: the name before "=" is empty`);
    if (eq === -1) {
      if (!allowBare) throw new UsageError(`-${flag} ${item}: expected NAME=VALUE`);
      out[item] = null;
    } else {
      out[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return out;
}

/** Checks the flags' values before anything is sent, so a usage error changes nothing. */
export function checkControlFlags(args: ParsedArgs): void {
  const m = args.flags.maintenance;
  if (m !== undefined && m !== 'enable' && m !== 'disable') {
    throw new UsageError(`-maintenance takes "enable" or "disable", got "${String(m)}"`);
  }
  pairs((args.flags.putenv as string[] | undefined) ?? [], 'putenv', true);
  pairs((args.flags.putmetric as string[] | undefined) ?? [], 'putmetric', false);
}

export function controlFlags(args: ParsedArgs): Promise<number> {
  checkControlFlags(args);
  return runClient(async () => {
    const client = ControlClient.fromArgs(args);
    const { flags } = args;
    if (flags.putenv) {
      const res = await client.call('POST', '/v3/env', pairs(flags.putenv as string[], 'putenv', true));
      if (res.status !== 200) fail(`-putenv: ${errorOf(res)}`);
    }
    if (flags.putmetric) {
      const res = await client.call('POST', '/v3/metric', pairs(flags.putmetric as string[], 'putmetric', false));
      if (res.status !== 200) fail(`-putmetric: ${errorOf(res)}`);
    }
    if (typeof flags.maintenance === 'string') {
      const res = await client.call('POST', `/v3/maintenance/${flags.maintenance}`);
      if (res.status !== 200) failWith(res);
      const updated = (res.json as { updated?: boolean } | undefined)?.updated;
      const mode = flags.maintenance === 'enable' ? 'on' : 'off';
      process.stdout.write(updated ? `maintenance mode ${mode}\n` : `maintenance mode was already ${mode}\n`);
    }
    if (flags.reload) {
      const res = await client.call('POST', '/v3/reload');
      if (res.status === 422) {
        const errors =
          (
            res.json as {
              errors?: Array<{ file: string; line?: number; column?: number; path: string; message: string }>;
            }
          ).errors ?? [];
        process.stderr.write(
          `pidpilot: reload refused, nothing was changed; ${errors.length} configuration error${errors.length === 1 ? '' : 's'}:\n`,
        );
        for (const e of errors) {
          const where = [e.file, e.line, e.column].filter((x) => x !== undefined).join(':');
          process.stderr.write(`  ${where}: ${e.path ? `${e.path}: ` : ''}${e.message}\n`);
        }
        return 2;
      }
      if (res.status !== 200) failWith(res);
      const r = res.json as {
        restarted: string[];
        started: string[];
        stopped: string[];
        unchanged: string[];
        notApplied: string[];
      };
      const list = (names: string[]): string => (names.length > 0 ? names.join(', ') : '-');
      process.stdout.write(
        `reloaded: restarted ${list(r.restarted)}; started ${list(r.started)}; stopped ${list(r.stopped)}; unchanged ${list(r.unchanged)}\n`,
      );
      if (r.notApplied.length > 0)
        process.stdout.write(`not applied until pidpilot restarts: ${r.notApplied.join(', ')}\n`);
    }
    if (flags.ping) {
      const res = await client.call('GET', '/v3/ping');
      if (res.status !== 200) failWith(res);
      process.stdout.write('ok\n');
    }
    return 0;
  });
}
