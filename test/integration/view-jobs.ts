/**
 * The small project the two live views (`pidpilot top` in a terminal, `pidpilot ui` in a
 * browser) are tested on: a healthy `db` with output, and `web` that depends on it and
 * prints its own PID, so a restart shows as a new PID in the table and in the output.
 */
import type { Harness } from './support.js';

export function viewJobs(h: Harness): Record<string, unknown>[] {
  return [
    {
      name: 'db',
      exec: ['sh', '-c', `echo db ready; exec sleep ${h.uniqueArg()}`],
      health: { exec: 'true', interval: 1, ttl: 5 },
    },
    {
      name: 'web',
      exec: ['sh', '-c', `echo "web serving as $$"; exec sleep ${h.uniqueArg()}`],
      dependsOn: ['db'],
    },
  ];
}
