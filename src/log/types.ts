/**
 * Logging contracts. pino does the supervisor's own logging; job output lines take a
 * pre-formatted fast path into the same sink (see log/relay.ts), because they are the
 * hot path (hundreds of thousands of lines per second).
 */
import type { Logger } from 'pino';

export type { Logger };

/** Where all log output goes. Shared by pino and the job-output relay, so lines never interleave mid-line. */
export interface LogSink {
  /**
   * Queue bytes for writing. Returns false when the sink is above its high-water
   * mark: the caller should stop producing until 'drain'.
   */
  write(chunk: Buffer | string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  /** Reopen the output file (SIGUSR1, for logrotate). No-op for stdout/stderr. */
  reopen(): void;
  /** Write everything queued, synchronously (used at exit); never hangs on a closed output. */
  flushSync(): void;
  /** Wait (at most `timeoutMs`) until everything queued is written; true if it was. */
  drain(timeoutMs: number): Promise<boolean>;
}

/** Which of a child's output streams a line came from. */
export type OutputStream = 'stdout' | 'stderr';

/**
 * Formats job output lines (INFO level, with the job name and stream attached) in the
 * configured format and hands them to the sink. Made by `createLogger()`; used by `relayLines()`.
 */
export interface LineWriter {
  readonly sink: LogSink;
  /** False when the configured level is above INFO: job output is then read and discarded. */
  readonly enabled: boolean;
  /** A formatter for one output stream of one job (it caches that stream's prefix). */
  open(job: string, stream: OutputStream): LineFormatter;
}

export interface LineFormatter {
  /**
   * Log every line in `buf[start, end)`. The range holds whole lines only: it ends just
   * after a `'\n'`. A `'\r'` before a `'\n'` is dropped. The lines go to the sink in one
   * write. Returns that write's result (false: wait for 'drain').
   */
  writeLines(buf: Buffer, start: number, end: number): boolean;
  /**
   * Log one line given as consecutive pieces (no terminator). `partial`: the line was cut
   * at the length cap and continues in the next line written for this stream.
   * Returns false when the sink is above its high-water mark.
   */
  writeLine(pieces: readonly Buffer[], partial: boolean): boolean;
}
