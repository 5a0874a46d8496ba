/**
 * Shared by the subcommands that read the configuration: find it, load it, and
 * print config errors the same way everywhere (exit status 2).
 */
import { resolve } from 'node:path';
import type { ConfigErrors } from '../config/errors.js';
import { findConfigPath } from '../config/load.js';
import type { ParsedArgs } from './args.js';

/**
 * The configuration file(s) the command names: every `-config`, in order (layers, see
 * src/config/layers.ts), else the one `findConfigPath` finds.
 */
export function configPath(args: ParsedArgs): string[] {
  const flags = args.flags.config;
  const given = Array.isArray(flags) ? flags.filter((f) => f !== '') : [];
  if (given.length > 1) return given.map((f) => resolve(f));
  return [findConfigPath({ flag: given[0], env: process.env, cwd: process.cwd() })];
}

/** Prints config errors, one per line, to stderr; returns the exit status for them. */
export function reportConfigErrors(err: ConfigErrors): number {
  const n = err.total;
  process.stderr.write(`pidpilot: ${n} configuration error${n === 1 ? '' : 's'}:\n`);
  for (const e of err.errors) process.stderr.write(`  ${e.toString()}\n`);
  return 2;
}
