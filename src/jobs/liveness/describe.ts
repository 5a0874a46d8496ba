import type { RunRecord } from '../../process/types.js';

/** How a run ended, in words: `exit code 1`, `killed by SIGKILL`, or its reason (`timeout`). */
export function describeExit(record: Pick<RunRecord, 'code' | 'signal' | 'reason'>): string {
  return record.reason ?? (record.signal ? `killed by ${record.signal}` : `exit code ${record.code}`);
}
