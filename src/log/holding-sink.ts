/**
 * The supervisor's sink, which start-up can hold: it logs its "started" line, starts the first
 * jobs, and only then binds the control socket (cli/run-supervisor.ts; the bind's node:net
 * machinery is not worth delaying a job for). Held, every write waits in order until
 * `resume()`, so nothing pidpilot or a job prints shows before the socket answers, and the
 * "started" line stays the first. Exit paths (flushSync, drain, close) resume first.
 */
import { Sink } from './sink.js';

export class HoldingSink extends Sink {
  private held: Buffer[] | null = null;
  private heldBytes = 0;

  hold(): void {
    this.held ??= [];
  }

  resume(): void {
    const held = this.held;
    if (held === null) return;
    const over = this.heldBytes >= this.highWaterMark;
    this.held = null;
    this.heldBytes = 0;
    let below = true;
    for (const buf of held) below = super.write(buf);
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
