/**
 * Names and numbers derived from jobs, shared by the supervisor and the CLI.
 */
import { constants } from 'node:os';
import type { RunRecord } from '../process/types.js';

/** `CONTAINERPILOT_{JOB}_PID`: job name upper-cased, `-` → `_` (ContainerPilot's spelling). */
export function pidEnvName(job: string): string {
  return `CONTAINERPILOT_${envNamePart(job)}_PID`;
}

export function envNamePart(job: string): string {
  return job.toUpperCase().replace(/-/g, '_');
}

/** A run's exit status as a shell reports it: the code, or 128 + signal number if it was killed. */
export function exitStatusOf(record: Pick<RunRecord, 'code' | 'signal'>): number {
  if (record.code !== null) return record.code;
  if (record.signal !== null) return 128 + (constants.signals[record.signal] ?? 0);
  return 1;
}
