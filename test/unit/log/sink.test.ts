import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSink } from '../../../src/log/sink.js';
import { buildLogForChild, cleanupTempDirs, collect, exited, node, tempDir, testDir } from './support.js';

afterEach(cleanupTempDirs);
const dir = testDir;

describe('file sink', () => {
  it('writes Buffers byte for byte and strings as UTF-8, appending to what is there', async () => {
    const file = join(dir(), 'out.log');
    writeFileSync(file, 'existing\n');
    const sink = createSink(file);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    sink.write(all);
    sink.write('é ✓\n');
    await sink.close();
    expect(readFileSync(file).equals(Buffer.concat([Buffer.from('existing\n'), all, Buffer.from('é ✓\n')]))).toBe(true);
  });

  it('returns false at the high-water mark and emits drain once the queue is low again', async () => {
    const file = join(dir(), 'out.log');
    const sink = createSink(file, { highWaterMark: 1000, lowWaterMark: 100 });
    expect(sink.write(Buffer.alloc(600, 'a'))).toBe(true);
    expect(sink.write(Buffer.alloc(600, 'b'))).toBe(false);
    expect(sink.queued).toBe(1200);
    await new Promise<void>((resolve) => sink.once('drain', resolve));
    expect(sink.queued).toBeLessThanOrEqual(100);
    await sink.close();
    expect(readFileSync(file).toString()).toBe('a'.repeat(600) + 'b'.repeat(600));
  });

  it('flushSync writes everything queued before it returns (a write already in flight completes on its own)', async () => {
    const file = join(dir(), 'out.log');
    const sink = createSink(file);
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      lines.push(`line ${i}\n`);
      sink.write(lines[i]);
    }
    sink.flushSync();
    // Only the first write went out asynchronously; everything after it was written here.
    expect(sink.queued).toBeLessThanOrEqual(lines[0]!.length);
    expect(await sink.drain(5000)).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
    expect(sink.queued).toBe(0);
  });

  it('reopen() after a rename: queued lines finish in the old file, new ones go to a new file', async () => {
    const d = dir();
    const file = join(d, 'app.log');
    const sink = createSink(file);
    for (let i = 0; i < 1000; i++) sink.write(`old ${i}\n`);
    renameSync(file, `${file}.1`);
    sink.reopen();
    for (let i = 0; i < 1000; i++) sink.write(`new ${i}\n`);
    await sink.close();
    expect(readFileSync(`${file}.1`, 'utf8')).toBe(Array.from({ length: 1000 }, (_, i) => `old ${i}\n`).join(''));
    expect(readFileSync(file, 'utf8')).toBe(Array.from({ length: 1000 }, (_, i) => `new ${i}\n`).join(''));
  });

  it('reopen() keeps the old file when the path cannot be opened', async () => {
    const d = dir();
    const file = join(d, 'sub', 'app.log');
    const { mkdirSync, rmSync } = await import('node:fs');
    mkdirSync(join(d, 'sub'));
    const warnings: string[] = [];
    const sink = createSink(file, { warn: (m) => warnings.push(m) });
    sink.write('one\n');
    await sink.flush();
    renameSync(file, join(d, 'kept.log'));
    rmSync(join(d, 'sub'), { recursive: true });
    sink.reopen();
    sink.write('two\n');
    await sink.close();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot reopen/);
    expect(readFileSync(join(d, 'kept.log'), 'utf8')).toBe('one\ntwo\n');
    expect(existsSync(file)).toBe(false);
  });

  it('drops writes beyond its hard limit when the output stops taking bytes, noted once', async () => {
    const d = dir();
    const fifo = join(d, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A reader that opens the FIFO and reads nothing for a while: the output is stuck.
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); const fd = fs.openSync(process.argv[1], 'r');
         setTimeout(() => { const b = Buffer.alloc(65536); while (fs.readSync(fd, b) > 0); }, 500);`,
        fifo,
      ],
      { stdio: 'ignore' },
    );
    const warnings: string[] = [];
    const sink = createSink(fifo, { highWaterMark: 1024, limit: 1024 * 1024, warn: (m) => warnings.push(m) });
    for (let i = 0; i < 5000; i++) sink.write(Buffer.alloc(1000, 'x'));
    expect(sink.queued).toBeLessThanOrEqual(1024 * 1024);
    expect(sink.dropped).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/is not taking bytes/);
    // Once the reader reads, the queue drains and writes are taken again.
    await new Promise<void>((resolve) => sink.once('drain', resolve));
    const dropped = sink.dropped;
    expect(sink.write('again\n')).toBe(true);
    expect(sink.dropped).toBe(dropped);
    await sink.close();
    expect((await exited(reader)).code).toBe(0);
    expect(warnings).toHaveLength(1);
  });

  it('a failing write (ENOSPC) drops that output, is noted once, and never throws or stalls', async () => {
    const warnings: string[] = [];
    const sink = createSink('/dev/full', { warn: (m) => warnings.push(m), highWaterMark: 4096 });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) sink.write(`line ${i}\n`);
      await sink.flush();
    }
    sink.write('more\n');
    sink.flushSync();
    expect(await sink.drain(5000)).toBe(true);
    expect(sink.queued).toBe(0);
    expect(sink.dropped).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ENOSPC/);
    await sink.close();
  });
});

describe('exit paths', () => {
  it('flushSync returns on a closed output (EPIPE) instead of retrying forever', async () => {
    const fifo = join(dir(), 'fifo');
    spawnSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const warnings: string[] = [];
    const sink = createSink(fifo, { warn: (m) => warnings.push(m) });
    closeSync(reader); // the reader is gone before anything is written
    sink.write(Buffer.from('first\n')); // goes out asynchronously
    sink.write(Buffer.from('second\n')); // still queued when flushSync runs
    sink.flushSync();
    expect(await sink.drain(10_000)).toBe(true);
    expect(sink.dropped).toBeGreaterThan(0);
    expect(warnings.join('\n')).toMatch(/EPIPE/);
  });

  it('drain() resolves false when the output does not take the queue in time', async () => {
    const fifo = join(dir(), 'fifo');
    spawnSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const sink = createSink(fifo);
    sink.write(Buffer.alloc(1 << 20, 'x')); // more than a pipe holds, never read
    expect(await sink.drain(300)).toBe(false);
    closeSync(reader); // lets the blocked write fail, so the worker thread is released
    expect(await sink.drain(10_000)).toBe(true);
  });
});

describe('stdout sink in a real process', () => {
  let lib = '';
  let cleanup = (): void => {};
  beforeAll(() => {
    const t = tempDir();
    cleanup = t.cleanup;
    lib = buildLogForChild(t.dir);
  });
  afterAll(() => cleanup());

  // The child makes its stdout non-blocking the way any use of process.stdout does, then
  // logs 1 MiB while the parent does not read for a while: writes meet EAGAIN (or, on our
  // own descriptor of a pipe, block in a libuv worker).
  const nonBlockingWriter = (mode: string, lib: string) => `
    import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
    const { createSink } = await import('${lib}/sink.js');
    process.stdout; // libuv sets O_NONBLOCK on the pipe or socket
    const flags = parseInt(/flags:\\s+(\\d+)/.exec(readFileSync('/proc/self/fdinfo/1', 'utf8'))[1], 8);
    if ((flags & 0o4000) === 0) { process.stderr.write('stdout is not non-blocking\\n'); process.exit(3); }
    const sink = createSink('stdout', { reopenPipes: ${mode !== 'shared-fd'} });
    const target = readlinkSync('/proc/self/fd/1');
    const same = readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd) === target; } catch { return false; } });
    process.stderr.write('descriptors=' + same.length + ' ' + target.replace(/:.*/, '') + '\\n');
    for (let i = 0; i < 9000; i++) sink.write('line ' + i + ' ' + 'x'.repeat(110) + '\\n');
    if (${mode === 'flushSync'}) { sink.flushSync(); process.exit(0); }
    await sink.flush();
  `;

  const cases = ['own-fd', 'shared-fd', 'flushSync'].flatMap((mode) => [
    [mode, 'socket'],
    [mode, 'pipe'],
  ]);

  it.each(cases)('loses nothing and never throws on a non-blocking stdout (%s, %s)', async (mode, kind) => {
    const script = nonBlockingWriter(mode, lib);
    // Node gives a child a socket for stdout; a container runtime gives a pipe. `| cat` makes it a pipe.
    const child =
      kind === 'socket'
        ? node(script)
        : spawn('sh', ['-c', '"$0" --input-type=module -e "$1" | cat', process.execPath, script], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    child.stdout!.pause();
    await new Promise((r) => setTimeout(r, 300));
    const out = collect(child.stdout!);
    child.stdout!.resume(); // after an explicit pause(), a 'data' listener alone does not resume
    const [err, exit] = await Promise.all([collect(child.stderr!), exited(child)]);
    // With a pipe and reopenPipes, the sink writes through a second, blocking descriptor.
    const descriptors = kind === 'pipe' && mode !== 'shared-fd' ? 2 : 1;
    expect(err.toString()).toBe(`descriptors=${descriptors} ${kind}\n`);
    expect(exit.code).toBe(0);
    const lines = (await out).toString().split('\n').slice(0, -1);
    expect(lines).toHaveLength(9000);
    lines.forEach((l, i) => {
      if (l !== `line ${i} ${'x'.repeat(110)}`) expect(l, `line ${i}`).toBe(`line ${i} ${'x'.repeat(110)}`);
    });
  });

  it.each(['socket', 'pipe'])(
    'survives stdout being closed (EPIPE, %s): drops output, notes it once on stderr',
    async (kind) => {
      const script = `
      const { createSink } = await import('${lib}/sink.js');
      const sink = createSink('stdout');
      sink.write('hello\\n');
      const deadline = Date.now() + 10_000;
      while (sink.dropped === 0 && Date.now() < deadline) {
        sink.write('more\\n');
        await new Promise((r) => setTimeout(r, 5));
      }
      for (let i = 0; i < 100; i++) sink.write('after\\n');
      sink.flushSync();
      await sink.flush();
      process.stderr.write('alive dropped=' + (sink.dropped > 0) + '\\n');
    `;
      const child =
        kind === 'socket'
          ? node(script)
          : spawn('sh', ['-c', '"$0" --input-type=module -e "$1" | cat', process.execPath, script], {
              stdio: ['ignore', 'pipe', 'pipe'],
            });
      // Read the first line, then close our end.
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      child.stdout!.destroy();
      const [err, exit] = await Promise.all([collect(child.stderr!), exited(child)]);
      if (kind === 'socket') expect(exit.code).toBe(0);
      const notes = err
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('pidpilot:'));
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(
        /^pidpilot: log output stdout is closed \((EPIPE|ECONNRESET)\); further log output is dropped$/,
      );
      expect(err.toString()).toContain('alive dropped=true');
    },
  );
});

describe('sonic-boom internals', () => {
  // Sink.flushSync() reads sonic-boom's queue (see BoomQueue in src/log/sink.ts); package.json
  // pins sonic-boom exactly. This fails when an upgrade changes what those fields hold.
  it('buffer mode: one chunk in flight in _writingBuf, the rest in _bufs/_lens/_len, fd the descriptor', async () => {
    // CommonJS: the default import is module.exports, the constructor.
    const SonicBoom = (await import('sonic-boom')).default as unknown as new (o: object) => unknown;
    const file = join(dir(), 'boom.log');
    const fd = openSync(file, 'a');
    const boom = new SonicBoom({ fd, sync: false, contentMode: 'buffer', maxWrite: 1024 }) as unknown as Record<
      string,
      unknown
    > & {
      write(b: Buffer): boolean;
      end(): void;
      on(e: string, f: () => void): void;
    };
    const first = Buffer.from('first\n');
    const rest = [Buffer.from('second\n'), Buffer.from('third\n')];
    boom.write(first);
    for (const b of rest) boom.write(b);
    expect(boom.fd).toBe(fd);
    expect(boom._writing).toBe(true);
    expect(Buffer.isBuffer(boom._writingBuf) && (boom._writingBuf as Buffer).equals(first)).toBe(true);
    expect(boom._bufs).toEqual([rest]);
    expect(boom._lens).toEqual([rest[0]!.length + rest[1]!.length]);
    expect(boom._len).toBe(first.length + rest[0]!.length + rest[1]!.length);
    await new Promise<void>((resolve) => {
      boom.on('close', resolve);
      boom.end();
    });
    expect(readFileSync(file, 'utf8')).toBe('first\nsecond\nthird\n');
  });
});
