/**
 * The supervisor's sink, which start-up can hold: it logs its "started" line, starts the first
 * jobs, and only then binds the control socket (cli/run-supervisor.ts; the bind's node:net
 * machinery is not worth delaying a job for). Held, every write waits in order until
 * `resume()`, so nothing pidpilot or a job prints shows before the socket answers, and the
 * "started" line stays the first. Exit paths (flushSync, drain, close) resume first.
 *
 * `beforeRelease` runs whenever it resumes, held or not (and so before every flushSync, drain
 * and close): the deferred logger writes what it queued there (deferred-logger.ts).
 */
import { Sink } from './sink.js';

export class HoldingSink extends Sink {
  private held: Buffer[] | null = null;
  private heldBytes = 0;
  beforeRelease: (() => void) | null = null;

  hold(): void {
    this.held ??= [];
  }

  resume(): void {
    this.beforeRelease?.();
    const held = this.held;
    if (held === null) return;
    const over = this.heldBytes >= this.highWaterMark;
    this.held = null;
    this.heldBytes = 0;
    // One write: were the first of them in flight (written asynchronously) when a flushSync
    // writes the rest, the rest would land first.
    const below = held.length === 0 ? true : super.write(held.length === 1 ? held[0]! : Buffer.concat(held));
    // A writer told to wait for 'drain' while held: if the queue is under the mark now, say so;
    // otherwise the queue's own 'drain' follows, as for any write.
    if (over && below) this.emit('drain');
  }

  override write(chunk: Buffer | string): boolean {
    if (this.held === null) return super.write(chunk);
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.held.push(buf);
    this.heldBytes += buf.length;
    return this.heldBytes < this.highWaterMark;
  }

  override flushSync(): void {
    this.resume();
    super.flushSync();
  }

  override drain(timeoutMs: number): Promise<boolean> {
    this.resume();
    return super.drain(timeoutMs);
  }

  override close(): Promise<void> {
    this.resume();
    return super.close();
  }
}
