import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppendLog } from '../../../src/state/append-log.js';
import { ensureDir, LOCK_FILE } from '../../../src/state/layout.js';
import { lockStateDir, StateDirBusy } from '../../../src/state/lock.js';
import { countLines, parseJsonLines, readLastLines, readRotatedLines } from '../../../src/state/read.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'pidpilot-state-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('countLines', () => {
  const count = (text: string, max: number): number => {
    const f = join(tmp(), 'x');
    writeFileSync(f, text);
    const fd = openSync(f, 'r');
    try {
      return countLines(fd, statSync(f).size, max);
    } finally {
      closeSync(fd);
    }
  };

  it('counts complete lines up to max, not a torn last one', () => {
    expect(count('', 9)).toBe(0);
    expect(count('one\ntwo\nthr', 9)).toBe(2);
    expect(count('\n\nlast\n', 9)).toBe(3);
    expect(count('a\nb\nc\nd\n', 3)).toBe(3);
  });

  it('counts a file over 64 KiB as max without reading it', () => {
    expect(count('x\n'.repeat(40_000), 41)).toBe(41);
    expect(count(`${'L'.repeat(70_000)}\n`, 41)).toBe(41);
  });
});

describe('readLastLines', () => {
  it('ignores a torn last line and returns [] for a missing file', () => {
    const f = join(tmp(), 'x');
    expect(readLastLines(f)).toEqual([]);
    writeFileSync(f, 'one\ntwo\nthr');
    expect(readLastLines(f)).toEqual(['one', 'two']);
    writeFileSync(f, 'torn only');
    expect(readLastLines(f)).toEqual([]);
    writeFileSync(f, '\n\nlast\n');
    expect(readLastLines(f)).toEqual(['', '', 'last']);
  });

  it('reads the last N lines across block boundaries, oldest first', () => {
    const f = join(tmp(), 'x');
    // Lines of varied length so that they straddle the 64 KiB blocks read from the end.
    const lines = Array.from({ length: 5000 }, (_, i) => `${i}:${'é'.repeat(i % 97)}`);
    writeFileSync(f, `${lines.join('\n')}\npartial-line-without-newline`);
    expect(readLastLines(f)).toEqual(lines);
    expect(readLastLines(f, 1234)).toEqual(lines.slice(-1234));
    expect(readLastLines(f, 0)).toEqual([]);
    // One line longer than a block.
    const long = 'L'.repeat(200_000);
    writeFileSync(f, `a\n${long}\nb\n`);
    expect(readLastLines(f)).toEqual(['a', long, 'b']);
    expect(readLastLines(f, 2)).toEqual([long, 'b']);
  });

  it('takes the older generation first when the current one has too few', () => {
    const f = join(tmp(), 'x');
    writeFileSync(`${f}.1`, '1\n2\n3\n');
    writeFileSync(f, '4\n5\n');
    expect(readRotatedLines(f)).toEqual(['1', '2', '3', '4', '5']);
    expect(readRotatedLines(f, 3)).toEqual(['3', '4', '5']);
    expect(readRotatedLines(f, 2)).toEqual(['4', '5']);
  });

  it('skips and counts lines that are not JSON objects', () => {
    const stats = { corrupt: 0 };
    expect(parseJsonLines(['{"a":1}', '{"a":', '[1]', 'null', '{"a":2}'], stats)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(stats.corrupt).toBe(3);
  });
});

describe('AppendLog', () => {
  const noError = (err: Error): void => {
    throw err;
  };

  it('writes queued lines only on flush, creating the directory', () => {
    const f = join(tmp(), 'sub', 'log');
    const log = new AppendLog(f, { maxBytes: 1024, onError: noError });
    log.append(Buffer.from('a\n'));
    log.append(Buffer.from('b\n'));
    expect(existsSync(f)).toBe(false);
    log.flush();
    expect(readFileSync(f, 'utf8')).toBe('a\nb\n');
    log.close();
  });

  it('rotates to .1 before a write would pass the bound, keeping one older generation', () => {
    const f = join(tmp(), 'log');
    const log = new AppendLog(f, { maxBytes: 100, onError: noError });
    for (let i = 0; i < 30; i++) {
      log.append(Buffer.from(`line ${String(i).padStart(3, '0')}\n`)); // 9 bytes
      log.flush();
    }
    log.close();
    expect(statSync(f).size).toBeLessThanOrEqual(100);
    expect(statSync(`${f}.1`).size).toBeLessThanOrEqual(100);
    const all = readRotatedLines(f);
    expect(all.at(-1)).toBe('line 029');
    // Consecutive, nothing lost between the generations.
    const nums = all.map((l) => Number(l.slice(5)));
    expect(nums).toEqual(Array.from({ length: nums.length }, (_, i) => nums[0] + i));
    expect(nums.length).toBeGreaterThanOrEqual(11);
  });

  it('splits a batch bigger than the bound across generations at line ends', () => {
    const f = join(tmp(), 'log');
    const log = new AppendLog(f, { maxBytes: 100, onError: noError });
    log.append(Buffer.from(Array.from({ length: 50 }, (_, i) => `line ${String(i).padStart(3, '0')}\n`).join('')));
    log.close();
    expect(statSync(f).size).toBeLessThanOrEqual(100);
    expect(statSync(`${f}.1`).size).toBe(99);
    const all = readRotatedLines(f);
    expect(all.at(-1)).toBe('line 049');
    expect(all.every((l) => /^line \d{3}$/.test(l))).toBe(true);
  });

  it('gives a torn line left by a crash a line of its own, so the next record stays readable', () => {
    const f = join(tmp(), 'log');
    writeFileSync(f, '{"a":1}\n{"a":2');
    const log = new AppendLog(f, { maxBytes: 1 << 20, onError: noError });
    log.append(Buffer.from('{"a":3}\n'));
    log.close();
    const stats = { corrupt: 0 };
    expect(parseJsonLines(readLastLines(f), stats)).toEqual([{ a: 1 }, { a: 3 }]);
    expect(stats.corrupt).toBe(1);
  });

  it('reports each failed batch with its lines, drops it, and writes again when it can', () => {
    const d = tmp();
    const f = join(d, 'blocked', 'log');
    writeFileSync(join(d, 'blocked'), 'a file where the directory should be');
    const errors: string[] = [];
    let written = 0;
    const log = new AppendLog(f, {
      maxBytes: 1024,
      onError: (err, _file, lines) => errors.push(`${err.code ?? '?'} ${lines}`),
      onWritten: () => written++,
    });
    log.append(Buffer.from('x\n'));
    log.flush();
    log.append(Buffer.from('y\nw\n'));
    log.flush();
    expect(errors).toEqual(['ENOTDIR 1', 'ENOTDIR 2']); // a file where the directory should be
    expect([log.dropped, written]).toEqual([6, 0]);
    rmSync(join(d, 'blocked'));
    log.append(Buffer.from('z\n'));
    log.close();
    expect(readFileSync(f, 'utf8')).toBe('z\n');
    expect(written).toBe(1);
  });
});

describe('ensureDir', () => {
  it('creates missing levels, accepts an existing directory, and fails (never loops) where it cannot', () => {
    const d = tmp();
    ensureDir(join(d, 'a', 'b', 'c'));
    expect(statSync(join(d, 'a', 'b', 'c')).isDirectory()).toBe(true);
    ensureDir(join(d, 'a', 'b', 'c'));
    writeFileSync(join(d, 'file'), '');
    expect(() => ensureDir(join(d, 'file'))).toThrow(/EEXIST/);
    // Node's own recursive mkdir retries for ever here.
    expect(() => ensureDir('/proc/pidpilot-no-such/dir')).toThrow(/ENOENT/);
  });
});

describe('state dir lock', () => {
  it('is exclusive while held and released after', () => {
    const d = tmp();
    const release = lockStateDir(d);
    expect(readFileSync(join(d, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    // Our own pid in the lock counts as stale (a container restarted: every pidpilot is pid 1).
    const again = lockStateDir(d);
    again();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
    release(); // no longer ours: nothing happens
  });

  it('replaces a lock whose process is gone or is not a pidpilot', () => {
    const d = tmp();
    writeFileSync(join(d, LOCK_FILE), '999999999\n');
    lockStateDir(d)();
    writeFileSync(join(d, LOCK_FILE), '1\n'); // init of this machine: alive, not a pidpilot
    lockStateDir(d)();
    writeFileSync(join(d, LOCK_FILE), 'garbage');
    lockStateDir(d)();
  });

  it('refuses a lock held by a live pidpilot, naming its pid', async () => {
    const d = tmp();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'pidpilot'], { stdio: 'ignore' });
    try {
      await new Promise((r) => other.once('spawn', r));
      appendFileSync(join(d, LOCK_FILE), `${other.pid}\n`);
      expect(() => lockStateDir(d)).toThrow(StateDirBusy);
      expect(() => lockStateDir(d)).toThrow(`state dir ${d} is in use by another pidpilot (pid ${other.pid})`);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
