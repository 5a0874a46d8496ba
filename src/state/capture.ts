/**
 * Capturing job output into `logs/<job>.log`: a LineWriter that passes every line to the
 * configured log (unchanged, with its back-pressure) and also appends it to the job's file.
 *
 * Stored format, one line per output line: `<ms since epoch> <o|e> <the line's bytes>`.
 * Not JSON: the bytes are copied as they are (no UTF-8 decoding, no escaping), at the
 * cost of one more prefix per line — the same latin1 join the default log format uses.
 * A reader decodes the line as UTF-8 then. Capture never pushes back on the child: it
 * only queues bytes, and the store writes them out once per batch.
 */
import { joinLines, latin1Lines } from '../log/lines.js';
import type { LineFormatter, LineWriter, OutputStream } from '../log/types.js';
import type { StoredLogLine } from './types.js';

/** A captured line longer than this is cut (the log itself still gets all of it). */
export const MAX_CAPTURED_LINE = 64 * 1024;

/** Where one job's captured lines go (the store's side). */
export interface CaptureTarget {
  /** Whole stored lines, each ending with '\n'. */
  write(data: Buffer): void;
  /** True when someone follows this job's output live: lines are then also handed over decoded. */
  readonly followed: boolean;
  emit(line: StoredLogLine): void;
}

const STREAM_CHAR: Record<OutputStream, string> = { stdout: 'o', stderr: 'e' };

/** Parses one stored line; null when it is not one. */
export function parseLogLine(job: string, text: string): StoredLogLine | null {
  const a = text.indexOf(' ');
  if (a <= 0 || text.length < a + 3 || text[a + 2] !== ' ') return null;
  const time = Number(text.slice(0, a));
  const s = text[a + 1];
  if (!Number.isSafeInteger(time) || (s !== 'o' && s !== 'e')) return null;
  return { time, job, stream: s === 'o' ? 'stdout' : 'stderr', line: text.slice(a + 3) };
}

class CaptureFormatter implements LineFormatter {
  private readonly tag: string;

  constructor(
    private readonly inner: LineFormatter | null,
    private readonly target: CaptureTarget,
    private readonly job: string,
    private readonly stream: OutputStream,
  ) {
    this.tag = ` ${STREAM_CHAR[stream]} `;
  }

  writeLines(buf: Buffer, start: number, end: number): boolean {
    const ok = this.inner ? this.inner.writeLines(buf, start, end) : true;
    const time = Date.now();
    if (end - start > MAX_CAPTURED_LINE) {
      // Only from a stream with chunks bigger than a pipe's: line by line, each one cut.
      for (let s = start; s < end; ) {
        const nl = buf.indexOf(10, s);
        const e = nl > s && buf[nl - 1] === 13 ? nl - 1 : nl;
        this.captureOne(time, [buf.subarray(s, e)]);
        s = nl + 1;
      }
      return ok;
    }
    const text = latin1Lines(buf, start, end);
    this.target.write(Buffer.from(joinLines(text, `${time}${this.tag}`, '\n'), 'latin1'));
    if (this.target.followed) {
      // Same '\r' rule as the log: one before a '\n' is not part of the line.
      for (const line of Buffer.from(text, 'latin1').toString('utf8').split('\n')) {
        this.target.emit({ time, job: this.job, stream: this.stream, line: line.endsWith('\r') ? line.slice(0, -1) : line });
      }
    }
    return ok;
  }

  writeLine(pieces: readonly Buffer[], partial: boolean): boolean {
    const ok = this.inner ? this.inner.writeLine(pieces, partial) : true;
    this.captureOne(Date.now(), pieces);
    return ok;
  }

  /** One line given in pieces (no '\n'), cut at MAX_CAPTURED_LINE. */
  private captureOne(time: number, pieces: readonly Buffer[]): void {
    const parts: Buffer[] = [Buffer.from(`${time}${this.tag}`)];
    let room = MAX_CAPTURED_LINE;
    for (const p of pieces) {
      if (room <= 0) break;
      const part = p.length > room ? p.subarray(0, room) : p;
      parts.push(part);
      room -= part.length;
    }
    parts.push(NEWLINE);
    this.target.write(Buffer.concat(parts));
    if (this.target.followed) {
      const line = Buffer.concat(parts.slice(1, -1)).toString('utf8');
      this.target.emit({ time, job: this.job, stream: this.stream, line });
    }
  }
}

const NEWLINE = Buffer.from('\n');

/** Wraps `inner` so that every job's output is also captured by `targetFor(job)`. */
export function captureWriter(inner: LineWriter, targetFor: (job: string) => CaptureTarget | null): LineWriter {
  return {
    sink: inner.sink,
    // Lines are read even when the log level hides them, so that they are still captured.
    enabled: true,
    open(job: string, stream: OutputStream): LineFormatter {
      const formatter = inner.enabled ? inner.open(job, stream) : null;
      const target = targetFor(job);
      if (target === null) return formatter ?? DISCARD;
      return new CaptureFormatter(formatter, target, job, stream);
    },
  };
}

const DISCARD: LineFormatter = {
  writeLines: () => true,
  writeLine: () => true,
};
