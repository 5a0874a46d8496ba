/**
 * Relays a child's output stream into the log, line by line — the hot path.
 *
 * Per chunk: the first '\n' completes a line carried over from earlier chunks, every
 * whole line between it and the last '\n' goes to the formatter in one call (one output
 * Buffer, one sink write), and the rest is carried over. A carried-over line is kept as
 * a list of the chunks it came in (never re-copied while it grows) and is capped: beyond
 * `maxLineBytes` it is emitted in cap-sized pieces marked partial, so a stream without
 * newlines holds at most one cap plus one chunk.
 *
 * Back-pressure: when the sink is above its high-water mark nothing more is read until
 * 'drain', so a job writing as fast as it can is slowed to the sink's speed (its pipe
 * fills and its writes block) instead of being buffered here.
 */
import type { Readable } from 'node:stream';
import type { LineFormatter, LineWriter, OutputStream } from './types.js';

/** Longest line held in memory before it is emitted in pieces: 16 MiB. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Largest run of whole lines formatted in one call. */
const SLICE = 256 * 1024;

export interface RelayOptions {
  job: string;
  stream: OutputStream;
  writer: LineWriter;
  /** Cap on a buffered partial line. Default `MAX_LINE_BYTES`. */
  maxLineBytes?: number;
}

/**
 * Reads `stream` to its end, logging each line (INFO, with job and stream). Resolves when
 * the stream has ended (or failed, or was destroyed) and every line was handed to the
 * sink — a final line without '\n' included. Never rejects.
 */
export function relayLines(stream: Readable, opts: RelayOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    new Relay(stream, opts, resolve).start();
  });
}

class Relay {
  private readonly fmt: LineFormatter;
  private readonly cap: number;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private waiting = false;
  private done = false;

  constructor(
    private readonly stream: Readable,
    private readonly opts: RelayOptions,
    private readonly resolve: () => void,
  ) {
    this.fmt = opts.writer.open(opts.job, opts.stream);
    this.cap = Math.max(1, opts.maxLineBytes ?? MAX_LINE_BYTES);
  }

  start(): void {
    const s = this.stream;
    if (s.readableEnded || s.destroyed) {
      this.finish();
      return;
    }
    // Paused mode ('readable' + read()), not 'data' + pause(): child_process resumes a
    // child's stdout/stderr when the child exits unless a 'readable' listener is attached,
    // which would defeat a pause(). Here bytes are only taken when there is room for them.
    s.on('readable', this.pump);
    s.once('end', this.finish);
    // A read error or a destroyed stream ends the relay too; listening also keeps an
    // 'error' from becoming an uncaught exception.
    s.once('error', this.finish);
    s.once('close', this.finish);
  }

  /** Takes what the stream has buffered, until it is empty or the sink is full. */
  private readonly pump = (): void => {
    if (this.waiting || this.done) return;
    const s = this.stream;
    for (let data: Buffer | string | null = s.read(); data !== null; data = s.read()) {
      if (!this.handle(typeof data === 'string' ? Buffer.from(data) : data)) {
        this.waiting = true;
        this.opts.writer.sink.once('drain', this.onDrain);
        return;
      }
    }
  };

  private readonly onDrain = (): void => {
    this.waiting = false;
    this.pump();
  };

  /** Logs the lines of one chunk; false when the sink asks to wait for 'drain'. */
  private handle(chunk: Buffer): boolean {
    if (!this.opts.writer.enabled) {
      // Level above INFO: drain and discard.
      this.pending = [];
      this.pendingLen = 0;
      return true;
    }
    let ok = true;
    const first = chunk.indexOf(10);
    if (first === -1) {
      if (!this.addPending(chunk)) ok = false;
    } else {
      let pos = 0;
      if (this.pendingLen > 0) {
        if (!this.finishLine(chunk.subarray(0, first), true)) ok = false;
        pos = first + 1;
      }
      const last = chunk.lastIndexOf(10);
      if (last >= pos) {
        const whole = this.writeWhole(chunk, pos, last + 1, ok);
        if (whole.stop <= last) {
          // The sink filled up in the middle of a big chunk: put the rest back, to be
          // read again after 'drain'. It starts at a line boundary, like a fresh chunk.
          this.stream.unshift(chunk.subarray(whole.stop));
          return false;
        }
        ok = whole.ok;
        pos = last + 1;
      }
      if (pos < chunk.length && !this.addPending(chunk.subarray(pos))) ok = false;
    }
    return ok;
  }

