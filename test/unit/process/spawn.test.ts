/**
 * The spawn contract (ChildHandle, SpawnError), against both implementations: the native
 * addon and the node:child_process fallback must behave the same.
 */
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedEnv } from '../../../src/process/child-env-block.js';
import { liveGroups, spawnBackend } from '../../../src/process/spawn.js';
import { type ChildHandle, SpawnError } from '../../../src/process/types.js';
import {
  BACKENDS,
  collect,
  fdCount,
  firstLine,
  inheritableFds,
  isDead,
  ourZombies,
  PATH,
  procStat,
  req,
  spawner,
  waitFor,
} from './helpers.js';

let dir: string;

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'pidpilot-spawn-')));
  mkdirSync(join(dir, 'bin1'));
  mkdirSync(join(dir, 'bin2'));
  const script = (path: string, body: string, mode: number): void => {
    writeFileSync(path, body);
    chmodSync(path, mode);
  };
  script(join(dir, 'bin1', 'mytool'), '#!/bin/sh\necho "mytool from bin1"\n', 0o644); // not executable
  script(join(dir, 'bin2', 'mytool'), '#!/bin/sh\necho "mytool from bin2"\n', 0o755);
  script(join(dir, 'bin1', 'onlyhere'), '#!/bin/sh\necho nope\n', 0o644);
  script(join(dir, 'noexec'), '#!/bin/sh\necho nope\n', 0o644);
  script(join(dir, 'badinterp'), '#!/nonexistent/interpreter\n', 0o755);
  script(join(dir, 'hello'), '#!/bin/sh\necho hello "$@"\n', 0o755);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function spawnError(fn: () => unknown): SpawnError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpawnError);
    return err as SpawnError;
  }
  throw new Error('expected a SpawnError');
}

describe('spawnBackend', () => {
  it('uses the native addon when it is built, unless PIDPILOT_SPAWN=node', () => {
    expect(spawnBackend()).toEqual({ kind: process.env.PIDPILOT_SPAWN === 'node' ? 'node' : 'native' });
  });
});

