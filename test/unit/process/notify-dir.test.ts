/**
 * The sd_notify sockets' directories (process/notify-dir.ts): a pidpilot killed with SIGKILL
 * leaves its directory behind; the next one removes it — only directories of this user's
 * base whose process is gone, never anything through a symlink, never a live pidpilot's.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotifyDir } from '../../../src/process/notify-dir.js';
import { bundledFixture } from './helpers.js';

const holder = bundledFixture('notify-dir-holder.mjs');
/** This process's PID namespace, as directory names carry it. */
const NS = /[0-9]+/.exec(readlinkSync('/proc/self/ns/pid'))![0];

let parent: string;
beforeEach(() => {
  parent = mkdtempSync(join(tmpdir(), 'notify-dir-test-'));
});
afterEach(() => rmSync(parent, { recursive: true, force: true }));

/** The directory a real process made (fixtures/notify-dir-holder.mjs), left behind when it was SIGKILLed. */
async function leftByKilledProcess(): Promise<string> {
  const child = spawn(process.execPath, [holder()], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PARENT: parent },
  });
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before making its directory`)));
  });
  writeFileSync(join(dir, '1.sock'), ''); // stands for a socket it had bound
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  return dir;
}

describe('NotifyDir', () => {
  it('removes the directory of a pidpilot killed with SIGKILL, keeps a live one and everything that is not its own', async () => {
    // A live process's directory (this one's, as a running pidpilot's).
    const live = new NotifyDir(parent);
    const stale = await leftByKilledProcess();
    const base = join(parent, `pidpilot-notify-${process.getuid!()}`);
    expect(stale.startsWith(`${base}/`)).toBe(true);
    // A pid reused by another process (pidpilot's parent's pid, with another start time): stale.
    const reused = join(base, `${NS}-${process.ppid}-1-abcDEF`);
    // Not ours to touch: a symlink named like a stale directory, pointing at a victim; other names.
    const victim = join(parent, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'precious'), 'x');
    const link = join(base, `${NS}-999999999-1-zzzzzz`);
    // A directory of a dead pid in another PID namespace (containers sharing /tmp): its pid means nothing here.
    const foreign = join(base, '1-999999999-1-ffffff');
    symlinkSync(victim, link);
    const other = join(base, 'not-a-pidpilot-dir');
    mkdirSync(other);
    mkdirSync(reused);
    mkdirSync(foreign);
    expect(existsSync(stale)).toBe(true);

    const next = new NotifyDir(parent);
    expect(next.removedStale.sort()).toEqual([stale, reused].map((p) => p.slice(base.length + 1)).sort());
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live.dir)).toBe(true);
    expect(readFileSync(join(victim, 'precious'), 'utf8')).toBe('x');
    expect(existsSync(link)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(existsSync(foreign)).toBe(true);
    expect(existsSync(reused)).toBe(false);
    expect(readdirSync(base).sort()).toEqual(
      [live.dir, next.dir, link, other, foreign].map((p) => p.slice(base.length + 1)).sort(),
    );
    live.remove();
    next.remove();
  });

  it('a base that is a symlink is not used or cleaned: the directory goes straight under the parent', () => {
    const elsewhere = join(parent, 'elsewhere');
    mkdirSync(elsewhere);
    const planted = join(elsewhere, `${NS}-1-1-aaaaaa`);
    mkdirSync(planted);
    symlinkSync(elsewhere, join(parent, `pidpilot-notify-${process.getuid!()}`));
    const d = new NotifyDir(parent);
    expect(d.removedStale).toEqual([]);
    expect(existsSync(planted)).toBe(true);
    expect(d.dir.startsWith(join(parent, 'pidpilot-notify-'))).toBe(true);
    expect(d.dir.startsWith(`${elsewhere}/`)).toBe(false);
    expect(spawnSync('stat', ['-c', '%a', d.dir]).stdout.toString().trim()).toBe('711');
    d.remove();
  });
});
