/**
 * The one place log bytes leave the process. pino and the job-output relay both write
 * here, so lines never interleave mid-line (each `write()` is queued whole, in call order).
 *
 * Built on sonic-boom (pino's own destination) in asynchronous, buffer mode: bytes are
 * queued as Buffers and never re-encoded, so binary job output survives. This wrapper adds
 * what a PID 1 needs on top:
 * - a bounded high-water mark with hysteresis: `write()` returns false once `highWaterMark`
 *   bytes are queued, and 'drain' fires when the queue is back under `lowWaterMark`;
 * - a blocking descriptor for a stdout/stderr pipe (see `openStdio`, stdio-fd.ts), so a full pipe
 *   blocks a libuv worker instead of spinning on EAGAIN;
 * - write errors never throw: EPIPE/EBADF (the reader is gone) drops all further output,
 *   other errors drop what was queued and carry on with a fresh descriptor; either is
 *   noted once on stderr;
 * - `reopen()` for logrotate: new writes go to a newly opened file at the same path
 *   while the old descriptor finishes its queue and is closed.
 */
import { EventEmitter } from 'node:events';
import { openSync, writeSync } from 'node:fs';
import sonicBoom, { type SonicBoomOpts } from 'sonic-boom';
import { openStdio } from './stdio-fd.js';
import type { LogSink } from './types.js';

/** The part of sonic-boom used here (its published types lack Buffer writes and events). */
interface Boom {
  write(data: Buffer): boolean;
  end(): void;
  destroy(): void;
  on(event: 'write', listener: (n: number) => void): unknown;
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

// sonic-boom is CommonJS: the default import is its module.exports, the constructor.
const SonicBoomCtor = sonicBoom as unknown as new (opts: SonicBoomOpts) => Boom;

/**
 * sonic-boom's queue in buffer mode (internal fields of sonic-boom 4). `flushSync()` reads
 * them because sonic-boom's own flushSync retries every write error other than EAGAIN
 * forever: a PID 1 whose log reader went away would hang at exit (EPIPE every 100 ms).
 *
 * Why reach into it rather than own a write queue: sonic-boom ships in the bundle anyway
 * (pino requires it), and its asynchronous path (partial writes, EAGAIN, coalescing up to
 * `maxWrite`, end/close ordering) is pino's production code, exercised far more than a
 * queue of our own would be; what we read is six fields, at exit only. So package.json pins
 * sonic-boom exactly (no caret: an upgrade is a deliberate edit), and
 * test/unit/log/sink.test.ts ("sonic-boom internals") fails if these fields change shape.
 */
interface BoomQueue {
  fd: number;
  _writing: boolean;
  _writingBuf: Buffer;
  _bufs: Buffer[][];
  _lens: number[];
  _len: number;
}

/** How long `flushSync()` keeps retrying a full non-blocking output (EAGAIN) before it drops. */
const FLUSH_SYNC_EAGAIN_MS = 1000;

/** One descriptor and the bytes queued on it. */
interface Writer {
  boom: Boom;
  queued: number;
  /** `end()` was called: it writes its queue, then closes. */
  ending: boolean;
  closed: boolean;
}

export interface SinkOptions {
  /** Queue size (bytes) at which `write()` starts returning false. Default 1 MiB. */
  highWaterMark?: number;
  /** 'drain' fires when the queue falls to this. Default `highWaterMark / 2`. */
  lowWaterMark?: number;
  /**
   * Hard bound on queued bytes: beyond it writes are dropped (noted once per episode).
   * Relays respect the high-water mark, so only writers that ignore it (pino) can reach
   * this, when the output stops taking bytes altogether. Default 64 MiB.
   */
  limit?: number;
  /**
   * For stdout/stderr pipes: write through a blocking descriptor of our own
   * (`/proc/self/fd/N`) instead of the shared one. Default true. See `openStdio`.
   */
  reopenPipes?: boolean;
  /** Where the sink notes its own troubles. Default: a synchronous write to fd 2. */
  warn?: (message: string) => void;
}

const DEFAULT_HWM = 1024 * 1024;
const DEFAULT_LIMIT = 64 * 1024 * 1024;
// sonic-boom coalesces queued writes into groups of up to this many bytes, one syscall
// each. Its 16 KiB default suits pino's small lines; relay chunks are 64 KiB and more.
// (bench/log-relay.mjs: 16 KiB vs 256 KiB vs 1 MiB differ by less than the noise.)
const MAX_WRITE = 256 * 1024;
/** Errors after which the output can never take bytes again. */
const PERMANENT = new Set(['EPIPE', 'EBADF', 'ECONNRESET']);

function warnStderr(message: string): void {
  try {
    writeSync(2, `pidpilot: ${message}\n`);
  } catch {
    // stderr itself is gone: nothing more can be done.
  }
}

export class Sink extends EventEmitter implements LogSink {
  /** 'stdout', 'stderr' or the file path, as configured. */
  readonly output: string;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly limit: number;
  /** Largest number of bytes ever queued at once (for tests and diagnostics). */
  maxQueued = 0;
  /** Bytes dropped: after a write error, with the output gone (EPIPE), or beyond `limit`. */
  dropped = 0;

