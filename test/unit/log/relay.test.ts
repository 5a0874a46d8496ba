import { isUtf8 } from 'node:buffer';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogFormat } from '../../../src/config/types.js';
import { createLogger } from '../../../src/log/logger.js';
import { relayLines } from '../../../src/log/relay.js';
import { createSink, type Sink } from '../../../src/log/sink.js';
import type { LineFormatter, LineWriter, LogSink } from '../../../src/log/types.js';
import { cleanupTempDirs, exited, STAMP, splitLines, testDir } from './support.js';

const MiB = 1024 * 1024;
afterEach(cleanupTempDirs);
const dir = testDir;

/** Relays `cat <file with data>` (a real child process) into a log file; returns the log file's bytes. */
async function relayThroughCat(data: Buffer, format: LogFormat, opts: { maxLineBytes?: number } = {}): Promise<Buffer> {
  const d = dir();
  const input = join(d, 'input');
  const output = join(d, 'out.log');
  writeFileSync(input, data);
  const { lineWriter, sink } = createLogger({ level: 'info', format, output });
  const child = spawn('cat', [input], { stdio: ['ignore', 'pipe', 'inherit'] });
  await relayLines(child.stdout, { job: 'web', stream: 'stdout', writer: lineWriter, ...opts });
  await sink.close();
  expect((await exited(child)).code).toBe(0);
  return readFileSync(output);
}

const DEFAULT_PREFIX = new RegExp(`^${STAMP} web `);

/** The line contents of default-format output (prefix removed), byte-exact. */
function defaultContents(out: Buffer): Buffer[] {
  return splitLines(out).map((line) => {
    const m = DEFAULT_PREFIX.exec(line.toString('latin1'));
    expect(m, `prefix of ${line.subarray(0, 60).toString('latin1')}`).not.toBeNull();
    return line.subarray(m![0].length);
  });
}

/** Expected lines: split at '\n', one '\r' before it dropped, no empty last line. */
function expectedLines(data: Buffer): Buffer[] {
  const lines = splitLines(data);
  const terminated = data[data.length - 1] === 10;
  return lines.map((l, i) => ((terminated || i < lines.length - 1) && l[l.length - 1] === 13 ? l.subarray(0, -1) : l));
}

function patterned(size: number, seed = 0): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) {
    const v = (i * 31 + seed + (i >> 8)) & 0xff;
    b[i] = v === 10 ? 11 : v;
  }
  return b;
}

