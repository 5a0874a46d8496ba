/**
 * Job output and log formats (docs/processes.md Output, §8): long lines, missing final newline,
 * invalid UTF-8, raw pass-through, the three formats, log to a file, and a fast writer
 * losing nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  anyThreadBlockedOnPipeWrite,
  blockedOnPipeWrite,
  budget,
  bytesWritten,
  jobLine,
  stripStamp,
  TIMESTAMP,
  until,
  useHarness,
  withArg,
} from './support.js';

const h = useHarness();

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;

describe('job output in the default format', () => {
  it('a single 8 MiB line is logged as one line, intact', async () => {
    const size = 8 * 1024 * 1024;
    // printable, no newline, not repetitive (so a lost or repeated chunk changes the hash)
    const content = randomBytes((size * 3) / 4)
      .toString('base64')
      .slice(0, size);
    expect(content.length).toBe(size);
    const file = h().path('big.txt');
    writeFileSync(file, `${content}\n`);
    const p = h().run({ jobs: [{ name: 'big', exec: ['cat', file] }] });
    expect(await p.waitExit(60_000), p.transcript(500)).toEqual({ code: 0, signal: null });
    const bigLines = p.lines.filter((l) => l.length > 1_000);
    expect(bigLines).toHaveLength(1);
    const rest = stripStamp(bigLines[0]!);
    expect(rest?.startsWith('big ')).toBe(true);
    const logged = rest!.slice('big '.length);
    expect(logged.length).toBe(size);
    expect(sha256(logged)).toBe(sha256(content));
  }, 90_000);

  it('output without a trailing newline is logged', async () => {
    const p = h().run({ jobs: [{ name: 'tail', exec: ['printf', 'first\\nno-newline-tail'] }] });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/^\S+ tail first$/)).toHaveLength(1);
    expect(p.matching(/^\S+ tail no-newline-tail$/), p.transcript()).toHaveLength(1);
  });

  it('stderr is logged too', async () => {
    const p = h().run({ jobs: [{ name: 'errs', exec: ['sh', '-c', 'echo to-stderr >&2'] }] });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/^\S+ errs to-stderr$/), p.transcript()).toHaveLength(1);
  });

  it('invalid UTF-8 and binary bytes pass through byte-exact', async () => {
    const bytes = Buffer.from([
      ...Buffer.from('bad:'),
      0xff,
      0xfe,
      0x3a,
      0xc3,
      0x28,
      0x00,
      0x01,
      0x7f,
      ...Buffer.from(':ok é ✓ 😀'),
    ]);
    const file = h().path('bin.dat');
    writeFileSync(file, Buffer.concat([bytes, Buffer.from('\n')]));
    const p = h().run({ jobs: [{ name: 'bin', exec: ['cat', file] }] });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    const out = p.stdout();
    const needle = Buffer.concat([Buffer.from(' bin '), bytes, Buffer.from('\n')]);
    expect(out.indexOf(needle), p.transcript()).toBeGreaterThanOrEqual(0);
    // …and it is one log line: a timestamp right before it.
    const at = out.indexOf(needle);
    const lineStart = out.lastIndexOf(10, at) + 1;
    expect(out.subarray(lineStart, at).toString('utf8')).toMatch(new RegExp(`${TIMESTAMP.source}$`));
  });

  it('a job writing 200,000 lines as fast as it can: all logged, in order', async () => {
    const n = 200_000;
    const p = h().run({ jobs: [{ name: 'seq', exec: ['seq', '1', String(n)] }] });
    expect(await p.waitExit(60_000), p.transcript(500)).toEqual({ code: 0, signal: null });
    const got: number[] = [];
    for (const line of p.lines) {
      const m = / seq (\d+)$/.exec(line);
      if (m && TIMESTAMP.test(line)) got.push(Number(m[1]));
    }
    let firstBad = -1;
    for (let i = 0; i < Math.max(n, got.length); i++) {
      if (got[i] !== i + 1) {
        firstBad = i;
        break;
      }
    }
    const why =
      firstBad >= 0
        ? `${got.length} lines logged; line #${firstBad + 1} is ${got[firstBad]}; the last logged is ${got.at(-1)}`
        : '';
    expect(firstBad, why).toBe(-1);
    expect(got.length).toBe(n);
  }, 90_000);

  /**
   * Output still in a job's pipe when the job ends must be logged before pidpilot exits.
   * The log reader (this test) is stuck, so a flooding job keeps the sink above its
   * high-water mark and every relay is waiting for 'drain'. A writer's `seq` then fills its
   * pipe and blocks: at that moment every byte it has written (`wchar`) is in pidpilot's
   * buffers or in the pipe. The writer then ends (shutdown, or it is the main job and exits)
   * and, once its processes are gone, the reader resumes: all those bytes must be in the log.
   */
  async function outputLeftInThePipe(end: 'SIGTERM' | 'main exits'): Promise<void> {
    const tag = `seq-${h().marker}`;
    const writerTag = `writer-${h().marker}`;
    const floodLine = `flood-${h().marker} ${'x'.repeat(100)}`;
    const go = h().path('go');
    const done = h().path('done');
    const p = h().run(
      {
        ...(end === 'main exits' ? { main: 'writer' } : {}),
        jobs: [
          { name: 'flood', exec: ['yes', floodLine] },
          {
            name: 'writer',
            exec: [
              'sh',
              '-c',
              `until [ -e ${go} ]; do sleep 0.05; done; seq -f '${tag} %g' 1 1000000 & until [ -e ${done} ]; do sleep 0.05; done; exit 0`,
              writerTag,
            ],
          },
        ],
      },
      { pauseStdout: true },
    );
    const flood = await until(() => withArg(floodLine)[0], 'the flood job');
    await until(() => blockedOnPipeWrite(flood.pid), 'the flood job to be blocked by back-pressure');
    writeFileSync(go, '');
    const seq = await until(() => withArg(`${tag} %g`)[0], 'the seq process');
    await until(() => blockedOnPipeWrite(seq.pid), 'seq to be blocked on its full pipe');
    const written = bytesWritten(seq.pid);
    expect(written, 'wchar of /proc/PID/io').not.toBeNull();
    if (end === 'SIGTERM') p.signal('SIGTERM');
    else writeFileSync(done, '');
    await until(() => withArg(writerTag).length === 0 && withArg(`${tag} %g`).length === 0, 'the writer to be gone');
    p.resumeStdout();
    expect(await p.waitExit(), p.transcript(2000)).toEqual({ code: 0, signal: null });

    // The writer's output lines: `<ts> writer <tag> <n>`, and maybe a last line cut short
    // anywhere (seq's last write ended mid-line), e.g. `<ts> writer <start of tag>`.
    const logged = p.lines
      .map((l) => stripStamp(l))
      .filter((r): r is string => r !== null && r.startsWith('writer '))
      .map((r) => r.slice('writer '.length))
      .filter((r) => r.startsWith(`${tag} `) || `${tag} `.startsWith(r));
    // in order, none missing (the last one may be cut short)
    const bad = logged.slice(0, -1).findIndex((r, i) => r !== `${tag} ${i + 1}`);
    expect(bad, `logged line #${bad + 1} of the writer is "${logged[bad]}" (${logged.length} lines logged)`).toBe(-1);
    // each line and its newline (one too many for a cut last line, which is fine for ≥)
    const loggedBytes = logged.reduce((sum, r) => sum + Buffer.byteLength(r) + 1, 0);
    expect(
      loggedBytes,
      `seq had written ${written} bytes; ${logged.length} lines (${loggedBytes} bytes) were logged`,
    ).toBeGreaterThanOrEqual(written!);
  }

  it('output left in the pipe of a job stopped by shutdown is logged (slow log reader)', async () => {
    await outputLeftInThePipe('SIGTERM');
  });

  it('output left in the pipe of a main job that exited is logged (slow log reader)', async () => {
    await outputLeftInThePipe('main exits');
  });

  it('with level WARN, job output (INFO) is not logged but the job still runs', async () => {
    const p = h().run({
      logging: { level: 'WARN' },
      jobs: [
        { name: 'quiet', exec: ['sh', '-c', 'seq 1 1000; echo quiet-line'] },
        { name: 'after', exec: ['sh', '-c', 'exit 3'], when: { source: 'quiet', once: 'exitSuccess' } },
      ],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/quiet-line/)).toEqual([]);
    expect(p.matching(jobLine('after', 'exited with code 3$')), p.transcript()).toHaveLength(1);
  });
});

