/**
 * A run's output on its way to the log (src/jobs/run-output.ts): with the native spawner, a
 * pipe the child closes without writing is never handed to the relay; one with output is,
 * and every line arrives.
 */
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { relayRunOutput } from '../../../src/jobs/run-output.js';
import { ProcessRun } from '../../../src/process/run.js';
import { PATH, spawner } from '../process/helpers.js';

function start(script: string): ProcessRun {
  return ProcessRun.start({
    argv: ['/bin/sh', '-c', script],
    env: { PATH },
    stdout: 'pipe',
    stderr: 'pipe',
    stopSignal: 'SIGTERM',
    spawn: spawner('native'),
  });
}

/** A relay that reads each stream to its end and remembers which streams it was given. */
function recordingHost(): {
  relay: (s: Readable, src: string, name: 'stdout' | 'stderr') => Promise<void>;
  seen: Map<string, string>;
} {
  const seen = new Map<string, string>();
  return {
    seen,
    relay: (stream, _source, name) =>
      new Promise((resolve) => {
        let text = '';
        seen.set(name, text);
        stream.on('data', (c: Buffer) => {
          text += c.toString();
          seen.set(name, text);
        });
        stream.once('end', () => resolve());
      }),
  };
}

describe('relayRunOutput with the native spawner', () => {
  it('does not relay pipes the child closed without writing', async () => {
    const host = recordingHost();
    const run = start('exit 0');
    await relayRunOutput(host, run, 'quiet');
    await run.result;
    expect([...host.seen.keys()]).toEqual([]);
  });

  it('relays a pipe with output, to its last line, and leaves the silent one alone', async () => {
    const host = recordingHost();
    const run = start('echo one; echo two');
    await relayRunOutput(host, run, 'talker');
    await run.result;
    expect([...host.seen]).toEqual([['stdout', 'one\ntwo\n']]);
  });
});