  private readonly stdioFd: 1 | 2 | undefined;
  private readonly reopenPipes: boolean;
  private readonly warn: (message: string) => void;
  private current: Writer | null;
  /** Writers replaced by `reopen()` that are still writing their queue. */
  private readonly retiring: Writer[] = [];
  private queuedBytes = 0;
  private wantDrain = false;
  /** Output gone for good (EPIPE): everything is dropped. */
  private dead = false;
  private noted = false;
  private overflowing = false;
  private idleWaiters: (() => void)[] = [];

  constructor(output: string, opts: SinkOptions = {}) {
    super();
    // Every job's relay may wait for 'drain' at once.
    this.setMaxListeners(0);
    this.output = output;
    this.highWaterMark = opts.highWaterMark ?? DEFAULT_HWM;
    this.lowWaterMark = Math.min(opts.lowWaterMark ?? Math.floor(this.highWaterMark / 2), this.highWaterMark);
    this.limit = Math.max(opts.limit ?? DEFAULT_LIMIT, this.highWaterMark);
    this.reopenPipes = opts.reopenPipes ?? true;
    this.warn = opts.warn ?? warnStderr;
    const lower = output.toLowerCase();
    this.stdioFd = lower === 'stdout' ? 1 : lower === 'stderr' ? 2 : undefined;
    // Open a file synchronously so that a bad path is an error at start-up, not later.
    this.current = this.makeWriter(this.openFd());
  }

  /** Bytes queued and not yet written. */
  get queued(): number {
    return this.queuedBytes;
  }

  write(chunk: Buffer | string): boolean {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const w = this.current;
    if (this.dead || w === null) {
      this.dropped += buf.length;
      return true;
    }
    if (buf.length === 0) return this.queuedBytes < this.highWaterMark;
    if (this.queuedBytes + buf.length > this.limit) {
      this.dropped += buf.length;
      if (!this.overflowing) {
        this.overflowing = true;
        this.warn(
          `log output ${this.output} is not taking bytes (${this.queuedBytes} queued); dropping log output until it catches up`,
        );
      }
      this.wantDrain = true;
      return false;
    }
    w.queued += buf.length;
    this.queuedBytes += buf.length;
    if (this.queuedBytes > this.maxQueued) this.maxQueued = this.queuedBytes;
    w.boom.write(buf);
    if (this.queuedBytes >= this.highWaterMark) {
      this.wantDrain = true;
      return false;
    }
    return true;
  }

  reopen(): void {
    if (this.stdioFd !== undefined) return;
    let fd: number;
    try {
      fd = this.openFd();
    } catch (err) {
      this.warn(`cannot reopen log file ${this.output}: ${(err as Error).message}; still writing to the old one`);
      return;
    }
    const old = this.current;
    this.current = this.makeWriter(fd);
    this.dead = false;
    if (old !== null) {
      this.retiring.push(old);
      // Writes what it still has queued to the old (rotated) file, then closes it.
      old.ending = true;
      old.boom.end();
    }
  }

  /**
   * Writes what is queued, synchronously, for exit paths. Never hangs on a closed output:
   * any write error drops the rest. Prefer `drain()` first: a chunk whose asynchronous
   * write is still in flight cannot be waited for here, so lines queued after it could
   * land before it.
   */
  flushSync(): void {
    // Oldest first: a writer retired by reopen() holds earlier lines.
    for (const w of [...this.retiring, this.current]) {
      // Nothing queued: nothing to do (and an ended writer may already be torn down).
      if (w === null || w.closed || w.queued === 0) continue;
      const q = w.boom as unknown as BoomQueue;
      const pending = q._bufs.flat();
      if (!q._writing && q._writingBuf.length > 0) pending.unshift(q._writingBuf);
      q._bufs = [];
      q._lens = [];
      q._len = 0;
      if (!q._writing) q._writingBuf = Buffer.alloc(0);
      const written = writeAllSync(q.fd, pending);
      if (written instanceof Error) this.onError(w, written);
      else this.release(w, written);
    }
  }