  /**
   * Whole lines `buf[start, end)`; `end` follows a '\n'. `ok`: the sink has room so far.
   * Returns where it stopped — `end`, or earlier when the sink asked to wait and the rest
   * is better left unread — and whether the sink still has room.
   */
  private writeWhole(buf: Buffer, start: number, end: number, ok: boolean): { stop: number; ok: boolean } {
    // A pipe delivers at most 64 KiB per chunk, so this is one call. A bigger chunk (from
    // some other stream) is cut at newlines into slices of at most SLICE bytes, so that
    // the formatted output of one call stays small (64 MiB of empty lines would otherwise
    // become a string longer than V8 allows, and many times the sink's queue), and a line
    // over the cap takes the capped path. Between slices, back-pressure is honoured.
    const slice = Math.min(SLICE, this.cap);
    let s = start;
    while (s < end) {
      if (!ok && s > start) return { stop: s, ok };
      if (end - s <= slice) {
        ok = this.fmt.writeLines(buf, s, end);
        break;
      }
      const cut = buf.lastIndexOf(10, s + slice - 1);
      if (cut >= s) {
        ok = this.fmt.writeLines(buf, s, cut + 1);
        s = cut + 1;
        continue;
      }
      // One line longer than the slice starts at s.
      const nl = buf.indexOf(10, s + slice);
      if (nl - s <= this.cap) {
        ok = this.fmt.writeLines(buf, s, nl + 1);
      } else {
        const a = this.addPending(buf.subarray(s, nl));
        ok = this.finishLine(buf.subarray(nl, nl), true) && a;
      }
      s = nl + 1;
    }
    return { stop: end, ok };
  }

  /** Carries `buf` over; emits cap-sized partial pieces while more than the cap is held. */
  private addPending(buf: Buffer): boolean {
    if (buf.length === 0) return true;
    this.pending.push(buf);
    this.pendingLen += buf.length;
    let ok = true;
    while (this.pendingLen > this.cap) {
      const piece: Buffer[] = [];
      let need = this.cap;
      while (need > 0) {
        const b = this.pending[0];
        if (b.length <= need) {
          piece.push(b);
          this.pending.shift();
          need -= b.length;
        } else {
          piece.push(b.subarray(0, need));
          this.pending[0] = b.subarray(need);
          need = 0;
        }
      }
      this.pendingLen -= this.cap;
      if (!this.fmt.writeLine(piece, true)) ok = false;
    }
    return ok;
  }

  /** Emits the carried-over line completed by `head`; `terminated`: it ended with '\n'. */
  private finishLine(head: Buffer, terminated: boolean): boolean {
    let ok = this.addPending(head);
    const parts = this.pending;
    this.pending = [];
    this.pendingLen = 0;
    if (parts.length === 0) return ok;
    if (terminated) {
      const lastPart = parts[parts.length - 1];
      if (lastPart[lastPart.length - 1] === 13) parts[parts.length - 1] = lastPart.subarray(0, lastPart.length - 1);
    }
    if (!this.fmt.writeLine(parts, false)) ok = false;
    return ok;
  }

  private readonly finish = (): void => {
    if (this.done) return;
    this.done = true;
    const s = this.stream;
    s.off('readable', this.pump);
    s.off('end', this.finish);
    s.off('close', this.finish);
    s.off('error', this.finish);
    // Keep swallowing late errors of a stream nobody else listens to.
    s.on('error', noop);
    if (this.pendingLen > 0 && this.opts.writer.enabled) this.finishLine(Buffer.alloc(0), false);
    this.pending = [];
    this.pendingLen = 0;
    this.resolve();
  };
}

function noop(): void {}
