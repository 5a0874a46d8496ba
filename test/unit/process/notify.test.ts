import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type NotifyMessage,
  type NotifySender,
  NotifySocket,
  notifyUnsupported,
  parseNotify,
} from '../../../src/process/notify.js';
import { NotifyDir } from '../../../src/process/notify-dir.js';
import { buildNotifySender } from '../../support/notify-sender.js';

describe('parseNotify', () => {
  const table: Array<[string, Partial<NotifyMessage> | null]> = [
    ['READY=1', { ready: true, other: [] }],
    ['READY=1\nSTATUS=listening on 8080', { ready: true, status: 'listening on 8080', other: [] }],
    ['STATUS=a=b', { status: 'a=b', other: [] }],
    ['STATUS=', { status: '', other: [] }],
    ['WATCHDOG=1', { watchdog: 'ping', other: [] }],
    ['WATCHDOG=trigger', { watchdog: 'trigger', other: [] }],
    ['WATCHDOG_USEC=2500000', { watchdogMs: 2500, other: [] }],
    ['WATCHDOG_USEC=1', { watchdogMs: 1, other: [] }],
    ['WATCHDOG_USEC=soon', { other: [] }],
    ['STOPPING=1', { stopping: true, other: [] }],
    ['RELOADING=1\nMONOTONIC_USEC=5', { reloading: true, other: ['MONOTONIC_USEC'] }],
    ['MAINPID=1234', { mainPid: 1234, other: [] }],
    ['MAINPID=0', { other: [] }],
    ['MAINPID=-5', { other: [] }],
    ['ERRNO=2', { errno: 2, other: [] }],
    ['READY=0\nREADY\n=1\nFDSTORE=1', { other: ['FDSTORE'] }],
    ['READY=1\n', { ready: true, other: [] }],
    ['READY=1\0STATUS=x', null],
  ];
  it.each(table)('%j', (text, expected) => {
    expect(parseNotify(text)).toEqual(expected);
  });
});

// The addon is part of the build: without it these tests must fail, not skip.
describe('NotifySocket (native/notify.c)', () => {
  let sender: string;
  let dir: NotifyDir;
  beforeAll(() => {
    expect(notifyUnsupported()).toBeNull();
    sender = buildNotifySender();
  });
  afterEach(() => dir?.remove());

  function listen(): {
    socket: NotifySocket;
    got: Array<{ msg: NotifyMessage; from: NotifySender }>;
    invalid: string[];
  } {
    dir = new NotifyDir();
    const got: Array<{ msg: NotifyMessage; from: NotifySender }> = [];
    const invalid: string[] = [];
    const socket = NotifySocket.open(dir.socketPath(), (msg, from) => got.push({ msg, from }), {
      onInvalid: (why) => invalid.push(why),
    });
    return { socket, got, invalid };
  }

  /** Runs the sender without blocking the loop (the socket is read in it). */
  function send(path: string, ...args: string[]): Promise<{ code: number | null; pid: number; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(sender, args, { env: { NOTIFY_SOCKET: path }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, pid: child.pid!, stderr }));
    });
  }

  async function until(cond: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('receives a message with the sender’s pid and uid', async () => {
    const { socket, got } = listen();
    const sent = await send(socket.path, 'READY=1\nSTATUS=up and running');
    expect(sent.code, sent.stderr).toBe(0);
    await until(() => got.length === 1, 'the message');
    expect(got[0]).toEqual({
      msg: { ready: true, status: 'up and running', other: [] },
      from: { pid: sent.pid, uid: process.getuid!() },
    });
    socket.close();
  });

  it('the socket is 0600 in a 0711 directory; close removes it and later messages find nothing', async () => {
    const { socket } = listen();
    expect(statSync(socket.path).mode & 0o777).toBe(0o600);
    expect(statSync(dir.dir).mode & 0o777).toBe(0o711);
    socket.close();
    expect(readdirSync(dir.dir)).toEqual([]);
    const late = await send(socket.path, 'READY=1');
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/sendmsg/);
  });

  it('closes the file descriptors a sender passes along (FDSTORE), so they cannot pile up in PID 1', async () => {
    const { socket, got } = listen();
    const fds = (): number => readdirSync('/proc/self/fd').length;
    // One message first, so anything opened lazily is open before counting.
    await send(socket.path, '--fd', 'FDSTORE=1');
    await until(() => got.length === 1, 'the first message');
    const before = fds();
    for (let i = 0; i < 20; i++) expect((await send(socket.path, '--fd', 'FDSTORE=1')).code).toBe(0);
    await until(() => got.length === 21, 'every message');
    expect(fds()).toBe(before);
    socket.close();
  });

  it('drops a message longer than systemd allows (4096 bytes) whole, and goes on', async () => {
    const { socket, got } = listen();
    expect((await send(socket.path, '--size', '5000')).code).toBe(0);
    expect((await send(socket.path, '--size', '4096')).code).toBe(0);
    expect((await send(socket.path, 'WATCHDOG=1')).code).toBe(0);
    await until(() => got.some((g) => g.msg.watchdog === 'ping'), 'the ping');
    // The 4096-byte one is at the bound: delivered (it assigns nothing); the 5000-byte one is not.
    expect(got.map((g) => g.msg)).toEqual([{ other: [] }, { watchdog: 'ping', other: [] }]);
    socket.close();
  });

  it('reports a message with a NUL byte as invalid', async () => {
    const { socket, got, invalid } = listen();
    expect((await send(socket.path, '--nul', 'READY=1', 'STATUS=x')).code).toBe(0);
    expect((await send(socket.path, 'STATUS=after')).code).toBe(0);
    await until(() => got.length === 1, 'the message after');
    expect(invalid).toEqual(['the message contains a NUL byte']);
    expect(got[0]!.msg).toEqual({ status: 'after', other: [] });
    socket.close();
  });

  it.skipIf(process.getuid!() !== 0)(
    'a socket owned by the job’s user takes messages from that user only (and root)',
    async () => {
      dir = new NotifyDir();
      const got: NotifyMessage[] = [];
      const socket = NotifySocket.open(dir.socketPath(), (msg) => got.push(msg), { owner: { uid: 65534, gid: 65534 } });
      const as = (uid: number, text: string) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const child = spawn(sender, [text], {
            env: { NOTIFY_SOCKET: socket.path },
            uid,
            gid: uid,
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('close', (code) => resolve({ code, stderr }));
        });
      const stranger = await as(65533, 'READY=1');
      expect(stranger.code).toBe(1);
      expect(stranger.stderr).toMatch(/Permission denied/);
      const owner = await as(65534, 'STATUS=from the job');
      expect(owner.code, owner.stderr).toBe(0);
      await until(() => got.length === 1, 'the owner’s message');
      expect(got).toEqual([{ status: 'from the job', other: [] }]);
      socket.close();
    },
  );

  it.skipIf(spawnSync('systemd-notify', ['--version']).status !== 0)(
    'works with systemd-notify --ready (no systemd running)',
    async () => {
      const { socket, got } = listen();
      const child = spawn('systemd-notify', ['--ready', '--status=ready via systemd-notify'], {
        env: { NOTIFY_SOCKET: socket.path },
        stdio: 'ignore',
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(0);
      expect(got.map((g) => g.msg).find((m) => m.ready)).toEqual({
        ready: true,
        status: 'ready via systemd-notify',
        other: [],
      });
      socket.close();
    },
  );
});