describe('relayLines: line shapes', () => {
  it('relays a single 8 MiB line as one log line, byte-exact', async () => {
    const data = Buffer.concat([patterned(8 * MiB), Buffer.from('\n')]);
    const contents = defaultContents(await relayThroughCat(data, 'default'));
    expect(contents).toHaveLength(1);
    expect(contents[0].length).toBe(8 * MiB);
    expect(contents[0].equals(data.subarray(0, 8 * MiB))).toBe(true);
  });

  it('relays an 8 MiB text line as one JSON line', async () => {
    const line = Buffer.alloc(8 * MiB, 'abc "quoted" \\ é ');
    // Keep it valid UTF-8: cut after a whole character.
    const text = line.toString('utf8').replace(/\uFFFD+$/, '');
    const out = await relayThroughCat(Buffer.from(text + '\n'), 'json');
    const lines = splitLines(out);
    expect(lines).toHaveLength(1);
    const rec = JSON.parse(lines[0].toString('utf8')) as Record<string, unknown>;
    expect(rec.msg).toBe(text);
    expect(rec.bytes).toBeUndefined();
    expect(rec.partial).toBeUndefined();
  });

  it('flushes output without a trailing newline as a final line', async () => {
    for (const format of ['default', 'text', 'json'] as const) {
      const out = splitLines(await relayThroughCat(Buffer.from('first\nsecond\nno newline'), format));
      expect(out).toHaveLength(3);
      expect(out[2].toString()).toContain('no newline');
    }
    const contents = defaultContents(await relayThroughCat(Buffer.from('a\nb'), 'default'));
    expect(contents.map(String)).toEqual(['a', 'b']);
  });

  it('drops the \\r of \\r\\n and keeps any other \\r', async () => {
    const data = Buffer.from('one\r\ntwo\r\n\r\nmid\rline\r\r\nlast\r');
    const contents = defaultContents(await relayThroughCat(data, 'default'));
    expect(contents.map((b) => b.toString('latin1'))).toEqual(['one', 'two', '', 'mid\rline\r', 'last\r']);
    const json = splitLines(await relayThroughCat(data, 'json')).map(
      (l) => (JSON.parse(String(l)) as { msg: string }).msg,
    );
    expect(json).toEqual(['one', 'two', '', 'mid\rline\r', 'last\r']);
    const text = splitLines(await relayThroughCat(data, 'text')).map(
      (l) => /msg="(.*)" job=/s.exec(l.toString('latin1'))![1],
    );
    expect(text).toEqual(['one', 'two', '', 'mid\rline\r', 'last\r']);
  });

  // Every byte value, invalid UTF-8 (lone continuation bytes, truncated and overlong
  // sequences, surrogates, 0xFF), valid multi-byte text, and lines split across chunks.
  const nasty = Buffer.concat([
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
    Buffer.from('\n'),
    Buffer.from([
      0x80, 0xbf, 0x0a, 0xc3, 0x0a, 0xe2, 0x82, 0x0a, 0xc0, 0xaf, 0x0a, 0xed, 0xa0, 0x80, 0x0a, 0xff, 0xfe, 0x0a,
    ]),
    Buffer.from('héllo wörld ✓ 😀\n'),
    Buffer.from('quote " and backslash \\ and = sign\n'),
    patterned(200_000, 7),
    Buffer.from('\n'),
    Buffer.from([0xf0, 0x9f, 0x98]),
  ]);

  it('default format: every byte comes out exactly as it went in', async () => {
    const contents = defaultContents(await relayThroughCat(nasty, 'default'));
    const expected = expectedLines(nasty);
    expect(contents.length).toBe(expected.length);
    for (const [i, c] of contents.entries()) expect(c.equals(expected[i]), `line ${i}`).toBe(true);
  });

  it('text format: the bytes are kept, only " and \\ are escaped', async () => {
    const lines = splitLines(await relayThroughCat(nasty, 'text'));
    const expected = expectedLines(nasty);
    expect(lines.length).toBe(expected.length);
    lines.forEach((line, i) => {
      const s = line.toString('latin1');
      expect(s).toMatch(new RegExp(`^time=${STAMP} level=info msg=".*" job=web stream=stdout$`, 's'));
      const msg = s.slice(s.indexOf('msg="') + 5, s.lastIndexOf('" job=web'));
      const unescaped = Buffer.from(msg.replace(/\\(["\\])/g, '$1'), 'latin1');
      expect(unescaped.equals(expected[i]), `line ${i}`).toBe(true);
    });
  });

  it('json format: valid JSON per line, with the exact bytes as base64 when not UTF-8', async () => {
    const lines = splitLines(await relayThroughCat(nasty, 'json'));
    const expected = expectedLines(nasty);
    expect(lines.length).toBe(expected.length);
    lines.forEach((line, i) => {
      const rec = JSON.parse(line.toString('utf8')) as { msg: string; bytes?: string; job: string; stream: string };
      expect(rec.job).toBe('web');
      expect(rec.stream).toBe('stdout');
      if (isUtf8(expected[i])) {
        expect(rec.msg).toBe(expected[i].toString('utf8'));
        expect(rec.bytes).toBeUndefined();
      } else {
        expect(rec.msg).toBe(expected[i].toString('utf8'));
        expect(Buffer.from(rec.bytes!, 'base64').equals(expected[i]), `line ${i}`).toBe(true);
      }
    });
  });
});

/** Wraps a LineWriter to watch what the relay hands it. */
function watchWriter(inner: LineWriter, onLine: (bytes: number, partial: boolean) => void): LineWriter {
  return {
    sink: inner.sink,
    get enabled() {
      return inner.enabled;
    },
    open(job, stream): LineFormatter {
      const f = inner.open(job, stream);
      return {
        writeLines: (buf, start, end) => f.writeLines(buf, start, end),
        writeLine(pieces, partial) {
          onLine(
            pieces.reduce((n, p) => n + p.length, 0),
            partial,
          );
          return f.writeLine(pieces, partial);
        },
      };
    },
  };
}

describe('relayLines: memory bound', () => {
  it('emits a 40 MiB newline-free stream in 16 MiB pieces marked partial, bytes intact, while it streams', async () => {
    const d = dir();
    const input = join(d, 'input');
    const output = join(d, 'out.log');
    const data = patterned(40 * MiB, 3);
    writeFileSync(input, data);
    const { lineWriter, sink } = createLogger({ level: 'info', format: 'text', output });
    const child = spawn('cat', [input], { stdio: ['ignore', 'pipe', 'inherit'] });
    let received = 0;
    let emitted = 0;
    let maxHeld = 0;
    child.stdout.on('data', (c: Buffer) => {
      received += c.length;
    });
    const pieces: { bytes: number; partial: boolean }[] = [];
    const writer = watchWriter(lineWriter, (bytes, partial) => {
      // `received` already counts the chunk being handled: what the relay holds is at most
      // what came in minus what went out.
      maxHeld = Math.max(maxHeld, received - emitted);
      emitted += bytes;
      pieces.push({ bytes, partial });
    });
    await relayLines(child.stdout, { job: 'web', stream: 'stdout', writer });
    await sink.close();
    expect(pieces).toEqual([
      { bytes: 16 * MiB, partial: true },
      { bytes: 16 * MiB, partial: true },
      { bytes: 8 * MiB, partial: false },
    ]);
    // Never more than the cap plus one read chunk held while streaming.
    expect(maxHeld).toBeLessThanOrEqual(16 * MiB + 64 * 1024);
    const lines = splitLines(readFileSync(output));
    expect(lines).toHaveLength(3);
    const suffixes = lines.map((l) => l.toString('latin1').match(/" job=web stream=stdout( partial=true)?$/)![0]);
    expect(suffixes).toEqual([
      '" job=web stream=stdout partial=true',
      '" job=web stream=stdout partial=true',
      '" job=web stream=stdout',
    ]);
    const joined = Buffer.concat(
      lines.map((l) => {
        const s = l.toString('latin1');
        const msg = s.slice(s.indexOf('msg="') + 5, s.lastIndexOf('" job=web'));
        return Buffer.from(msg.replace(/\\(["\\])/g, '$1'), 'latin1');
      }),
    );
    expect(joined.equals(data)).toBe(true);
  });

  it('json marks the pieces "partial":true and keeps their bytes', async () => {
    const data = Buffer.from('x'.repeat(2500) + '\n' + 'y'.repeat(900) + '\nz');
    const lines = splitLines(await relayThroughCat(data, 'json', { maxLineBytes: 1000 }));
    const recs = lines.map((l) => JSON.parse(String(l)) as { msg: string; partial?: boolean });
    expect(recs.map((r) => [r.msg.length, r.partial ?? false])).toEqual([
      [1000, true],
      [1000, true],
      [500, false],
      [900, false],
      [1, false],
    ]);
    expect(recs.map((r) => r.msg).join('')).toBe('x'.repeat(2500) + 'y'.repeat(900) + 'z');
  });

  it('splits a line over the cap even when it arrives in one big chunk', async () => {
    const sink = createSink(join(dir(), 'out.log'));
    const { lineWriter } = createLogger({ level: 'info', format: 'default', output: 'stdout' }, sink);
    const pieces: [number, boolean][] = [];
    const writer = watchWriter(lineWriter, (bytes, partial) => pieces.push([bytes, partial]));
    const big = Buffer.concat([Buffer.from('short\n'), Buffer.alloc(2500, 'a'), Buffer.from('\nend\n')]);
    await relayLines(Readable.from([big]), { job: 'web', stream: 'stdout', writer, maxLineBytes: 1000 });
    await sink.close();
    expect(pieces).toEqual([
      [1000, true],
      [1000, true],
      [500, false],
    ]);
  });
});

describe('relayLines: back-pressure', () => {
  it('pauses a fast producer while a slow reader drains the sink, and keeps every line in order', async () => {
    const d = dir();
    const fifo = join(d, 'fifo');
    const received = join(d, 'received');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // The sink's far end: reads 16 KiB, then waits 2 ms — far slower than the producer.
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs');
         const fd = fs.openSync(process.argv[1], 'r'), out = fs.openSync(process.argv[2], 'w');
         const buf = Buffer.alloc(16384), pause = new Int32Array(new SharedArrayBuffer(4));
         for (let n; (n = fs.readSync(fd, buf)) > 0; ) { fs.writeSync(out, buf, 0, n); Atomics.wait(pause, 0, 0, 2); }`,
        fifo,
        received,
      ],
      { stdio: 'inherit' },
    );
    const hwm = 64 * 1024;
    // Blocks until the reader has opened its end.
    const sink: Sink = createSink(fifo, { highWaterMark: hwm });
    let biggestWrite = 0;
    let drainWaits = 0;
    let maxBuffered = 0;
    const watched: LogSink = {
      write(chunk) {
        biggestWrite = Math.max(biggestWrite, Buffer.byteLength(chunk));
        // What the relay has taken from the child but not yet handled.
        maxBuffered = Math.max(maxBuffered, producer.stdout!.readableLength);
        return sink.write(chunk);
      },
      once(event, listener) {
        drainWaits++;
        return sink.once(event, listener);
      },
      drain: (timeoutMs) => sink.drain(timeoutMs),
      reopen: () => sink.reopen(),
      flushSync: () => sink.flushSync(),
    };
    const { lineWriter } = createLogger({ level: 'info', format: 'default', output: 'stdout' }, watched);
    const N = 60_000;
    const producer: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); let s = '';
         for (let i = 0; i < ${N}; i++) { s += 'line ' + i + ' ' + 'p'.repeat(40) + '\\n'; if (s.length > 65536) { fs.writeSync(1, s); s = ''; } }
         fs.writeSync(1, s);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await relayLines(producer.stdout!, { job: 'web', stream: 'stdout', writer: lineWriter });
    expect((await exited(producer)).code).toBe(0);
    await sink.close();
    expect((await exited(reader)).code).toBe(0);

    // The relay waited for the sink, and meanwhile left the bytes in the child's pipe
    // (its writes blocked) instead of taking them in.
    expect(drainWaits).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(producer.stdout!.readableHighWaterMark + 64 * 1024);
    // Queued bytes stayed within the high-water mark plus the one write that crossed it.
    expect(sink.maxQueued).toBeGreaterThanOrEqual(hwm);
    expect(sink.maxQueued).toBeLessThanOrEqual(hwm + biggestWrite);
    const contents = defaultContents(readFileSync(received));
    expect(contents).toHaveLength(N);
    contents.forEach((c, i) => {
      if (c.toString() !== `line ${i} ${'p'.repeat(40)}`)
        expect(c.toString(), `line ${i}`).toBe(`line ${i} ${'p'.repeat(40)}`);
    });
  });
});

describe('relayLines: stream life', () => {
  it('resolves and logs what it got when the stream fails', async () => {
    const sink = createSink(join(dir(), 'out.log'));
    const { lineWriter } = createLogger({ level: 'info', format: 'default', output: 'stdout' }, sink);
    const stream = new Readable({ read() {} });
    const done = relayLines(stream, { job: 'web', stream: 'stderr', writer: lineWriter });
    stream.push(Buffer.from('complete\npartial'));
    stream.destroy(new Error('EIO'));
    await done;
    await sink.flush();
    expect(sink.queued).toBe(0);
  });

  it('resolves at once for a stream that already ended', async () => {
    const { lineWriter } = createLogger(
      { level: 'info', format: 'default', output: 'stdout' },
      createSink(join(dir(), 'x.log')),
    );
    const stream = Readable.from([]);
    stream.resume();
    await new Promise((r) => stream.once('end', r));
    await relayLines(stream, { job: 'web', stream: 'stdout', writer: lineWriter });
  });

  it('relays stdout and stderr of a real child, tagged with their stream', async () => {
    const d = dir();
    const output = join(d, 'out.log');
    const { lineWriter, sink } = createLogger({ level: 'info', format: 'json', output });
    const child = spawn('sh', ['-c', 'seq 1 1000; echo oops >&2; printf tail'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await Promise.all([
      relayLines(child.stdout, { job: 'web', stream: 'stdout', writer: lineWriter }),
      relayLines(child.stderr, { job: 'web', stream: 'stderr', writer: lineWriter }),
    ]);
    await sink.close();
    const recs = splitLines(readFileSync(output)).map((l) => JSON.parse(String(l)) as { msg: string; stream: string });
    expect(recs.filter((r) => r.stream === 'stdout').map((r) => r.msg)).toEqual([
      ...Array.from({ length: 1000 }, (_, i) => String(i + 1)),
      'tail',
    ]);
    expect(recs.filter((r) => r.stream === 'stderr').map((r) => r.msg)).toEqual(['oops']);
  });
});

describe('relayLines: big chunks', () => {
  it('handles one huge chunk of many lines and of empty lines', async () => {
    const d = dir();
    const output = join(d, 'out.log');
    const { lineWriter, sink } = createLogger({ level: 'info', format: 'json', output });
    const lines = Array.from({ length: 50_000 }, (_, i) => `entry ${i}`);
    const empties = Buffer.alloc(1 * MiB, '\n');
    await relayLines(Readable.from([Buffer.from(lines.join('\n') + '\n'), empties, Buffer.from('end\n')]), {
      job: 'web',
      stream: 'stdout',
      writer: lineWriter,
    });
    await sink.close();
    // Honoured back-pressure between slices of the big chunks: nothing hit the hard limit.
    expect(sink.dropped).toBe(0);
    expect(sink.maxQueued).toBeLessThan(sink.limit);
    const out = splitLines(readFileSync(output));
    expect(out).toHaveLength(50_000 + 1 * MiB + 1);
    expect(out.slice(0, 50_000).map((l) => (JSON.parse(String(l)) as { msg: string }).msg)).toEqual(lines);
    expect((JSON.parse(String(out[50_000])) as { msg: string }).msg).toBe('');
    expect((JSON.parse(String(out[out.length - 1])) as { msg: string }).msg).toBe('end');
  });
});