  /**
   * Waits until everything queued so far is written, at most `timeoutMs`. Resolves true when
   * the queue emptied; false when the output did not take it in time (a stuck reader).
   */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.queuedBytes === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      void this.flush().then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Resolves once everything queued so far has been written (or dropped). */
  flush(): Promise<void> {
    if (this.queuedBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued, then closes the descriptor(s). Stdout/stderr stay open. */
  async close(): Promise<void> {
    await this.flush();
    const all = [...this.retiring, this.current].filter((w): w is Writer => w !== null && !w.closed);
    this.current = null;
    this.dead = true;
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.closed) {
              resolve();
              return;
            }
            w.boom.on('close', resolve);
            if (!w.ending) {
              w.ending = true;
              w.boom.end();
            }
          }),
      ),
    );
  }

  private openFd(): number {
    if (this.stdioFd !== undefined) return openStdio(this.stdioFd, this.reopenPipes);
    return openSync(this.output, 'a');
  }

  private makeWriter(fd: number): Writer {
    const boom = new SonicBoomCtor({ fd, sync: false, contentMode: 'buffer', maxWrite: MAX_WRITE });
    const w: Writer = { boom, queued: 0, ending: false, closed: false };
    boom.on('write', (n) => {
      this.noted = false;
      this.release(w, n);
    });
    boom.on('error', (err) => this.onError(w, err));
    boom.on('close', () => {
      w.closed = true;
      this.release(w, w.queued);
      const i = this.retiring.indexOf(w);
      if (i !== -1) this.retiring.splice(i, 1);
    });
    return w;
  }

  private release(w: Writer, n: number): void {
    const d = Math.min(n, w.queued);
    w.queued -= d;
    this.queuedBytes -= d;
    if (this.queuedBytes <= this.lowWaterMark) {
      this.overflowing = false;
      if (this.wantDrain) {
        this.wantDrain = false;
        this.emit('drain');
      }
    }
    if (this.queuedBytes === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private onError(w: Writer, err: NodeJS.ErrnoException): void {
    if (w.closed) return;
    const code = err.code ?? 'EIO';
    const lost = w.queued;
    this.dropped += lost;
    w.closed = true;
    try {
      w.boom.destroy();
    } catch {
      // already destroyed
    }
    const permanent = PERMANENT.has(code) && w === this.current;
    if (permanent) {
      this.dead = true;
      this.current = null;
      this.warn(`log output ${this.output} is closed (${code}); further log output is dropped`);
    } else {
      if (!this.noted) {
        this.noted = true;
        this.warn(`writing log output ${this.output} failed (${code}: ${err.message}); ${lost} bytes dropped`);
      }
      if (w === this.current) {
        try {
          this.current = this.makeWriter(this.openFd());
        } catch (openErr) {
          this.current = null;
          this.warn(
            `cannot reopen log output ${this.output}: ${(openErr as Error).message}; log output is dropped until the next reopen`,
          );
        }
      } else {
        const i = this.retiring.indexOf(w);
        if (i !== -1) this.retiring.splice(i, 1);
      }
    }
    this.release(w, lost);
  }
}

/** Writes `bufs` to `fd` in order; returns the bytes written, or the error that stopped it. */
function writeAllSync(fd: number, bufs: readonly Buffer[]): number | NodeJS.ErrnoException {
  let total = 0;
  let giveUpAt = 0;
  for (let buf of bufs) {
    while (buf.length > 0) {
      try {
        const n = writeSync(fd, buf);
        total += n;
        buf = buf.subarray(n);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code !== 'EAGAIN') return e;
        giveUpAt ||= Date.now() + FLUSH_SYNC_EAGAIN_MS;
        if (Date.now() > giveUpAt) return e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }
  return total;
}

/**
 * The shared log sink for `output`: 'stdout', 'stderr' (any case) or a file path
 * (opened for append now; a failure throws).
 */
export function createSink(output: string, opts?: SinkOptions): Sink {
  return new Sink(output, opts);
}
