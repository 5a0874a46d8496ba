import { describe, expect, it } from 'vitest';
import { resolveControlSocket, resolveStateDir } from '../../../src/state/dir.js';

const state = { keepRuns: 10, maxEventLogBytes: 1 << 20 };
const none = () => false;
const only = (dir: string) => (d: string) => d === dir;

describe('state dir', () => {
  it('uses state.dir, relative to the working directory', () => {
    expect(resolveStateDir({ state: { ...state, dir: 'st' } }, { cwd: '/w', writable: none })).toBe('/w/st');
  });
  it('prefers /var/run/pidpilot when /var/run is writable', () => {
    expect(resolveStateDir({ state }, { writable: only('/var/run'), env: { XDG_RUNTIME_DIR: '/run/user/1' } })).toBe('/var/run/pidpilot');
  });
  it('falls back to $XDG_RUNTIME_DIR, then to ./.pidpilot', () => {
    expect(resolveStateDir({ state }, { writable: only('/run/user/1'), env: { XDG_RUNTIME_DIR: '/run/user/1' } })).toBe('/run/user/1/pidpilot');
    expect(resolveStateDir({ state }, { writable: none, env: { XDG_RUNTIME_DIR: '/run/user/1' }, cwd: '/w' })).toBe('/w/.pidpilot');
    expect(resolveStateDir({ state }, { writable: () => true, env: { XDG_RUNTIME_DIR: 'relative' }, cwd: '/w' })).toBe('/var/run/pidpilot');
  });
});

describe('control socket', () => {
  it('uses control.socket when given', () => {
    expect(resolveControlSocket({ state, control: { socket: '/tmp/x.sock' } }, { writable: none })).toBe('/tmp/x.sock');
  });
  it("keeps ContainerPilot's path when /var/run is writable, else lives in the state dir", () => {
    expect(resolveControlSocket({ state, control: {} }, { writable: only('/var/run') })).toBe('/var/run/containerpilot.socket');
    expect(resolveControlSocket({ state, control: {} }, { writable: none, env: {}, cwd: '/w' })).toBe('/w/.pidpilot/control.sock');
  });
});
