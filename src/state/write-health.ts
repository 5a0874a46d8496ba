/**
 * Whether the history can be written (docs/history.md), said once per outage: a full disk makes
 * every batch fail (several a second, for as long as it lasts), and a log line per failure
 * would fill what is left of the log. The first failure is a warning, the records dropped
 * meanwhile are counted (`pidpilot_history_dropped_records_total`), and the first write that
 * works again, once no write has failed for RECOVERY_QUIET_MS, is said too (with the count):
 * a disk that flaps between full and not is one outage, not a stream of lines.
 */

/** A write that works this long after the last failure ends the outage. */
export const RECOVERY_QUIET_MS = 1000;

/** `ENOSPC: no space left on device, write` as Node says it, without repeating the code. */
export function describeWriteError(err: NodeJS.ErrnoException): string {
  const code = err.code ?? 'EIO';
  return err.message.startsWith(code) ? err.message : `${code}: ${err.message}`;
}

export class WriteHealth {
  /** Records (events, run records, output lines) dropped because they could not be written, since start. */
  dropped = 0;
  private lastFailure: number | null = null;
  private droppedAtStart = 0;

  constructor(
    private readonly warn: (message: string) => void,
    private readonly info: (message: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get failing(): boolean {
    return this.lastFailure !== null;
  }

  /** A batch of `records` could not be written to `file`. */
  failed(err: NodeJS.ErrnoException, file: string, records: number): void {
    this.dropped += records;
    if (this.lastFailure === null) {
      this.droppedAtStart = this.dropped - records;
      this.warn(
        `history: writing ${file} failed (${describeWriteError(err)}); records are dropped and counted (pidpilot_history_dropped_records_total) until writing works again, which will be said once`,
      );
    }
    this.lastFailure = this.now();
  }

  /** A batch was written. */
  written(): void {
    if (this.lastFailure === null || this.now() - this.lastFailure < RECOVERY_QUIET_MS) return;
    this.lastFailure = null;
    this.info(`history: writing works again (${this.dropped - this.droppedAtStart} records were dropped meanwhile)`);
  }
}
