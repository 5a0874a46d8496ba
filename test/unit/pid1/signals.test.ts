/** Which signal does what (docs/pid1.md), on a stand-in for `process`. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { FORWARDED_SIGNALS, handleSignals, logIsFile, type SignalTarget } from '../../../src/pid1/signals.js';

function setup(reopen: boolean) {
  const calls: string[] = [];
  const target: SignalTarget = {
    shutdown: (reason) => calls.push(`shutdown ${reason}`),
    signalEvent: (signal) => calls.push(`event ${signal}`),
    forwardSignal: (signal) => calls.push(`forward ${signal}`),
  };
  const proc = new EventEmitter();
  const off = handleSignals(
    target,
    { reopenLog: reopen ? () => calls.push('reopen') : undefined },
    proc as unknown as NodeJS.Process,
  );
  return { calls, proc, off };
}

describe('handleSignals', () => {
  it('SIGTERM/SIGINT shut down (every time: the supervisor escalates), SIGHUP/SIGUSR2 are events', () => {
    const { calls, proc } = setup(true);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2']) proc.emit(s);
    expect(calls).toEqual(['shutdown SIGTERM', 'shutdown SIGINT', 'shutdown SIGTERM', 'event SIGHUP', 'event SIGUSR2']);
  });

  it('SIGUSR1 reopens a log file, and is forwarded when there is none', () => {
    const file = setup(true);
    file.proc.emit('SIGUSR1');
    expect(file.calls).toEqual(['reopen']);
    const stdout = setup(false);
    stdout.proc.emit('SIGUSR1');
    expect(stdout.calls).toEqual(['forward SIGUSR1']);
  });

  it('forwards the signals meant for the jobs, and nothing pidpilot gets about itself', () => {
    const { calls, proc } = setup(true);
    for (const s of FORWARDED_SIGNALS) proc.emit(s);
    expect(calls).toEqual(FORWARDED_SIGNALS.map((s) => `forward ${s}`));
    expect(FORWARDED_SIGNALS).toEqual(expect.arrayContaining(['SIGQUIT', 'SIGWINCH', 'SIGCONT']));
    for (const s of [
      'SIGPIPE',
      'SIGCHLD',
      'SIGTTIN',
      'SIGTTOU',
      'SIGXCPU',
      'SIGXFSZ',
      'SIGURG',
      'SIGPROF',
      'SIGTRAP',
    ]) {
      expect(proc.listenerCount(s), s).toBe(0);
    }
  });

  it('removes its handlers', () => {
    const { proc, off } = setup(false);
    off();
    expect(proc.eventNames()).toEqual([]);
  });

  it('tells a log file from stdout/stderr', () => {
    expect(logIsFile('stdout')).toBe(false);
    expect(logIsFile('STDERR')).toBe(false);
    expect(logIsFile('/var/log/pidpilot.log')).toBe(true);
  });
});
