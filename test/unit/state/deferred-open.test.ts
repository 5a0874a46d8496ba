/**
 * A store made with `deferOpen` (how the supervisor makes it: the state dir is made and locked
 * just after the first jobs start): nothing recorded before open() is lost, and a dir it cannot
 * have leaves no history and writes nothing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';
import { relayLines } from '../../../src/log/relay.js';
import { LOCK_FILE } from '../../../src/state/layout.js';
import { openHistory } from '../../../src/state/offline.js';
import { HistoryStore } from '../../../src/state/store.js';
import { MemorySink } from '../../support/jobs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pidpilot-deferred-'));
  dirs.push(d);
  return d;
}

function deferred(dir: string, warnings: string[]): HistoryStore {
  return new HistoryStore({
    dir,
    keepRuns: 3,
    maxEventLogBytes: 1 << 20,
    warn: (m) => void warnings.push(m),
    boot: 7,
    deferOpen: true,
  });
}

/** Records an event, a run and a line of captured output, as the first jobs' start does. */
async function recordSome(s: HistoryStore): Promise<void> {
  s.recordEvent({ seq: 1, time: 10, code: 'startup', source: 'global' });
  s.recordRun('web', {
    run: 1,
    pid: 101,
    startedAt: 1000,
    endedAt: 1005,
    durationMs: 5,
    code: 0,
    signal: null,
    outcome: 'succeeded',
  });
  const { lineWriter } = createLogger({ level: 'info', format: 'default', output: 'stdout' }, new MemorySink());
  const pipe = new PassThrough();
  const done = relayLines(pipe, { job: 'web', stream: 'stdout', writer: s.captureWriter(lineWriter) });
  pipe.end('first-output-line\n');
  await done;
}

describe('HistoryStore with deferOpen', () => {
  it('touches nothing on disk until open(), then writes every record made before it', async () => {
    const dir = join(tmp(), 'state');
    const warnings: string[] = [];
    const s = deferred(dir, warnings);
    await recordSome(s);
    s.flush();
    expect(existsSync(dir)).toBe(false);

    expect(s.open()).toBe(true);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    s.close();
    const h = openHistory(dir);
    expect(await h.events()).toEqual([{ seq: 1, time: 10, code: 'startup', source: 'global', boot: 7 }]);
    expect((await h.runs('web')).map((r) => [r.run, r.outcome])).toEqual([[1, 'succeeded']]);
    expect((await h.logs('web')).map((l) => l.line)).toEqual(['first-output-line']);
    expect(warnings).toEqual([]);
  });

  it('opens on close() when it was never opened, so a run that ends before its first job still leaves its records', async () => {
    const dir = join(tmp(), 'state');
    const s = deferred(dir, []);
    s.recordEvent({ seq: 1, time: 10, code: 'startup', source: 'global' });
    s.close();
    expect((await openHistory(dir).events()).map((e) => e.code)).toEqual(['startup']);
  });

  it('a dir it cannot have: says so once, returns false, writes nothing and records nothing more', async () => {
    const base = tmp();
    writeFileSync(join(base, 'file'), '');
    const dir = join(base, 'file', 'state'); // under a regular file: mkdir fails
    const warnings: string[] = [];
    const s = deferred(dir, warnings);
    await recordSome(s);

    expect(s.open()).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^history is not recorded: E[A-Z]+: /);
    s.recordEvent({ seq: 2, time: 11, code: 'shutdown', source: 'global' });
    s.close();
    expect(s.open()).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(existsSync(dir)).toBe(false);
  });
});