describe('log order', () => {
  // Every line is stamped when it is handed to the log, and the log keeps call order,
  // so the timestamps never go backwards and "exiting" is the last line.
  const CONFIG = {
    logging: { level: 'DEBUG' },
    jobs: [
      { name: 'missing', exec: ['no-such-program-for-order-test'] },
      { name: 'flaky', exec: ['sh', '-c', 'echo attempt; exit 1'], restarts: 1 },
      { name: 'chatty', exec: ['sh', '-c', 'seq 1 200'] },
    ],
  };

  function checkOrder(lines: readonly string[], where: string): void {
    const stamps = lines.map((l) => TIMESTAMP.exec(l)?.[0]);
    expect(
      stamps.every((s) => s !== undefined),
      where,
    ).toBe(true);
    const times = stamps.map((s) => Date.parse(s!));
    const back = times.findIndex((t, i) => i > 0 && t < times[i - 1]!);
    expect(
      back,
      back >= 0
        ? `${where}: line ${back + 1} goes back in time:\n${lines.slice(Math.max(0, back - 3), back + 2).join('\n')}`
        : '',
    ).toBe(-1);
    expect(lines.at(-1), where).toMatch(/pidpilot exiting with status 0$/);
  }

  it('log lines on stdout are in order, and the exit line is the last one', async () => {
    for (let run = 1; run <= 8; run++) {
      const p = h().run(CONFIG);
      expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
      checkOrder(p.lines, `run ${run}`);
    }
  });

  it('log lines in a log file are in order, and the exit line is the last one', async () => {
    for (let run = 1; run <= 8; run++) {
      const log = h().path(`order-${run}.log`);
      const p = h().run({ ...CONFIG, logging: { level: 'DEBUG', output: log } });
      expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
      checkOrder(readFileSync(log, 'utf8').split('\n').slice(0, -1), `run ${run}`);
    }
  });
});

