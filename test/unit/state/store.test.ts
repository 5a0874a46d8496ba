import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';
import { relayLines } from '../../../src/log/relay.js';
import type { RunRecord } from '../../../src/process/types.js';
import { attachHistory } from '../../../src/state/attach.js';
import { MAX_READ_BYTES } from '../../../src/state/history-files.js';
import { eventsPath, runsPath } from '../../../src/state/layout.js';
import { openHistory } from '../../../src/state/offline.js';
import { HistoryStore, type HistoryStoreOptions } from '../../../src/state/store.js';
import type { StoredEvent, StoredLogLine } from '../../../src/state/types.js';
import { Supervisor } from '../../../src/supervisor.js';
import { config, job, MemorySink } from '../../support/jobs.js';

const dirs: string[] = [];
const stores: HistoryStore[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pidpilot-history-'));
  dirs.push(d);
  return d;
}
function store(opts: Partial<HistoryStoreOptions> & { dir: string }): HistoryStore {
  const s = new HistoryStore({
    keepRuns: 3,
    maxEventLogBytes: 1 << 20,
    warn: (m) => {
      throw new Error(m);
    },
    ...opts,
  });
  stores.push(s);
  return s;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(n: number, outcome: RunRecord['outcome'] = 'succeeded'): RunRecord {
  return {
    run: n,
    pid: 100 + n,
    startedAt: n * 1000,
    endedAt: n * 1000 + 5,
    durationMs: 5,
    code: outcome === 'succeeded' ? 0 : 1,
    signal: null,
    outcome,
  };
}

/** Relays `text` as a job's stdout through the store's capturing writer. */
async function relay(
  s: HistoryStore,
  jobName: string,
  text: Buffer | string,
  level: 'info' | 'warn' = 'info',
  stream: 'stdout' | 'stderr' = 'stdout',
): Promise<MemorySink> {
  const sink = new MemorySink();
  const { lineWriter } = createLogger({ level, format: 'default', output: 'stdout' }, sink);
  const pipe = new PassThrough();
  const done = relayLines(pipe, { job: jobName, stream, writer: s.captureWriter(lineWriter) });
  pipe.end(text);
  await done;
  return sink;
}

describe('HistoryStore', () => {
  it('records events with their boot and reason; reads see what is not written out yet', async () => {
    const dir = tmp();
    const s = store({ dir, boot: 42 });
    s.recordEvent({ seq: 1, time: 10, code: 'startup', source: 'global' });
    s.recordEvent({ seq: 2, time: 11, code: 'failed', source: 'db' }, 'last run failed: exit code 3');
    expect(await s.events()).toEqual([
      { seq: 1, time: 10, code: 'startup', source: 'global', boot: 42 },
      { seq: 2, time: 11, code: 'failed', source: 'db', reason: 'last run failed: exit code 3', boot: 42 },
    ]);
    expect(await s.events({ limit: 1 })).toHaveLength(1);
    expect((await s.events({ limit: 1 }))[0]!.seq).toBe(2);
  });

  it('keeps the last keepRuns run records per job, across restarts', async () => {
    const dir = tmp();
    let s = store({ dir, keepRuns: 3 });
    for (let i = 1; i <= 5; i++) s.recordRun('web', run(i));
    s.recordRun('db', run(1, 'failed'));
    expect((await s.runs('web')).map((r) => r.run)).toEqual([3, 4, 5]);
    expect(await s.runs('db')).toEqual([{ job: 'db', ...run(1, 'failed') }]);
    expect(await s.runs('nope')).toEqual([]);
    expect(await s.runs('../../etc/passwd')).toEqual([]);
    s.close();
    s = store({ dir, keepRuns: 3 });
    for (let i = 6; i <= 20; i++) s.recordRun('web', run(i));
    expect((await s.runs('web')).map((r) => r.run)).toEqual([18, 19, 20]);
    // The file is compacted: never more than twice keepRuns lines.
    expect(readFileSync(join(dir, 'runs', 'web.jsonl'), 'utf8').split('\n').length - 1).toBeLessThanOrEqual(6);
  });

  it('counts the records earlier boots left once near the bound, and compacts past it', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'runs'));
    const lines = (from: number, to: number): string =>
      Array.from({ length: to - from + 1 }, (_, i) => `${JSON.stringify({ job: 'web', ...run(from + i) })}\n`).join('');
    const onDisk = (): number => readFileSync(join(dir, 'runs', 'web.jsonl'), 'utf8').split('\n').length - 1;
    // Twice keepRuns already: the first record of this boot must compact.
    writeFileSync(join(dir, 'runs', 'web.jsonl'), lines(1, 6));
    let s = store({ dir, keepRuns: 3 });
    s.recordRun('web', run(7));
    s.flush();
    expect(onDisk()).toBe(3);
    expect((await s.runs('web')).map((r) => r.run)).toEqual([5, 6, 7]);
    s.close();
    // Far past it (left by a larger keepRuns, or over 64 KiB): compacted at once as well.
    writeFileSync(join(dir, 'runs', 'web.jsonl'), lines(1, 1000));
    s = store({ dir, keepRuns: 3 });
    s.recordRun('web', run(1001));
    s.flush();
    expect(onDisk()).toBe(3);
    expect((await s.runs('web')).map((r) => r.run)).toEqual([999, 1000, 1001]);
  });

  it('writes a run record as the job and then the record, field for field', async () => {
    const dir = tmp();
    const s = store({ dir });
    const failed: RunRecord = { ...run(1, 'errored'), reason: 'timeout "x"', cleanup: [] };
    s.recordRun('web', run(2));
    s.recordRun('web', failed);
    s.flush();
    expect(readFileSync(join(dir, 'runs', 'web.jsonl'), 'utf8')).toBe(
      `${JSON.stringify({ job: 'web', ...run(2) })}\n${JSON.stringify({ job: 'web', ...failed })}\n`,
    );
  });

  it('keeps a run record readable after a torn one left by a crash', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'runs'));
    writeFileSync(join(dir, 'runs', 'web.jsonl'), `${JSON.stringify({ job: 'web', ...run(1) })}\n{"job":"web","ru`);
    const s = store({ dir });
    s.recordRun('web', run(2));
    expect((await s.runs('web')).map((r) => r.run)).toEqual([1, 2]);
    expect(s.stats.corrupt).toBe(1);
  });

  it('captures job output per job and stream, byte-exact lines decoded as UTF-8 on read', async () => {
    const s = store({ dir: tmp() });
    const sink = await relay(
      s,
      'web',
      Buffer.concat([
        Buffer.from('héllo\r\nsecond\n\n'),
        Buffer.from([0xff, 0x41, 10]),
        Buffer.from('no newline at end'),
      ]),
    );
    await relay(s, 'web', 'oops\n', 'info', 'stderr');
    expect(sink.lines.map((l) => l.replace(/^\S+ web /, ''))).toEqual([
      'héllo',
      'second',
      '',
      '\ufffdA',
      'no newline at end',
    ]);
    const logs = await s.logs('web');
    expect(logs.map((l) => [l.stream, l.line])).toEqual([
      ['stdout', 'héllo'],
      ['stdout', 'second'],
      ['stdout', ''],
      ['stdout', '\ufffdA'],
      ['stdout', 'no newline at end'],
      ['stderr', 'oops'],
    ]);
    expect(logs.every((l) => l.job === 'web' && Number.isInteger(l.time))).toBe(true);
    expect((await s.logs('web', { limit: 2 })).map((l) => l.line)).toEqual(['no newline at end', 'oops']);
    expect(await s.logs('other')).toEqual([]);
  });

  it('captures output the log level hides, and cuts over-long lines in the capture only', async () => {
    const s = store({ dir: tmp() });
    const sink = await relay(s, 'quiet', `hidden\n${'x'.repeat(100_000)}\nafter\n`, 'warn');
    expect(sink.text).toBe('');
    const lines = (await s.logs('quiet')).map((l) => l.line);
    expect(lines).toEqual(['hidden', 'x'.repeat(64 * 1024), 'after']);
  });

  it('rotates a job log by size, keeping the newest lines readable', async () => {
    const dir = tmp();
    const s = store({ dir, maxJobLogBytes: 4096 });
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    // In many chunks, as a pipe would deliver them.
    const sink = new MemorySink();
    const { lineWriter } = createLogger({ level: 'info', format: 'default', output: 'stdout' }, sink);
    const pipe = new PassThrough();
    const done = relayLines(pipe, { job: 'chatty', stream: 'stdout', writer: s.captureWriter(lineWriter) });
    for (let i = 0; i < text.length; i += 1000) {
      pipe.write(text.slice(i, i + 1000));
      await new Promise((r) => setImmediate(r));
    }
    pipe.end();
    await done;
    const lines = (await s.logs('chatty')).map((l) => l.line);
    expect(lines.at(-1)).toBe('line 1999');
    expect(lines.length).toBeLessThan(2000);
    expect(statSync(join(dir, 'logs', 'chatty.log')).size).toBeLessThanOrEqual(4096);
    expect(statSync(join(dir, 'logs', 'chatty.log.1')).size).toBeLessThanOrEqual(4096);
  });

  it('hands new events and lines to followers, in order, until they unfollow', async () => {
    const s = store({ dir: tmp(), boot: 7 });
    const events: StoredEvent[] = [];
    const lines: StoredLogLine[] = [];
    const unfollowEvents = s.followEvents((e) => events.push(e));
    const unfollowLogs = s.followLogs('web', (l) => lines.push(l));
    s.recordEvent({ seq: 1, time: 1, code: 'startup', source: 'global' });
    await relay(s, 'web', 'a\r\nb\n');
    await relay(s, 'db', 'not followed\n');
    unfollowEvents();
    unfollowLogs();
    s.recordEvent({ seq: 2, time: 2, code: 'shutdown', source: 'global' });
    await relay(s, 'web', 'c\n');
    expect(events).toEqual([{ seq: 1, time: 1, code: 'startup', source: 'global', boot: 7 }]);
    expect(lines.map((l) => `${l.job}:${l.stream}:${l.line}`)).toEqual(['web:stdout:a', 'web:stdout:b']);
  });

  it('batches writes until writePromptly(), then writes at the next turn (the shutdown calls it)', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const dir = tmp();
      const s = store({ dir });
      const record = (run: number): void =>
        s.recordRun('web', {
          run,
          pid: 100 + run,
          startedAt: 0,
          endedAt: 1,
          durationMs: 1,
          code: 0,
          signal: null,
          outcome: 'succeeded',
        });
      const runsOnDisk = (): number => {
        try {
          return readFileSync(runsPath(dir, 'web'), 'utf8').split('\n').filter(Boolean).length;
        } catch {
          return 0;
        }
      };
      record(1);
      s.recordEvent({ seq: 1, time: 10, code: 'startup', source: 'global' });
      vi.advanceTimersByTime(1);
      expect(runsOnDisk()).toBe(0); // batched: up to RECORD_FLUSH_MS later
      s.writePromptly(); // what was waiting for the batch now waits for the next turn only
      vi.advanceTimersByTime(1);
      expect(runsOnDisk()).toBe(1);
      expect(readFileSync(eventsPath(dir), 'utf8')).toContain('"code":"startup"');
      record(2);
      vi.advanceTimersByTime(1);
      expect(runsOnDisk()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('ignores records after close', async () => {
    const dir = tmp();
    const s = store({ dir });
    s.recordEvent({ seq: 1, time: 1, code: 'startup', source: 'global' });
    s.close();
    s.recordEvent({ seq: 2, time: 2, code: 'shutdown', source: 'global' });
    s.recordRun('web', run(1));
    expect((await openHistory(dir).events()).map((e) => e.seq)).toEqual([1]);
    expect(await openHistory(dir).runs('web')).toEqual([]);
  });
});

