/**
 * `pidpilot validate [-config FILE] [--json]`: check without running anything.
 */
import type { ParsedArgs } from './args.js';
import { configPath, reportConfigErrors } from './config-file.js';
import { ConfigErrors } from '../config/errors.js';
import { loadConfig } from '../config/load.js';

export function validate(args: ParsedArgs): number {
  const json = args.flags.json === true;
  const path = configPath(args);
  try {
    const config = loadConfig(path, process.env);
    if (json) process.stdout.write(`${JSON.stringify({ valid: true, file: config.file, errors: [] })}\n`);
    else process.stdout.write(`${config.file}: OK (${config.jobs.length} job${config.jobs.length === 1 ? '' : 's'}, ${config.watches.length} watch${config.watches.length === 1 ? '' : 'es'})\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    if (json) {
      process.stdout.write(`${JSON.stringify({ valid: false, file: path, ...err.toJSON() })}\n`);
      return 2;
    }
    return reportConfigErrors(err);
  }
}
