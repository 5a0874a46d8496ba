/**
 * Reading the append-only files of the state dir, tolerating what a crash leaves: a last
 * line without its '\n' (a write cut short by SIGKILL or a power cut) is not a record
 * and is ignored; a line that does not parse is skipped and counted.
 *
 * Reads go backwards from the end in blocks, so "the last N" costs what N lines cost,
 * whatever the size of the file.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { ROTATED } from './layout.js';
import { openForReading } from './private-fs.js';

const BLOCK = 64 * 1024;

/** Counts the lines skipped as unreadable, for a reader to report. */
export interface ReadStats {
  corrupt: number;
}

/**
 * The last `max` complete lines of `file` (each without its '\n'), oldest first, decoded
 * as UTF-8 (invalid bytes replaced). [] when the file does not exist. `file` may be a
 * descriptor open for reading (left open).
 */
export function readLastLines(file: string | number, max = Infinity): string[] {
  const fd = typeof file === 'number' ? file : openForReading(file);
  if (fd === null) return [];
  try {
    const lines: string[] = [];
    let pos = fstatSync(fd).size;
    // Bytes of the line that ends the part already read and starts before it.
    let carry: Buffer | null = null;
    let tailCut = false;
    while (pos > 0 && lines.length < max) {
      const n = Math.min(BLOCK, pos);
      pos -= n;
      const block = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const r = readSync(fd, block, got, n - got, pos + got);
        if (r === 0) break;
        got += r;
      }
      const buf: Buffer = carry ? Buffer.concat([block.subarray(0, got), carry]) : block.subarray(0, got);
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
  } finally {
    if (typeof file === 'string') closeSync(fd);
  }
}

/** The last `max` complete lines of `file` and of its rotated generation before it, oldest first. */
export function readRotatedLines(file: string, max = Infinity): string[] {
  const current = readLastLines(file, max);
  if (current.length >= max) return current;
  return [...readLastLines(file + ROTATED, max - current.length), ...current];
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
