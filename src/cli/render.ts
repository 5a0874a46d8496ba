/**
 * `pidpilot -template [-out FILE]` and `pidpilot render`: print the configuration
 * after template rendering, exactly as it will be parsed.
 */
import { writeFileSync } from 'node:fs';
import { ConfigErrors } from '../config/errors.js';
import { renderConfigFile } from '../config/load.js';
import type { ParsedArgs } from './args.js';
import { configPath, reportConfigErrors } from './config-file.js';

export function render(args: ParsedArgs): number {
  const path = configPath(args);
  let text: string;
  try {
    text = renderConfigFile(path, process.env);
  } catch (err) {
    if (err instanceof ConfigErrors) return reportConfigErrors(err);
    throw err;
  }
  const out = args.flags.out;
  if (typeof out === 'string') writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}
