/**
 * A run's output on its way to the log: relayed line by line, and waited for after the
 * run's exit only as long as it still flows (a daemon that escaped the process group may
 * hold the pipe open for ever). Health checks also keep their last bytes, to quote them.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import * as builtins from '../builtins.js';
import type { ProcessRun } from '../process/run.js';
import { isPolledOutput } from '../process/types.js';

/** Relays one output stream of a child; resolves once it has ended and its lines reached the log. */
export type Relay = (stream: Readable, source: string, name: 'stdout' | 'stderr') => Promise<void>;

/** Silence on a finished run's output streams after which they are no longer waited for. */
const OUTPUT_QUIET_MS = 200;

/**
 * How long output that keeps arriving after a run's exit is waited for: a process that
 * escaped the group (setsid) and keeps writing to the inherited pipe must not hold the exit
 * back for ever. Data already read and waiting for a slow log is always waited for.
 */
const OUTPUT_AFTER_EXIT_MAX_MS = 2000;

/**
 * Resolves once none of `streams` has read anything or held unread data for OUTPUT_QUIET_MS,
 * or once nothing is held and OUTPUT_AFTER_EXIT_MAX_MS have passed. `onCancel` receives a
 * function that resolves it at once and drops its timer (the streams ended by themselves:
 * the usual case, so a quick run leaves no timer behind).
 */
function untilQuiet(streams: readonly Readable[], onCancel: (cancel: () => void) => void): Promise<void> {
  const progress = (): number => streams.reduce((n, s) => n + ((s as Partial<Socket>).bytesRead ?? 0), 0);
  const waiting = (): boolean => streams.some((s) => s.readableLength > 0);
  const deadline = Date.now() + OUTPUT_AFTER_EXIT_MAX_MS;
  return new Promise((resolve) => {
    let last = progress();
    const check = (): void => {
      const now = progress();
      if (!waiting() && (now === last || Date.now() >= deadline)) return resolve();
      last = now;
      timer = setTimeout(check, OUTPUT_QUIET_MS);
    };
    let timer = setTimeout(check, OUTPUT_QUIET_MS);
    onCancel(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Bytes of a health check's output kept to quote its last line when it fails. */
const CHECK_TAIL_BYTES = 512;

/** `stream`, through a pass-through that keeps its last CHECK_TAIL_BYTES in `tail` (health checks only: small output). */
function keepTail(stream: Readable, tail: { text: string }): Readable {
  const tap = new (builtins.stream().Transform)({
    transform(chunk: Buffer, _encoding, done) {
      tail.text = (tail.text + chunk.toString('utf8')).slice(-CHECK_TAIL_BYTES);
      done(null, chunk);
    },
  });
  stream.once('error', () => tap.destroy());
  return stream.pipe(tap);
}

/**
 * Relays the run's output; resolves when its streams have ended. After the run has
 * exited, a stream that stays silent for OUTPUT_QUIET_MS — nothing read and nothing
 * waiting for the log — is held open by something outside the process group (a daemon
 * that escaped with setsid): the exit is then reported without it. A stream that is
 * merely waiting for a slow log output is waited for, so no line is lost.
 */
export function relayRunOutput(
  host: { relay: Relay },
  run: ProcessRun,
  source: string,
  tail?: { text: string },
): Promise<unknown> {
  const child = run.child;
  if (!child) return Promise.resolve();
  const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== null);
  if (streams.length === 0) return Promise.resolve();
  let outputEnded = false;
  let cancelQuiet: (() => void) | undefined;
  const relayOne = (stream: Readable): Promise<void> => {
    const relay = (): Promise<void> =>
      host.relay(tail ? keepTail(stream, tail) : stream, source, stream === child.stdout ? 'stdout' : 'stderr');
    if (!isPolledOutput(stream)) return relay();
    // A pipe the child closed without writing (most quick commands) is not read at all: no
    // relay, no formatter, no end of a stream to wait for (bench/README.md, chain hop).
    return new Promise<void>((resolve) =>
      stream.whenPolled((hasData) => (hasData ? relay().then(resolve) : resolve())),
    );
  };
  const ended = Promise.all(streams.map(relayOne)).then(() => {
    outputEnded = true;
    cancelQuiet?.();
  });
  const quiet = run.result.then(() =>
    outputEnded ? undefined : untilQuiet(streams, (cancel) => (cancelQuiet = cancel)),
  );
  return Promise.race([ended, quiet]);
}
