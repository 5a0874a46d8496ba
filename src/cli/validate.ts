/**
 * `pidpilot validate [-config FILE]... [--json]`: check without running anything. With
 * several layers each error names the file (layer) and line its value came from.
 */

import { ConfigErrors } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { configWarnings } from '../config/validate/warnings.js';
import type { ParsedArgs } from './args.js';
import { configPath, reportConfigErrors } from './config-file.js';
import { checkStartup } from './preflight.js';

export function validate(args: ParsedArgs): number {
  const json = args.flags.json === true;
  const paths = configPath(args);
  const layers = paths.length > 1 ? { files: paths } : {};
  try {
    const config = loadConfig(paths, process.env);
    checkStartup(config, process.env);
    const warnings = configWarnings(config);
    if (json) {
      process.stdout.write(`${JSON.stringify({ valid: true, file: config.file, ...layers, errors: [], warnings })}\n`);
      return 0;
    }
    for (const warning of warnings) process.stderr.write(`${config.file}: warning: ${warning}\n`);
    process.stdout.write(
      `${paths.length > 1 ? paths.join(' + ') : config.file}: OK (${config.jobs.length} job${config.jobs.length === 1 ? '' : 's'}, ${config.watches.length} watch${config.watches.length === 1 ? '' : 'es'})\n`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    if (json) {
      process.stdout.write(`${JSON.stringify({ valid: false, file: paths[0], ...layers, ...err.toJSON() })}\n`);
      return 2;
    }
    return reportConfigErrors(err);
  }
}
