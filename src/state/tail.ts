/**
 * Following a rotated append-only file from another process (`tail -F`): polls its size,
 * hands over each complete new line, and notices a rotation (the file renamed to `.1` and a
 * new one started) by its inode, finishing the old generation before starting the new.
 */
import { closeSync, lstatSync, readSync, type Stats } from 'node:fs';
import { ROTATED } from './layout.js';
import { openForReading } from './private-fs.js';

export const TAIL_POLL_MS = 250;

function statOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

export class FileTail {
  private ino: number | null;
  private offset: number;
  private carry: Buffer = Buffer.alloc(0);
  private readonly timer: NodeJS.Timeout;

  /** Starts at the current end of `file`: only lines written from now on are handed over. */
  constructor(
    private readonly file: string,
    private readonly onLine: (line: string) => void,
    pollMs = TAIL_POLL_MS,
  ) {
    const st = statOrNull(file);
    this.ino = st?.ino ?? null;
    this.offset = st?.size ?? 0;
    this.timer = setInterval(() => this.poll(), pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Reads what was appended since the last poll. */
  poll(): void {
    const st = statOrNull(this.file);
    if (st === null) return;
    if (this.ino !== null && st.ino !== this.ino) {
      // Rotated: the rest of the generation we were reading is now `.1`.
      const old = statOrNull(this.file + ROTATED);
      if (old?.ino === this.ino) this.readFrom(this.file + ROTATED, old.size);
      this.offset = 0;
      this.carry = Buffer.alloc(0);
    } else if (st.size < this.offset) {
      this.offset = 0; // truncated or replaced in place
      this.carry = Buffer.alloc(0);
    }
    this.ino = st.ino;
    this.readFrom(this.file, st.size);
  }

  private readFrom(file: string, size: number): void {
    if (size <= this.offset) return;
    let fd: number | null;
    try {
      fd = openForReading(file);
    } catch {
      return;
    }
    if (fd === null) return;
    try {
      const buf = Buffer.allocUnsafe(size - this.offset);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
      this.offset += got;
      const data = this.carry.length > 0 ? Buffer.concat([this.carry, buf.subarray(0, got)]) : buf.subarray(0, got);
      let start = 0;
      for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
        this.onLine(data.toString('utf8', start, nl));
        start = nl + 1;
      }
      // An incomplete last line waits for the rest of it.
      this.carry = Buffer.from(data.subarray(start));
    } finally {
      closeSync(fd);
    }
  }
}