describe('OfflineHistory', () => {
  it('reads what a store wrote, and follows it as a polled tail across a rotation', async () => {
    const dir = tmp();
    const s = store({ dir, boot: 1, maxEventLogBytes: 1024 });
    s.recordEvent({ seq: 1, time: 1, code: 'startup', source: 'global' });
    s.flush();
    const reader = openHistory(dir, { pollMs: 10 });
    const seen: number[] = [];
    const lines: string[] = [];
    const stopEvents = reader.followEvents((e) => seen.push(e.seq));
    const stopLogs = reader.followLogs('web', (l) => lines.push(l.line));
    try {
      for (let seq = 2; seq <= 40; seq++) {
        s.recordEvent({ seq, time: seq, code: 'changed', source: 'web' });
        s.flush();
        if (seq % 5 === 0) await new Promise((r) => setTimeout(r, 15));
      }
      await relay(s, 'web', 'tailed\n');
      s.flush();
      const until = Date.now() + 10_000;
      while ((seen.length < 39 || lines.length < 1) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    } finally {
      stopEvents();
      stopLogs();
    }
    expect(seen).toEqual(Array.from({ length: 39 }, (_, i) => i + 2));
    expect(lines).toEqual(['tailed']);
    const events = await reader.events();
    expect(events.at(-1)!.seq).toBe(40);
    expect(events.length).toBeLessThan(40); // rotated: only two generations are kept
  });
});

describe('Supervisor with history', () => {
  it('records events (a failed one with its reason), run records and output of a whole run', async () => {
    const dir = tmp();
    const cfg = config(
      [
        job('a', { exec: ['sh', '-c', 'echo out-a; echo err-a >&2'], restarts: 1 }),
        job('b', { exec: ['sh', '-c', 'exit 3'] }),
      ],
      {
        state: { dir, keepRuns: 5, maxEventLogBytes: 1 << 20 },
        logging: { level: 'info', format: 'default', output: 'stdout' },
      },
    );
    const sink = new MemorySink();
    const { logger, lineWriter } = createLogger(cfg.logging, sink);
    const supervisor: Supervisor = new Supervisor(cfg, {
      log: logger,
      relay: (stream, source, name) => relayLines(stream, { job: source, stream: name, writer }),
    });
    // Attached as the composition root (cli/run-supervisor.ts) does.
    const store = attachHistory(supervisor, logger)!;
    const promptly = vi.spyOn(store, 'writePromptly');
    supervisor.history = store;
    const writer = store.captureWriter(lineWriter);
    expect(await supervisor.run()).toBe(0);
    // The shutdown (every job completed) made the store write the jobs' ends as they came.
    expect(promptly).toHaveBeenCalledTimes(1);

    const h = openHistory(dir);
    const events = await h.events();
    expect(events[0]).toMatchObject({ seq: 1, code: 'startup', source: 'global' });
    expect(events.at(-1)).toMatchObject({ code: 'shutdown' });
    expect(events.find((e) => e.code === 'failed')).toMatchObject({
      source: 'b',
      reason: 'last run failed: exit code 3',
    });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.boot)).size).toBe(1);
    expect((await h.runs('a')).map((r) => [r.job, r.run, r.outcome])).toEqual([
      ['a', 1, 'succeeded'],
      ['a', 2, 'succeeded'],
    ]);
    expect((await h.runs('b')).map((r) => [r.run, r.outcome, r.code])).toEqual([[1, 'failed', 3]]);
    expect((await h.logs('a')).map((l) => `${l.stream}:${l.line}`).sort()).toEqual([
      'stderr:err-a',
      'stderr:err-a',
      'stdout:out-a',
      'stdout:out-a',
    ]);
    // The lock is released at the end.
    expect(() => statSync(join(dir, 'pidpilot.lock'))).toThrow();
  });
});