describe('a log reader that goes away', () => {
  it('pidpilot still exits when its log reader is stuck, and when the reader then goes away', async () => {
    // The reader is stuck, so the log queue is full and a write to the pipe blocks in a
    // worker thread. Told to stop, pidpilot must give up on the log it cannot write and
    // exit — not hang in a final flush or in joining that thread.
    const floodLine = `flood-${h().marker} ${'x'.repeat(100)}`;
    const p = h().run(
      { stopTimeout: '1s', jobs: [{ name: 'flood', exec: ['yes', floodLine] }] },
      { pauseStdout: true },
    );
    const flood = await until(() => withArg(floodLine)[0], 'the flood job');
    await until(() => blockedOnPipeWrite(flood.pid), 'the flood job to be blocked by back-pressure');
    // The job blocked on its pipe shows only that pidpilot has not read it yet (under load it
    // may merely be slow); pidpilot's own write to its stuck reader is what leaves bytes queued.
    await until(() => anyThreadBlockedOnPipeWrite(p.pid), "pidpilot's log output to be blocked on the full pipe");
    p.signal('SIGTERM');
    const r = await p.waitExit(budget(15_000));
    expect(r.signal, p.stderrText()).toBeNull();
    expect(r.code, p.stderrText()).toBe(0);
    expect(p.stderrText()).toMatch(/log output is not being read/);
    p.closeStdout();
    await h().expectNoLeftovers();
  });
});

