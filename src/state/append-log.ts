/**
 * One append-only file of the state dir, written in batches and rotated by size.
 *
 * `append()` only queues bytes (the hot path: a bus event, a chunk of job output); the
 * owner calls `flush()` once per batch, which writes them with one synchronous write to
 * the page cache — no fsync: a crash of pidpilot (even SIGKILL) loses nothing written, a
 * power cut may lose the last moments, which is the usual trade for a log.
 *
 * When the next lines would take the file over `maxBytes`, the file is renamed to `<file>.1`
 * (replacing the previous generation) and a new one started: at most twice `maxBytes` on
 * disk, and at least the newest `maxBytes` always readable.
 *
 * A file left by a crash may end in a torn line; the first write of a new writer starts
 * with a '\n', so that torn line stays one unreadable line instead of swallowing the
 * first new record.
 */
import { closeSync, readSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ROTATED } from './layout.js';
import { APPEND, ensurePrivateSubdir, openPrivateSized } from './private-fs.js';

export interface AppendLogOptions {
  /** Size at which the file is rotated. */
  maxBytes: number;
  /** Called on every failed batch (a full disk) with its count of lines: the batch is dropped, writing goes on. */
  onError: (err: NodeJS.ErrnoException, file: string, lines: number) => void;
  /** Called after every batch written. */
  onWritten?: () => void;
  /**
   * Keep the file open between flushes (default true). False for the per-job files: with
   * hundreds of jobs, one descriptor each would compete with the jobs' own pipes.
   */
  keepOpen?: boolean;
}

export class AppendLog {
  private fd: number | null = null;
  private size = 0;
  private pending: (Buffer | string)[] = [];
  private strings = true;
  private dirChecked = false;
  /** Bytes dropped after write errors. */
  dropped = 0;

  constructor(
    readonly file: string,
    private readonly opts: AppendLogOptions,
  ) {}

  /** Queues whole lines (each ending with '\n'); a string is written as UTF-8. */
  append(data: Buffer | string): void {
    this.pending.push(data);
    if (typeof data !== 'string') this.strings = false;
  }

  /** Writes what is queued. Never throws. */
  flush(): void {
    if (this.pending.length === 0) return;
    const data = this.strings
      ? Buffer.from(this.pending.join(''))
      : Buffer.concat(this.pending.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    this.pending = [];
    this.strings = true;
    try {
      this.open();
      this.writeRotating(data);
      if (this.opts.keepOpen === false) this.closeFd();
      this.opts.onWritten?.();
    } catch (err) {
      this.dropped += data.length;
      this.closeFd();
      this.opts.onError(err as NodeJS.ErrnoException, this.file, countLines(data));
    }
  }

  /** Writes what is queued and closes the file. */
  close(): void {
    this.flush();
    this.closeFd();
  }

  private open(): number {
    if (this.fd !== null) return this.fd;
    if (!this.dirChecked) {
      ensurePrivateSubdir(dirname(this.file));
      this.dirChecked = true;
    }
    const { fd, size } = openPrivateSized(this.file, APPEND);
    try {
      this.size = size;
      if (this.size > 0 && lastByte(fd, this.size) !== 10) {
        writeAll(fd, Buffer.from('\n'));
        this.size++;
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.fd = fd;
    return fd;
  }

  /**
   * Writes whole lines, rotating whenever the next ones would not fit: a generation is filled
   * up to `maxBytes` (only a single line longer than that makes one bigger).
   */
  private writeRotating(data: Buffer): void {
    const max = this.opts.maxBytes;
    let off = 0;
    while (off < data.length) {
      const rest = data.length - off;
      if (this.size + rest <= max) {
        this.write(data.subarray(off));
        return;
      }
      // The lines that still fit in this generation (at least one line in an empty file).
      const room = Math.max(0, max - this.size);
      let end = room > 0 ? data.lastIndexOf(10, off + room - 1) + 1 : 0;
      if (end <= off && this.size === 0) end = data.indexOf(10, off) + 1 || data.length;
      if (end > off) {
        this.write(data.subarray(off, end));
        off = end;
      }
      if (off < data.length) this.rotate();
    }
  }

  private write(data: Buffer): void {
    writeAll(this.fd as number, data);
    this.size += data.length;
  }

  private rotate(): void {
    this.closeFd();
    renameSync(this.file, this.file + ROTATED);
    this.open();
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing left to do with it
    }
    this.fd = null;
  }
}

function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++;
  return n;
}

/** One byte to read into (lastByte): reads are synchronous, so one buffer serves them all. */
const oneByte = Buffer.alloc(1);

/** The last byte of a file of `size` bytes open for reading, or -1. */
export function lastByte(fd: number, size: number): number {
  return readSync(fd, oneByte, 0, 1, size - 1) === 1 ? (oneByte[0] as number) : -1;
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}
