/**
 * One job's captured output on its way into `logs/<job>.log` (store.ts): chunks queued until
 * the store's next flush, bounded by what the file and its older generation can hold, and the
 * followers of its new lines.
 */
import type { AppendLog } from './append-log.js';
import { type CapturedChunk, type CaptureTarget, encodeChunk } from './capture.js';
import type { StoredLogLine } from './types.js';

/**
 * One job's captured output: chunks waiting to be encoded and written, at most what the
 * file and its older generation can hold — older chunks would be rotated away anyway.
 */
export class JobLog implements CaptureTarget {
  readonly listeners = new Set<(l: StoredLogLine) => void>();
  private pending: CapturedChunk[] = [];
  private pendingBytes = 0;
  private readonly keepBytes: number;

  constructor(
    readonly file: AppendLog,
    maxBytes: number,
    private readonly queued: (log: JobLog) => void,
  ) {
    this.keepBytes = 2 * maxBytes;
  }

  get followed(): boolean {
    return this.listeners.size > 0;
  }

  add(chunk: CapturedChunk): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.end - chunk.start;
    if (this.pendingBytes - (this.pending[0].end - this.pending[0].start) > this.keepBytes) this.dropOldest();
    this.queued(this);
  }

  /** Encodes what is pending and writes it out. */
  flush(): void {
    for (const c of this.pending) this.file.append(encodeChunk(c));
    this.pending = [];
    this.pendingBytes = 0;
    this.file.flush();
  }

  emit(line: StoredLogLine): void {
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // a follower's failure is its own
      }
    }
  }

  private dropOldest(): void {
    let drop = 0;
    while (
      drop < this.pending.length - 1 &&
      this.pendingBytes - (this.pending[drop].end - this.pending[drop].start) > this.keepBytes
    ) {
      this.pendingBytes -= this.pending[drop].end - this.pending[drop].start;
      drop++;
    }
    this.pending = this.pending.slice(drop);
  }
}