describe('reading a big history (issue 14 defect 7)', () => {
  it('reads of a 20 MiB event log are bounded to the newest MAX_READ_BYTES and leave the event loop turning', async () => {
    const dir = tmp();
    const line = (i: number) =>
      `{"seq":${i},"time":${i},"code":"exitSuccess","source":"job-with-a-longish-name","boot":1}\n`;
    const parts: string[] = [];
    let size = 0;
    let n = 0;
    while (size < 20 * 1024 * 1024) {
      const l = line(++n);
      parts.push(l);
      size += l.length;
    }
    writeFileSync(join(dir, 'events.jsonl'), parts.join(''), { mode: 0o600 });
    const s = store({ dir, maxEventLogBytes: 64 << 20 });
    // Loop turns while ten reads of "everything" run: a synchronous read would allow none.
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const reads = await Promise.all(Array.from({ length: 10 }, () => s.events({ limit: 999_999_999 })));
    clearInterval(ticker);
    expect(turns).toBeGreaterThan(10);
    for (const events of reads) {
      expect(events.length).toBeLessThan(n);
      expect(events.length).toBeGreaterThan(MAX_READ_BYTES / line(n).length - 2);
      expect(events.at(-1)!.seq).toBe(n); // the newest are the ones kept
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => n - events.length + 1 + i));
    }
  }, 60_000);
});