describe.each(BACKENDS)('spawn (%s)', (kind) => {
  const spawn = spawner(kind);

  async function run(argv: string[], more: Parameters<typeof req>[1] = {}) {
    const child = spawn(req(argv, more));
    const [out, err, status] = await Promise.all([collect(child.stdout), collect(child.stderr), child.exited]);
    return { child, out, err, status };
  }

  it('reports exit codes', async () => {
    expect((await run(['true'])).status).toEqual({ code: 0, signal: null });
    expect((await run(['sh', '-c', 'exit 3'])).status).toEqual({ code: 3, signal: null });
    expect((await run(['sh', '-c', 'exit 255'])).status).toEqual({ code: 255, signal: null });
  });

  it('reports the signal that killed the process', async () => {
    const { status } = await run(['sh', '-c', 'kill -USR1 $$']);
    expect(status).toEqual({ code: null, signal: 'SIGUSR1' });
  });

  it('pipes stdout and stderr', async () => {
    const { out, err } = await run(['sh', '-c', 'echo out; echo err >&2; printf "no newline"']);
    expect(out).toBe('out\nno newline');
    expect(err).toBe('err\n');
  });

  it('passes argv untouched', async () => {
    const { out } = await run(['printf', '%s|', 'a b', '', '$HOME', '"q"', 'ünï']);
    expect(out).toBe('a b||$HOME|"q"|ünï|');
  });

  it('passes exactly the given environment', async () => {
    const { out } = await run(['env'], { env: { PATH, FOO: 'bar baz', EMPTY: '' } });
    expect(out.split('\n').filter(Boolean).sort()).toEqual(['EMPTY=', 'FOO=bar baz', `PATH=${PATH}`]);
  });

  it('passes a layered environment: each name once, the overlay winning', async () => {
    const env = { base: new PreparedEnv({ PATH, A: '1', B: '2' }), overlay: { B: 'b', C: 'ünï x' } };
    const { out } = await run(['env'], { env });
    expect(out.split('\n').filter(Boolean).sort()).toEqual(['A=1', 'B=b', 'C=ünï x', `PATH=${PATH}`]);
  });

  it('passes an empty environment as empty', async () => {
    const { out } = await run(['/usr/bin/env'], { env: {} });
    expect(out).toBe('');
  });

  it('gives the child /dev/null as stdin, and /dev/null for ignored outputs', async () => {
    const { out, status } = await run(['sh', '-c', 'readlink /proc/self/fd/0; cat; readlink /proc/$$/fd/2 >&1'], {
      stderr: 'ignore',
    });
    expect(status.code).toBe(0);
    expect(out).toBe('/dev/null\n/dev/null\n');
  });

  it("lets 'inherit' outputs write to our own fds", async () => {
    const child = spawn(req(['sh', '-c', 'fd1=$(readlink /proc/$$/fd/1); echo "$fd1" >&2'], { stdout: 'inherit' }));
    expect(child.stdout).toBeNull();
    const err = await collect(child.stderr);
    expect(err.trim()).toBe(readlinkSync('/proc/self/fd/1'));
  });

  it('passes no other file descriptor to the child', async () => {
    const { out } = await run(['sh', '-c', 'ls /proc/$$/fd']);
    const fds = out
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .sort((a, b) => a - b);
    if (kind === 'native') {
      expect(fds).toEqual([0, 1, 2]);
    } else {
      // child_process passes on whatever fd of ours lacks O_CLOEXEC (the addon closes them).
      expect(fds.filter((fd) => fd > 2 && !inheritableFds().includes(fd))).toEqual([]);
    }
  });

  it('resets signal dispositions and the mask (SIGPIPE is not ignored)', async () => {
    const { out } = await run(['sh', '-c', 'grep -E "^Sig(Ign|Blk)" /proc/self/status']);
    expect(out).toMatch(/SigBlk:\s+0+\n/);
    expect(out).toMatch(/SigIgn:\s+0+\n/);
    // With SIGPIPE ignored `yes` would exit 1 on EPIPE; with the default it is killed (141).
    const piped = await run(['sh', '-c', '(yes; echo "yes: $?" >&2) | head -1']);
    expect(piped.out).toBe('y\n');
    expect(piped.err).toBe('yes: 141\n');
  });

  it('makes the child the leader of its own session and process group', async () => {
    const child = spawn(req(['sleep', '30']));
    const st = procStat(child.pid);
    expect(st).not.toBeNull();
    expect(st?.pgid).toBe(child.pid);
    expect(st?.sid).toBe(child.pid);
    child.signalGroup('SIGTERM');
    expect(await child.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('signals the whole group', async () => {
    const child = spawn(req(['sh', '-c', 'sleep 30 & echo $!; wait']));
    const grandchild = Number(await firstLine(child.stdout));
    expect(procStat(grandchild)?.pgid).toBe(child.pid);
    child.signalGroup('SIGTERM');
    expect((await child.exited).signal).toBe('SIGTERM');
    await waitFor('the grandchild to die', () => isDead(grandchild));
  });

  it('kills what is left of the group when the leader exits', async () => {
    // The grandchild ignores SIGTERM and is in the background: only SIGKILL ends it.
    const child = spawn(req(['sh', '-c', 'trap "" TERM; sleep 30 & echo $!; exit 0']));
    const grandchild = Number(await firstLine(child.stdout));
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await waitFor('the grandchild to die', () => isDead(grandchild));
  });

  it('ignores signals for a group that is gone', async () => {
    const child = spawn(req(['true']));
    await child.exited;
    expect(() => child.signalGroup('SIGTERM')).not.toThrow();
  });

  it('runs in the given cwd, and resolves relative commands from it', async () => {
    expect((await run(['pwd'], { cwd: dir })).out).toBe(`${dir}\n`);
    expect((await run(['./hello', 'world'], { cwd: dir })).out).toBe('hello world\n');
  });

  it("searches PATH from the child's environment, not ours", async () => {
    const { out } = await run(['mytool'], { env: { PATH: `${dir}/bin1:${dir}/bin2:${PATH}` } });
    // bin1's copy is not executable: skipped, as execvp does.
    expect(out).toBe('mytool from bin2\n');
    const e = spawnError(() => spawn(req(['ls'], { env: { PATH: `${dir}/nowhere` } })));
    expect(e.code).toBe('ENOENT');
    expect(e.message).toBe(`exec "ls": not found in PATH (${dir}/nowhere)`);
  });

  it('throws ENOENT for a missing program', () => {
    const e = spawnError(() => spawn(req(['no-such-program-xyz'])));
    expect(e).toMatchObject({ code: 'ENOENT', stage: 'exec', argv: ['no-such-program-xyz'] });
    expect(e.message).toBe(`exec "no-such-program-xyz": not found in PATH (${PATH})`);
    const abs = spawnError(() => spawn(req(['/no/such/program'])));
    expect(abs.code).toBe('ENOENT');
    expect(abs.message).toBe('exec "/no/such/program": no such file or directory');
  });

  it('throws EACCES for a file that is not executable, or a directory', () => {
    const e = spawnError(() => spawn(req([join(dir, 'noexec')])));
    expect(e.code).toBe('EACCES');
    expect(e.message).toBe(`exec "${dir}/noexec": permission denied`);
    expect(spawnError(() => spawn(req([dir]))).code).toBe('EACCES');
    const inPath = spawnError(() => spawn(req(['onlyhere'], { env: { PATH: `${dir}/bin2:${dir}/bin1` } })));
    expect(inPath.code).toBe('EACCES');
    expect(inPath.message).toBe(`exec "onlyhere": permission denied (${dir}/bin1/onlyhere)`);
  });

  it('throws ENOTDIR when a path component is a file', () => {
    const e = spawnError(() => spawn(req([`${dir}/hello/x`])));
    expect(e.code).toBe('ENOTDIR');
    expect(e.message).toBe(`exec "${dir}/hello/x": not a directory`);
  });

  it('says so when the file exists but its interpreter does not', () => {
    const e = spawnError(() => spawn(req([join(dir, 'badinterp')])));
    expect(e.code).toBe('ENOENT');
    expect(e.message).toMatch(/interpreter or dynamic loader is missing/);
  });

  it('throws for a bad cwd', () => {
    const e = spawnError(() => spawn(req(['true'], { cwd: `${dir}/nowhere` })));
    expect(e).toMatchObject({ code: 'ENOENT', stage: 'chdir' });
    expect(e.message).toBe(`exec "true": chdir "${dir}/nowhere": no such file or directory`);
    expect(spawnError(() => spawn(req(['true'], { cwd: `${dir}/hello` }))).code).toBe('ENOTDIR');
  });

  it('rejects what execve cannot take', () => {
    expect(spawnError(() => spawn(req([]))).code).toBe('EINVAL');
    expect(spawnError(() => spawn(req(['echo', 'a\0b']))).code).toBe('EINVAL');
    expect(spawnError(() => spawn(req(['true'], { env: { 'A=B': 'c' } }))).code).toBe('EINVAL');
  });

  it('leaves no zombie and no fd behind after failed spawns', async () => {
    const before = fdCount();
    for (let i = 0; i < 50; i++) {
      spawnError(() => spawn(req(['no-such-program-xyz'])));
      spawnError(() => spawn(req([join(dir, 'badinterp')])));
    }
    expect(ourZombies()).toEqual([]);
    // (≤: fds of an earlier test may still have been closing when we counted)
    await waitFor('fds to be closed', () => fdCount() <= before);
  });

  it('back-pressures a child whose output is not being read', async () => {
    const child = spawn(req(['head', '-c', '4000000', '/dev/zero'], { stderr: 'ignore' }));
    child.stdout?.pause();
    let exited = false;
    void child.exited.then(() => (exited = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(exited).toBe(false); // blocked writing into the full pipe
    let total = 0;
    const closed = new Promise((r) => child.stdout?.once('close', r));
    child.stdout?.on('data', (c: Buffer) => (total += c.length));
    child.stdout?.resume();
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await closed;
    expect(total).toBe(4_000_000);
  });

  it('reports many concurrent children correctly', async () => {
    const children = Array.from({ length: 40 }, (_, i) =>
      spawn(req(['sh', '-c', `exit ${i}`], { stdout: 'ignore', stderr: 'ignore' })),
    );
    const statuses = await Promise.all(children.map((c) => c.exited));
    expect(statuses.map((s) => s.code)).toEqual(children.map((_, i) => i));
  });

  it('tracks live groups until the leader exits', async () => {
    const child = spawn(req(['sleep', '30'], { stdout: 'ignore', stderr: 'ignore' }));
    expect(liveGroups().has(child.pid)).toBe(true);
    child.signalGroup('SIGKILL');
    await child.exited;
    await Promise.resolve();
    expect(liveGroups().has(child.pid)).toBe(false);
  });

  it('leaves no zombie and no fd behind after 1,000 sequential spawns', async () => {
    const before = fdCount();
    for (let i = 0; i < 1000; i++) {
      const child: ChildHandle = spawn(req(['/bin/true']));
      const closed = [child.stdout, child.stderr].map((s) => new Promise((r) => s?.once('close', r)));
      child.stdout?.resume();
      child.stderr?.resume();
      const status = await child.exited;
      if (status.code !== 0) throw new Error(`spawn ${i}: ${JSON.stringify(status)}`);
      await Promise.all(closed);
    }
    expect(ourZombies()).toEqual([]);
    await waitFor('fds to be closed', () => fdCount() <= before);
  }, 120_000);
});

describe('both implementations at once', () => {
  it('do not steal each other’s exit statuses', async () => {
    const children = Array.from({ length: 30 }, (_, i) =>
      spawner(i % 2 === 0 ? 'native' : 'node')(
        req(['sh', '-c', `sleep 0.0${i % 5}; exit ${i}`], { stdout: 'ignore', stderr: 'ignore' }),
      ),
    );
    const statuses = await Promise.all(children.map((c) => c.exited));
    expect(statuses.map((s) => s.code)).toEqual(children.map((_, i) => i));
  });
});
