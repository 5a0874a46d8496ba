/**
 * Reading the append-only files of the state dir, tolerating what a crash leaves: a last
 * line without its '\n' (a write cut short by SIGKILL or a power cut) is not a record
 * and is ignored; a line that does not parse is skipped and counted.
 *
 * Reads go backwards from the end in blocks, so "the last N" costs what N lines cost,
 * whatever the size of the file.
 */
import { closeSync, constants, promises as fsPromises, fstatSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { ROTATED } from './layout.js';
import { openForReading } from './private-fs.js';

const BLOCK = 64 * 1024;

/** Counts the lines skipped as unreadable, for a reader to report. */
export interface ReadStats {
  corrupt: number;
}

/** What the backward line reader asks for: `n` bytes at `pos`; it is handed the bytes read. */
interface BlockRequest {
  pos: number;
  n: number;
}

/**
 * The backward reading itself, for a sync and an async driver alike: yields the blocks it
 * needs (from the end towards the start) and returns the last `max` complete lines, oldest
 * first, stopping once it has read `maxBytes` (the newest lines that fit).
 */
function* backwardLines(size: number, max: number, maxBytes: number): Generator<BlockRequest, string[], Buffer> {
  const lines: string[] = [];
  let pos = size;
  // Bytes of the line that ends the part already read and starts before it.
  let carry: Buffer | null = null;
  let tailCut = false;
  while (pos > 0 && lines.length < max && size - pos < maxBytes) {
    const n = Math.min(BLOCK, pos);
    pos -= n;
    const block = yield { pos, n };
    const buf: Buffer = carry ? Buffer.concat([block, carry]) : block;
    let end = buf.length;
    if (!tailCut) {
      // Whatever follows the last '\n' of the file is a torn write: not a line.
      const last = buf.lastIndexOf(10);
      if (last === -1) {
        carry = pos > 0 ? buf : null;
        continue;
      }
      tailCut = true;
      end = last + 1;
    }
    // buf[0, end) ends with '\n'; take lines from the end.
    while (lines.length < max) {
      const nl = end >= 2 ? buf.lastIndexOf(10, end - 2) : -1;
      if (nl === -1) {
        if (pos === 0) lines.push(buf.toString('utf8', 0, end - 1));
        break;
      }
      lines.push(buf.toString('utf8', nl + 1, end - 1));
      end = nl + 1;
    }
    carry = lines.length < max && pos > 0 ? buf.subarray(0, end) : null;
  }
  return lines.reverse();
}

function readBlockSync(fd: number, { pos, n }: BlockRequest): Buffer {
  const block = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, block, got, n - got, pos + got);
    if (r === 0) break;
    got += r;
  }
  return block.subarray(0, got);
}

/**
 * The last `max` complete lines of `file` (each without its '\n'), oldest first, decoded
 * as UTF-8 (invalid bytes replaced). [] when the file does not exist. `file` may be a
 * descriptor open for reading (left open). Synchronous: for small files (run records).
 */
export function readLastLines(file: string | number, max = Infinity): string[] {
  const fd = typeof file === 'number' ? file : openForReading(file);
  if (fd === null) return [];
  try {
    const gen = backwardLines(fstatSync(fd).size, max, Infinity);
    let step = gen.next();
    while (!step.done) step = gen.next(readBlockSync(fd, step.value));
    return step.value;
  } finally {
    if (typeof file === 'string') closeSync(fd);
  }
}

/** Files longer than this are not counted line by line (countLines): no runs file is. */
const COUNT_LIMIT = BLOCK;

/**
 * The complete lines (those ended by a '\n') of the file open for reading as `fd`, of
 * `size` bytes, counted up to `max`: one read and a scan, no lines made (the first run
 * record of a boot asks it of every job's runs file). A file over 64 KiB counts as `max`.
 */
export function countLines(fd: number, size: number, max: number): number {
  if (size > COUNT_LIMIT) return max;
  // Searched as a latin1 string (one byte a character): String#indexOf is a builtin, where
  // each Buffer#indexOf is a call into C++ with its checks, 2.5x the cost for a runs file.
  const text = readBlockSync(fd, { pos: 0, n: size }).toString('latin1');
  let count = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && count < max; nl = text.indexOf('\n', nl + 1)) count++;
  return count;
}

/** The last `max` complete lines of `file` and of its rotated generation before it, oldest first. */
export function readRotatedLines(file: string, max = Infinity): string[] {
  const current = readLastLines(file, max);
  if (current.length >= max) return current;
  return [...readLastLines(file + ROTATED, max - current.length), ...current];
}

/**
 * Like readLastLines, off the event loop's critical path: each block is read by the thread
 * pool, so requests (a ping) are served between blocks; and at most `maxBytes` are read.
 */
export async function readLastLinesAsync(
  file: string,
  max: number,
  maxBytes: number,
): Promise<{ lines: string[]; bytes: number }> {
  let handle: FileHandle;
  try {
    // fs.promises, not node:fs/promises: node loads it (and readline, watchers…) on first use,
    // so a supervisor no one reads the history of never loads it (bench/README.md, start-up).
    handle = await fsPromises.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], bytes: 0 };
    throw err;
  }
  try {
    const size = (await handle.stat()).size;
    const gen = backwardLines(size, max, maxBytes);
    let bytes = 0;
    let step = gen.next();
    while (!step.done) {
      const block = Buffer.allocUnsafe(step.value.n);
      const { bytesRead } = await handle.read(block, 0, step.value.n, step.value.pos);
      bytes += bytesRead;
      step = gen.next(block.subarray(0, bytesRead));
    }
    return { lines: step.value, bytes };
  } finally {
    await handle.close();
  }
}

/** readRotatedLines off the event loop's critical path, reading at most `maxBytes` in all. */
export async function readRotatedLinesAsync(file: string, max: number, maxBytes: number): Promise<string[]> {
  const current = await readLastLinesAsync(file, max, maxBytes);
  if (current.lines.length >= max || current.bytes >= maxBytes) return current.lines;
  const older = await readLastLinesAsync(file + ROTATED, max - current.lines.length, maxBytes - current.bytes);
  return [...older.lines, ...current.lines];
}

/** Parses JSON lines into objects; lines that are not a JSON object count as corrupt. */
export function parseJsonLines<T>(lines: readonly string[], stats?: ReadStats): T[] {
  const out: T[] = [];
  for (const line of lines) {
    try {
      const v: unknown = JSON.parse(line);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        out.push(v as T);
        continue;
      }
    } catch {
      // counted below
    }
    if (stats) stats.corrupt++;
  }
  return out;
}
