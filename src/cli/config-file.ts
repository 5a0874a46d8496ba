/**
 * Shared by the subcommands that read the configuration: find it, load it, and
 * print config errors the same way everywhere (exit status 2).
 */
import type { ParsedArgs } from './args.js';
import { ConfigErrors } from '../config/errors.js';
import { findConfigPath } from '../config/load.js';

export function configPath(args: ParsedArgs): string {
  return findConfigPath({
    flag: typeof args.flags.config === 'string' ? args.flags.config : undefined,
    env: process.env,
    cwd: process.cwd(),
  });
}

/** Prints config errors, one per line, to stderr; returns the exit status for them. */
export function reportConfigErrors(err: ConfigErrors): number {
  const n = err.errors.length;
  process.stderr.write(`pidpilot: ${n} configuration error${n === 1 ? '' : 's'}:\n`);
  for (const e of err.errors) process.stderr.write(`  ${e.toString()}\n`);
  return 2;
}
