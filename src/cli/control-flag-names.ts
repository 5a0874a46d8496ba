/** ContainerPilot's flags that talk to a running supervisor instead of starting one (README.md). */
import type { ParsedArgs } from './args.js';

export const CONTROL_FLAG_NAMES = ['putenv', 'putmetric', 'maintenance', 'reload', 'ping'] as const;

export function hasControlFlag(args: ParsedArgs): boolean {
  return CONTROL_FLAG_NAMES.some((name) => args.flags[name] !== undefined && args.flags[name] !== false);
}
