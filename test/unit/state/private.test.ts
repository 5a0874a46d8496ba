/**
 * The state dir is pidpilot's own (issue 14, defects 3 and 4): another user's directory,
 * one writable by others or a symlink is refused; planted symlinks inside are never
 * followed; what is created is 0700/0600, and what an older pidpilot left wider is narrowed.
 * Ownership cases need root (chown to another uid); they are skipped otherwise.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/process/types.js';
import { UnsafeStatePath } from '../../../src/state/private-fs.js';
import { HistoryStore } from '../../../src/state/store.js';

const root = typeof process.geteuid === 'function' && process.geteuid() === 0;
const dirs: string[] = [];
const stores: HistoryStore[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pidpilot-private-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir: string, warnings: string[] = []): HistoryStore {
  const s = new HistoryStore({ dir, keepRuns: 2, maxEventLogBytes: 1 << 20, warn: (m) => void warnings.push(m) });
  stores.push(s);
  return s;
}

const mode = (p: string): string => (lstatSync(p).mode & 0o777).toString(8);
const run = (n: number): RunRecord => ({
  run: n,
  pid: 100 + n,
  startedAt: n,
  endedAt: n + 1,
  durationMs: 1,
  code: 0,
  signal: null,
  outcome: 'succeeded',
});

function writeSome(s: HistoryStore): void {
  s.recordEvent({ seq: 1, time: 1, code: 'startup', source: 'global' });
  for (let i = 1; i <= 5; i++) s.recordRun('web', run(i)); // past 2 x keepRuns: the runs file is rewritten
  const w = s.captureWriter({
    sink: null as never,
    enabled: false,
    open: () => ({ writeLines: () => true, writeLine: () => true }),
  });
  w.open('web', 'stdout').writeLines(Buffer.from('secret\n'), 0, 7);
  s.flush();
}

describe('the state dir is private', () => {
  it('creates the dir 0700 and every file 0600 (events, lock, runs, logs and their dirs)', async () => {
    const dir = join(tmp(), 'state');
    const s = open(dir);
    writeSome(s);
    expect(mode(dir)).toBe('700');
    for (const f of ['events.jsonl', 'pidpilot.lock', 'runs/web.jsonl', 'logs/web.log'])
      expect([f, mode(join(dir, f))]).toEqual([f, '600']);
    for (const d of ['runs', 'logs']) expect([d, mode(join(dir, d))]).toEqual([d, '700']);
  });

  it('narrows what an older pidpilot left world-readable: dir to 0700, files to 0600', async () => {
    const dir = tmp();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'logs'), 0o700);
    writeFileSync(join(dir, 'events.jsonl'), '', { mode: 0o644 });
    writeFileSync(join(dir, 'logs', 'web.log'), '', { mode: 0o644 });
    const s = open(dir);
    writeSome(s);
    expect([mode(dir), mode(join(dir, 'events.jsonl')), mode(join(dir, 'logs', 'web.log'))]).toEqual([
      '700',
      '600',
      '600',
    ]);
  });

  it('refuses a state dir writable by others, or that is a symlink, and changes nothing there', () => {
    const shared = tmp();
    chmodSync(shared, 0o777);
    expect(() => open(shared)).toThrow(UnsafeStatePath);
    expect(() => open(shared)).toThrow(/writable by others \(mode 777\)/);
    expect(existsSync(join(shared, 'pidpilot.lock'))).toBe(false);
    expect(mode(shared)).toBe('777');
    const target = tmp();
    const link = join(tmp(), 'link');
    symlinkSync(target, link);
    expect(() => open(link)).toThrow(/is a symlink/);
    expect(existsSync(join(target, 'pidpilot.lock'))).toBe(false);
  });

  it.skipIf(!root)("refuses another user's directory (as root)", () => {
    const theirs = tmp();
    chmodSync(theirs, 0o755);
    chownSync(theirs, 65534, 65534);
    expect(() => open(theirs)).toThrow(/belongs to uid 65534, not to pidpilot's user \(uid 0\)/);
    expect(existsSync(join(theirs, 'pidpilot.lock'))).toBe(false);
  });

  it('never follows a symlink planted in it: the victims are untouched and the failure is reported', async () => {
    const dir = tmp();
    const victims = tmp();
    const victim = join(victims, 'victim');
    writeFileSync(victim, 'precious\n');
    mkdirSync(join(dir, 'logs'), 0o700);
    symlinkSync(victim, join(dir, 'logs', 'web.log'));
    symlinkSync(join(victims, 'victim2'), join(dir, 'events.jsonl'));
    mkdirSync(join(dir, 'runs'), 0o700);
    symlinkSync(join(victims, 'victim3'), join(dir, 'runs', 'web.jsonl.tmp'));
    const warnings: string[] = [];
    const s = open(dir, warnings);
    writeSome(s);
    s.close();
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(existsSync(join(victims, 'victim2'))).toBe(false);
    expect(existsSync(join(victims, 'victim3'))).toBe(false);
    // Said once (the first file that failed); every record that was not written is counted.
    expect(warnings).toEqual([expect.stringMatching(/events\.jsonl failed \(ELOOP/)]);
    expect(s.droppedRecords).toBe(7); // the event, the output line, and the 5 run records (their rewrite goes through web.jsonl.tmp)
  });

  it('refuses a logs/ that is a symlink to somewhere else', async () => {
    const dir = tmp();
    const elsewhere = tmp();
    symlinkSync(elsewhere, join(dir, 'logs'));
    const warnings: string[] = [];
    const s = open(dir, warnings);
    writeSome(s);
    expect(existsSync(join(elsewhere, 'web.log'))).toBe(false);
    expect(warnings.join('\n')).toMatch(/logs is a symlink/);
    expect(statSync(dir).isDirectory()).toBe(true);
  });
});

describe('a state dir that cannot be written (a full disk)', () => {
  it('says so once, counts what is dropped, and says once when writing works again', async () => {
    const dir = tmp();
    const warnings: string[] = [];
    const infos: string[] = [];
    const s = new HistoryStore({
      dir,
      keepRuns: 2,
      maxEventLogBytes: 1 << 20,
      warn: (m) => void warnings.push(m),
      info: (m) => void infos.push(m),
    });
    stores.push(s);
    // Every write fails while events.jsonl, runs/ and logs/ are not what they must be.
    mkdirSync(join(dir, 'events.jsonl'));
    writeFileSync(join(dir, 'runs'), '');
    writeFileSync(join(dir, 'logs'), '');
    for (let i = 1; i <= 20; i++) {
      s.recordEvent({ seq: i, time: i, code: 'startup', source: 'global' });
      writeSome(s);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^history: writing .* failed \((EISDIR|ENOTDIR): [^:]+[^(]*\); records are dropped and counted/,
    );
    expect(warnings[0]).not.toMatch(/(EISDIR|ENOTDIR): \1/);
    // 20 x (2 events + 5 runs + 1 output line)
    expect(s.droppedRecords).toBe(160);
    expect(infos).toEqual([]);
    rmSync(join(dir, 'events.jsonl'), { recursive: true });
    rmSync(join(dir, 'runs'));
    rmSync(join(dir, 'logs'));
    // Writing works again: said once, after writes have kept working for a moment.
    const end = Date.now() + 20_000;
    while (infos.length === 0 && Date.now() < end) {
      s.recordEvent({ seq: 100, time: 100, code: 'startup', source: 'global' });
      s.flush();
      await new Promise((r) => setTimeout(r, 100));
    }
    s.recordEvent({ seq: 101, time: 101, code: 'startup', source: 'global' });
    s.flush();
    expect(infos).toEqual(['history: writing works again (160 records were dropped meanwhile)']);
    expect(warnings).toHaveLength(1);
    expect((await s.events()).length).toBeGreaterThan(0);
  });
});