describe('logging.raw', () => {
  it('passes output through untouched, without prefix', async () => {
    const bytes = Buffer.concat([
      Buffer.from('raw-line-one\n'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('raw-binary\nraw-no-newline'),
    ]);
    const file = h().path('raw.dat');
    writeFileSync(file, bytes);
    const p = h().run({
      jobs: [
        { name: 'rawjob', exec: ['cat', file], logging: { raw: true } },
        { name: 'rawerr', exec: ['sh', '-c', 'echo raw-to-stderr >&2'], logging: { raw: true } },
      ],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.stdout().indexOf(bytes), p.transcript()).toBeGreaterThanOrEqual(0);
    expect(p.lines).toContain('raw-line-one');
    expect(p.lines.filter((l) => l.includes('raw-line-one'))).toEqual(['raw-line-one']);
    // stderr of a raw job goes to pidpilot's stderr, untouched
    expect(p.errLines).toContain('raw-to-stderr');
  });
});

describe('formats', () => {
  it('text: logfmt lines for the supervisor and for job output', async () => {
    const p = h().run({
      logging: { format: 'text' },
      jobs: [{ name: 'txt', exec: ['sh', '-c', 'echo \'hello "text" world\'; echo to-err >&2'] }],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?(?:Z|[+-]\\d\\d:\\d\\d)';
    expect(
      p.matching(new RegExp(`^time=${stamp} level=info msg="hello \\\\"text\\\\" world" job=txt stream=stdout$`)),
      p.transcript(),
    ).toHaveLength(1);
    expect(p.matching(new RegExp(`^time=${stamp} level=info msg="to-err" job=txt stream=stderr$`))).toHaveLength(1);
    expect(
      p.matching(new RegExp(`^time=${stamp} level=info msg="pidpilot \\S+ started: pid ${p.pid}, 1 job from [^"]+"$`)),
    ).toHaveLength(1);
    // every line is logfmt
    for (const line of p.lines) expect(line).toMatch(new RegExp(`^time=${stamp} level=\\w+ msg="`));
  });

  it('json: one object per line for the supervisor and for job output', async () => {
    const bad = Buffer.concat([Buffer.from('not-utf8:'), Buffer.from([0xff, 0xfe])]);
    const file = h().path('bad.dat');
    writeFileSync(file, Buffer.concat([bad, Buffer.from('\n')]));
    const p = h().run({
      logging: { format: 'json' },
      jobs: [
        { name: 'js', exec: ['sh', '-c', 'echo \'hello "json"\'; echo to-err >&2'] },
        { name: 'jsbad', exec: ['cat', file] },
      ],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    const recs = p.lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not JSON: ${l}`);
      }
    });
    for (const r of recs) {
      expect(typeof r.level).toBe('string');
      expect(r.time).toMatch(RFC3339);
      expect(typeof r.msg).toBe('string');
    }
    expect(recs).toContainEqual({
      level: 'info',
      time: expect.any(String),
      job: 'js',
      stream: 'stdout',
      msg: 'hello "json"',
    });
    expect(recs).toContainEqual({
      level: 'info',
      time: expect.any(String),
      job: 'js',
      stream: 'stderr',
      msg: 'to-err',
    });
    expect(
      recs.some((r) => r.level === 'info' && /^pidpilot \S+ started: pid \d+, 2 jobs from /.test(String(r.msg))),
    ).toBe(true);
    const badRec = recs.find((r) => r.job === 'jsbad');
    expect(badRec, p.transcript()).toBeDefined();
    // the exact bytes are kept, as base64
    expect(Buffer.from(String(badRec!.bytes), 'base64').equals(bad)).toBe(true);
  });

  it('output to a file', async () => {
    const log = h().path('pidpilot.log');
    const p = h().run({
      logging: { output: log },
      jobs: [{ name: 'filed', exec: ['sh', '-c', 'echo into-the-file'] }],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(lines.filter((l) => TIMESTAMP.test(l) && / filed into-the-file$/.test(l))).toHaveLength(1);
    expect(lines.some((l) => /pidpilot exiting with status 0$/.test(l))).toBe(true);
    expect(p.matching(/into-the-file/, 'any')).toEqual([]);
  });

  it('output to stderr', async () => {
    const p = h().run({
      logging: { output: 'stderr' },
      jobs: [{ name: 'errlog', exec: ['sh', '-c', 'echo on-stderr-now'] }],
    });
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(p.matching(/ errlog on-stderr-now$/, 'stderr')).toHaveLength(1);
    expect(p.matching(/on-stderr-now/, 'stdout')).toEqual([]);
  });
});
