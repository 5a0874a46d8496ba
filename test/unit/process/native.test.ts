/** What only the native addon does: parent-death signal, and the SIGCHLD fallback. */
import { spawn as nodeSpawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADDON_PATH,
  loadAddonFrom,
  loadNativeAddon,
  NativeAddonError,
  spawnNative,
  tryLoadNativeAddon,
} from '../../../src/process/native.js';
import { SpawnError } from '../../../src/process/types.js';
import { collect, firstLine, isDead, ourZombies, req, waitFor } from './helpers.js';

describe('native addon', () => {
  it('loads', () => {
    expect(tryLoadNativeAddon()).not.toBeInstanceOf(Error);
    // Compiled here (a checkout after `npm run install`), else the prebuilt binary.
    expect(ADDON_PATH).toMatch(
      /(build\/Release\/pidpilot_spawn|prebuilds\/linux-(x64|arm64)\/node\.napi\.(glibc|musl))\.node$/,
    );
  });

  it('says why it cannot load, and how to fix it', () => {
    const missing = loadAddonFrom('/nonexistent/pidpilot_spawn.node');
    expect(missing).toBeInstanceOf(NativeAddonError);
    expect((missing as Error).message).toBe(
      "pidpilot's native spawn addon is not built (/nonexistent/pidpilot_spawn.node is missing) and no prebuilt one fits this machine (linux-" +
        process.arch +
        '): ' +
        'run `npm rebuild pidpilot` (it needs python3, make and a C compiler; in a checkout of pidpilot: `npm run build:native`)',
    );
    const broken = loadAddonFrom(fileURLToPath(new URL('./fixtures/not-an-addon.node', import.meta.url)));
    expect(broken).toBeInstanceOf(NativeAddonError);
    expect((broken as Error).message).toMatch(
      /cannot be loaded by Node\.js v\d+.*: .*; rebuild it: run `npm rebuild pidpilot`/,
    );
  });

  it('kills a child when the process that spawned it dies (PR_SET_PDEATHSIG)', async () => {
    const helper = nodeSpawn(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/pdeath-parent.mjs', import.meta.url)), ADDON_PATH],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const child = Number(await firstLine(helper.stdout));
    expect(child).toBeGreaterThan(0);
    expect(isDead(child)).toBe(false);
    helper.kill('SIGKILL');
    await waitFor('the orphan to be killed', () => isDead(child));
  });

  it.each(['pidfd', 'sigchld'])('keeps Node alive while a child runs, not after (%s)', async (mode) => {
    const script = fileURLToPath(new URL('./fixtures/loop-alive.mjs', import.meta.url));
    const helper = nodeSpawn(process.execPath, [script, ADDON_PATH, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const out = collect(helper.stdout);
    const code = await new Promise((resolve) => helper.on('exit', resolve));
    expect(code).toBe(0);
    expect(await out).toBe('exit 0 0\nexit 0 0\nexit 0 0\ndone\n');
  });

  it('resets the dispositions that survive exec and those it handles, whatever they are (native/spawn.c)', async () => {
    // The child resets only the signals /proc/self/status says are ignored or handled here:
    // this runs a parent with more of them than the test runner has (real-time signals 40
    // and 50 ignored from its start: Node resets the others at start-up; SIGUSR2 handled)
    // and checks the child has none.
    const script = fileURLToPath(new URL('./fixtures/signal-reset.mjs', import.meta.url));
    const helper = nodeSpawn('sh', ['-c', 'trap "" 40 50; exec "$0" "$@"', process.execPath, script, ADDON_PATH], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out = collect(helper.stdout);
    expect(await new Promise((resolve) => helper.on('exit', resolve))).toBe(0);
    const text = await out;
    const mask = (who: string, field: string): bigint => {
      const m = new RegExp(`^${who}${field}:\\s+([0-9a-f]+)$`, 'm').exec(text);
      if (!m) throw new Error(`no ${who}${field} in ${text}`);
      return BigInt(`0x${m[1]}`);
    };
    const bit = (signal: number): bigint => 1n << BigInt(signal - 1);
    // SIGUSR2 = 12; SIGPIPE = 13 and SIGXFSZ = 25 Node ignores itself
    const ignored = bit(13) | bit(25) | bit(40) | bit(50);
    expect(mask('parent ', 'SigIgn') & ignored).toBe(ignored);
    expect(mask('parent ', 'SigCgt') & bit(12)).toBe(bit(12));
    expect(mask('', 'SigIgn')).toBe(0n);
    expect(mask('', 'SigCgt')).toBe(0n);
    expect(mask('', 'SigBlk')).toBe(0n);
  });

  it('rejects malformed calls with a TypeError', () => {
    const addon = loadNativeAddon();
    expect(() => addon.spawn([], ['x'], [], null, 0, 0, () => {})).toThrow(TypeError);
    expect(() => (addon.setExitWatch as (m: string) => void)('bogus')).toThrow(TypeError);
    expect(() => (addon.watchOutput as (fd: unknown, cb: unknown) => void)('x', () => {})).toThrow(TypeError);
  });

  it('reads an output pipe through a socket only once it has data (native/pipes.c)', async () => {
    // stdout stays empty; stderr gets its first line only when told (SIGUSR1), then a lot more.
    const child = spawnNative(
      req([
        'sh',
        '-c',
        'trap \'echo late >&2; i=0; while [ $i -lt 2000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 0\' USR1; while :; do sleep 0.05; done',
      ]),
    );
    const socketOf = (s: unknown): unknown => (s as { socket: unknown }).socket;
    const [out, err] = [collect(child.stdout), collect(child.stderr)];
    await new Promise((r) => setTimeout(r, 100));
    expect(socketOf(child.stderr)).toBeNull(); // nothing written yet: only polled
    process.kill(child.pid, 'SIGUSR1');
    expect(await out).toBe('');
    expect(socketOf(child.stdout)).toBeNull(); // closed empty: never wrapped
    const text = await err;
    expect(text.slice(0, 12)).toBe('late\nline 0\n');
    expect(text.endsWith('line 1999\n')).toBe(true);
    expect(socketOf(child.stderr)).not.toBeNull();
    expect((child.stderr as unknown as { bytesRead: number }).bytesRead).toBe(Buffer.byteLength(text));
    await child.exited;
  });

  it.each(['pidfd', 'sigchld'])(
    'answers an output pipe at the exit of its child: data, closed empty, or still held by a grandchild (%s)',
    async (mode) => {
      const addon = loadNativeAddon();
      addon.setExitWatch(mode as 'pidfd' | 'sigchld');
      let dir: string | undefined;
      try {
        // stdout: written just before the exit; stderr: closed empty at once. Both answered
        // by the look taken at the exit, before the exit is reported.
        const quick = spawnNative(req(['sh', '-c', 'exec 2>&-; echo bye']));
        const [qOut, qErr] = [collect(quick.stdout), collect(quick.stderr)];
        await quick.exited;
        expect(await qOut).toBe('bye\n');
        expect(await qErr).toBe('');
        // A grandchild that left the group (the rest of it is killed with the leader) keeps
        // both pipes open and writes after the leader has exited: still relayed.
        // It says it is out of the group through a FIFO before the leader exits.
        dir = mkdtempSync(join(tmpdir(), 'pidpilot-held-'));
        const fifo = join(dir, 'fifo');
        const held = spawnNative(
          req([
            'sh',
            '-c',
            'mkfifo "$0"; setsid sh -c \'echo > "$0"; sleep 0.3; echo late; echo more >&2\' "$0" & read x < "$0"; exit 0',
            fifo,
          ]),
        );
        const [hOut, hErr] = [collect(held.stdout), collect(held.stderr)];
        let exitedFirst = false;
        void held.exited.then(() => {
          exitedFirst = true;
        });
        expect(await hOut).toBe('late\n');
        expect(exitedFirst).toBe(true);
        expect(await hErr).toBe('more\n');
      } finally {
        addon.setExitWatch('pidfd');
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('native addon, SIGCHLD exit watch (kernels without pidfd_open)', () => {
  const addon = loadNativeAddon();
  beforeAll(() => addon.setExitWatch('sigchld'));
  afterAll(() => addon.setExitWatch('pidfd'));

  it('reports exits and signals', async () => {
    const a = spawnNative(req(['sh', '-c', 'echo hi; exit 4']));
    const b = spawnNative(req(['sleep', '30']));
    expect(await collect(a.stdout)).toBe('hi\n');
    expect(await a.exited).toEqual({ code: 4, signal: null });
    b.signalGroup('SIGTERM');
    expect(await b.exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('handles many concurrent children and leaves no zombie', async () => {
    const children = Array.from({ length: 50 }, (_, i) =>
      spawnNative(req(['sh', '-c', `exit ${i}`], { stdout: 'ignore', stderr: 'ignore' })),
    );
    const statuses = await Promise.all(children.map((c) => c.exited));
    expect(statuses.map((s) => s.code)).toEqual(children.map((_, i) => i));
    expect(ourZombies()).toEqual([]);
  });

  it('kills the rest of the group when the leader exits', async () => {
    const child = spawnNative(req(['sh', '-c', 'trap "" TERM; sleep 30 & echo $!; exit 0']));
    const grandchild = Number(await firstLine(child.stdout));
    expect(await child.exited).toEqual({ code: 0, signal: null });
    await waitFor('the grandchild to die', () => isDead(grandchild));
  });

  it('still throws SpawnError synchronously', () => {
    expect(() => spawnNative(req(['no-such-program-xyz']))).toThrow(SpawnError);
    expect(ourZombies()).toEqual([]);
  });
});
