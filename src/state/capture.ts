/**
 * Capturing job output into `logs/<job>.log`: a LineWriter that passes every line to the
 * configured log (unchanged, with its back-pressure) and also hands it to the job's
 * capture target.
 *
 * Stored format, one line per output line: `<ms since epoch> <o|e> <the line's bytes>`.
 * Not JSON: the bytes are kept as they are (no UTF-8 decoding, no escaping); a reader
 * decodes the line as UTF-8.
 *
 * The hot path only keeps a reference to the chunk's lines (`CapturedChunk`); they are
 * encoded when written out, a few times a second. Under a flood, chunks that the file's
 * rotation would drop anyway are dropped before being encoded, so capturing costs what
 * the kept output costs, not what the job writes. Capture never pushes back on the child.
 */
import { joinLines, latin1Lines } from '../log/line-format.js';
import type { LineFormatter, LineWriter, OutputStream } from '../log/types.js';
import type { StoredLogLine } from './types.js';

/** A captured line longer than this is cut (the log itself still gets all of it). */
export const MAX_CAPTURED_LINE = 64 * 1024;

/** Whole lines `buf[start, end)` (ending with '\n', a '\r' before it not part of the line), or one line `buf[start, end)` without its '\n'. */
export interface CapturedChunk {
  time: number;
  stream: OutputStream;
  buf: Buffer;
  start: number;
  end: number;
  /** True: one line without '\n' (from a piece-wise line). */
  single: boolean;
}

/** Where one job's captured lines go (the store's side). */
export interface CaptureTarget {
  add(chunk: CapturedChunk): void;
  /** True when someone follows this job's output live: lines are then also handed over decoded. */
  readonly followed: boolean;
  emit(line: StoredLogLine): void;
}

const STREAM_CHAR: Record<OutputStream, string> = { stdout: 'o', stderr: 'e' };
const NEWLINE = Buffer.from('\n');

/** The stored lines of a chunk, ready to append. */
export function encodeChunk(c: CapturedChunk): Buffer {
  const prefix = `${c.time} ${STREAM_CHAR[c.stream]} `;
  if (c.single) return Buffer.concat([Buffer.from(prefix), c.buf.subarray(c.start, c.end), NEWLINE]);
  return Buffer.from(joinLines(latin1Lines(c.buf, c.start, c.end), prefix, '\n'), 'latin1');
}

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
  constructor(
    private readonly inner: LineFormatter | null,
    private readonly target: CaptureTarget,
    private readonly job: string,
    private readonly stream: OutputStream,
  ) {}

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
    this.target.add({ time, stream: this.stream, buf, start, end, single: false });
    if (this.target.followed) {
      for (const line of buf.toString('utf8', start, end - 1).split('\n')) {
        // Same '\r' rule as the log: one before a '\n' is not part of the line.
        this.target.emit({
          time,
          job: this.job,
          stream: this.stream,
          line: line.endsWith('\r') ? line.slice(0, -1) : line,
        });
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
    const parts: Buffer[] = [];
    let room = MAX_CAPTURED_LINE;
    for (const p of pieces) {
      if (room <= 0) break;
      const part = p.length > room ? p.subarray(0, room) : p;
      parts.push(part);
      room -= part.length;
    }
    const body = Buffer.concat(parts);
    this.target.add({ time, stream: this.stream, buf: body, start: 0, end: body.length, single: true });
    if (this.target.followed)
      this.target.emit({ time, job: this.job, stream: this.stream, line: body.toString('utf8') });
  }
}

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
