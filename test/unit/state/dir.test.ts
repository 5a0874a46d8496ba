import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findControlSocket,
  preparePrivateBase,
  prepareProjectDir,
  projectDir,
  resolveControlSocket,
  resolveStateDir,
  runtimeBase,
} from '../../../src/state/dir.js';

const state = { keepRuns: 10, maxEventLogBytes: 1 << 20 };
const none = () => false;
const only =
  (...dirs: string[]) =>
  (d: string) =>
    dirs.includes(d);
const project = { state, control: {}, file: '/home/ann/shop/pidpilot.json5' };

describe('state dir', () => {
  it('uses state.dir, relative to the working directory', () => {
    expect(resolveStateDir({ state: { ...state, dir: 'st' }, control: {} }, { cwd: '/w', writable: none })).toBe(
      '/w/st',
    );
  });
  it("keeps ContainerPilot's /var/run/pidpilot as PID 1 when /var/run is writable", () => {
    expect(resolveStateDir(project, { pid1: true, writable: only('/var/run') })).toBe('/var/run/pidpilot');
  });
  it('is the project directory when not PID 1, even as root with a writable /var/run', () => {
    const opts = { pid1: false, writable: only('/var/run', '/run/user/1'), env: { XDG_RUNTIME_DIR: '/run/user/1' } };
    expect(resolveStateDir(project, opts)).toBe(projectDir(project, opts));
    expect(projectDir(project, opts)).toMatch(/^\/run\/user\/1\/pidpilot\/shop-[0-9a-f]{10}$/);
  });
  it('falls back from $XDG_RUNTIME_DIR to /run/user/UID to <tmp>/pidpilot-UID', () => {
    expect(runtimeBase({ writable: only('/x'), env: { XDG_RUNTIME_DIR: '/x' }, uid: 7 })).toBe('/x/pidpilot');
    expect(runtimeBase({ writable: only('/run/user/7'), env: { XDG_RUNTIME_DIR: 'relative' }, uid: 7 })).toBe(
      '/run/user/7/pidpilot',
    );
    expect(runtimeBase({ writable: none, env: {}, uid: 7, tmp: '/t' })).toBe('/t/pidpilot-7');
  });
  it('differs between projects, and between layer lists, and is stable for the same files', () => {
    const opts = { pid1: false, writable: none, env: {}, uid: 7, tmp: '/t' };
    const a = projectDir(project, opts);
    expect(projectDir({ ...project }, opts)).toBe(a);
    expect(projectDir({ ...project, file: '/home/bob/shop/pidpilot.json5' }, opts)).not.toBe(a);
    expect(projectDir({ ...project, files: [project.file, '/home/ann/shop/local.json5'] }, opts)).not.toBe(a);
    expect(projectDir({ ...project, files: [project.file] }, opts)).toBe(a);
  });
});

describe('control socket', () => {
  it('uses control.socket when given', () => {
    expect(resolveControlSocket({ state, control: { socket: '/tmp/x.sock' } }, { writable: none })).toBe('/tmp/x.sock');
  });
  it("keeps ContainerPilot's path as PID 1, else lives in the project directory", () => {
    expect(resolveControlSocket(project, { pid1: true, writable: only('/var/run') })).toBe(
      '/var/run/containerpilot.socket',
    );
    const opts = { pid1: false, writable: only('/var/run'), env: {}, uid: 7, tmp: '/t' };
    expect(resolveControlSocket(project, opts)).toBe(path.join(projectDir(project, opts), 'control.sock'));
    // A PID 1 that cannot write /var/run (a non-root container user) gets a project directory too.
    expect(resolveControlSocket(project, { ...opts, pid1: true, writable: none })).toBe(
      path.join(projectDir(project, opts), 'control.sock'),
    );
  });
});

describe('the project directory on disk', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const uid = process.getuid!();

  it('is made 0700 inside a 0700 base, and a client finds the socket a supervisor made there', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pp-dir-'));
    const opts = { pid1: false, env: { XDG_RUNTIME_DIR: dir } };
    const cfg = { ...project, file: path.join(dir, 'app', 'pidpilot.json5') };
    const socket = resolveControlSocket(cfg, opts);
    expect(prepareProjectDir(cfg, socket, opts)).toBeUndefined();
    const own = projectDir(cfg, opts);
    expect(statSync(own).mode & 0o777).toBe(0o700);
    expect(statSync(path.dirname(own)).mode & 0o777).toBe(0o700);
    expect(resolveStateDir(cfg, opts)).toBe(own);
    writeFileSync(socket, '');
    expect(findControlSocket(cfg, opts)).toBe(socket);
  });

  it('refuses a base that is a symlink, writable by others, or owned by someone else', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'pp-dir-'));
    const target = path.join(dir, 'elsewhere');
    mkdirSync(target);
    symlinkSync(target, path.join(dir, 'pidpilot'));
    expect(() => preparePrivateBase(path.join(dir, 'pidpilot', 'p-1'), uid)).toThrow(/symlink/);
    rmSync(path.join(dir, 'pidpilot'));
    mkdirSync(path.join(dir, 'pidpilot'));
    chmodSync(path.join(dir, 'pidpilot'), 0o777);
    expect(() => preparePrivateBase(path.join(dir, 'pidpilot', 'p-1'), uid)).toThrow(/writable by others/);
    chmodSync(path.join(dir, 'pidpilot'), 0o700);
    expect(() => preparePrivateBase(path.join(dir, 'pidpilot', 'p-1'), uid + 1)).toThrow(/belongs to uid/);
    // And an explicit state.dir and control.socket are the user's: nothing is checked.
    const cfg = {
      state: { ...state, dir: path.join(dir, 's') },
      control: { socket: path.join(dir, 'c.sock') },
      file: path.join(dir, 'x.json5'),
    };
    expect(
      prepareProjectDir(cfg, cfg.control.socket, { pid1: false, env: { XDG_RUNTIME_DIR: path.join(dir, 'nope') } }),
    ).toBeUndefined();
  });
});
