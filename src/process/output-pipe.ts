/**
 * A child's output pipe as a Readable that costs almost nothing until the child writes.
 *
 * A net.Socket over each pipe (what child_process does) is the dearest part of a spawn in
 * JavaScript: the Duplex around a libuv stream, then its end and its destruction. Most
 * quick commands write nothing (a chain of one-shot jobs, a `sleep` waiting for SIGTERM),
 * so the addon first only polls the pipe (native/pipes.c `watchOutput`): when it has data,
 * a Socket is made and its bytes are passed on here; when every writer closed it empty,
 * this stream ends and the fd is closed, and no Socket was ever made.
 *
 * Back-pressure is kept: while this stream's buffer is full, the Socket is paused, so a
 * slow log still slows the child down.
 *
 * node:stream and node:net are required on first use (src/builtins.ts), so the class is made
 * then too: the first job is spawned before pidpilot loads them (bench/README.md, start-up).
 */
import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import * as builtins from '../builtins.js';
import type { PolledOutput } from './types.js';

/** The addon's poll: `onReady(true)` once `fd` has data, `onReady(false)` once it was closed empty. */
export type WatchOutput = (fd: number, onReady: (hasData: boolean) => void) => void;

/** A Socket over a pipe's read end: non-blocking reads in libuv's loop, pause()/resume() for back-pressure. */
export function pipeSocket(fd: number): Socket {
  return new (builtins.net().Socket)({ fd, readable: true, writable: false });
}

let OutputPipe: (new (fd: number, watch: WatchOutput) => Readable & { readonly bytesRead: number }) | undefined;

/** A Readable over the pipe `fd` that makes its Socket once `watch` says the pipe has data. */
export function outputPipe(fd: number, watch: WatchOutput): Readable {
  OutputPipe ??= outputPipeClass();
  return new OutputPipe(fd, watch);
}

const outputPipeClass = () =>
  class OutputPipe extends builtins.stream().Readable implements PolledOutput {
    private socket: Socket | null = null;
    /** The poll's answer (data or not) once it came, and who waits for it. */
    private polled: boolean | null = null;
    private onPolled: ((hasData: boolean) => void) | null = null;
    /** Someone reads this stream (`_read` was called): a pipe closed empty must end it. */
    private reading = false;

    constructor(fd: number, watch: WatchOutput) {
      super();
      watch(fd, (hasData) => this.ready(fd, hasData));
    }

    /** Bytes read from the pipe so far (what a net.Socket calls it: runtime.ts watches it after an exit). */
    get bytesRead(): number {
      return this.socket?.bytesRead ?? 0;
    }

    whenPolled(onPolled: (hasData: boolean) => void): void {
      if (this.polled === null) this.onPolled = onPolled;
      else onPolled(this.polled);
    }

    override _read(): void {
      this.reading = true;
      if (this.socket !== null) this.socket.resume();
      else if (this.polled === false) this.push(null);
    }

    override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
      // Before the poll answers, the fd is closed when it does (the addon may be watching it now).
      this.socket?.destroy();
      callback(err);
    }

    private ready(fd: number, hasData: boolean): void {
      this.polled = hasData && !this.destroyed;
      const onPolled = this.onPolled;
      this.onPolled = null;
      if (!this.polled) {
        closeSync(fd);
        // Ended only for a reader: the relay of a pipe closed empty reads nothing (it asked
        // `whenPolled`), and ending a stream nobody reads is a stream's whole end machinery
        // for nothing (200 pipes were ≈ 5 ms of a 100-job shutdown: bench/README.md).
        if (this.reading && !this.destroyed) this.push(null);
        onPolled?.(false);
        return;
      }
      // The reader (if it waited) is attached before the first byte is pushed.
      onPolled?.(true);
      const socket = pipeSocket(fd);
      this.socket = socket;
      socket.on('data', (chunk: Buffer) => {
        if (!this.push(chunk)) socket.pause();
      });
      socket.once('end', () => this.push(null));
      socket.once('error', (err) => this.destroy(err));
    }
  };
