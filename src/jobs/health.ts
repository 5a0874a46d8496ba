/**
 * The built-in health checks of docs/configuration.md, `health.http` and `health.tcp`, so an image
 * needs no curl. Each check is one attempt bounded by `health.timeout`; the job turns
 * its result into the same `exitSuccess`/`exitFailed` events of `check.<job>` that an
 * `exec` check publishes.
 */
import type { ClientRequest } from 'node:http';
import * as builtins from '../builtins.js';
import type { HttpCheckConfig, TcpCheckConfig } from '../config/types.js';
import { setLongTimeout } from '../events/long-timer.js';

export interface CheckResult {
  /** `aborted`: stopped by pidpilot (shutdown, job end); published as nothing. */
  outcome: 'succeeded' | 'failed' | 'errored' | 'aborted';
  reason?: string;
}

/** A check going on: its result, and a way to abandon it. */
export interface BuiltinCheck {
  readonly result: Promise<CheckResult>;
  stop(): void;
}

/** Runs one attempt; `attempt` calls `done` once with the result and returns how to tear it down. */
function bounded(timeoutMs: number, attempt: (done: (r: CheckResult) => void) => () => void): BuiltinCheck {
  let finish!: (r: CheckResult) => void;
  const result = new Promise<CheckResult>((resolve) => (finish = resolve));
  let settled = false;
  let teardown: () => void = () => {};
  const done = (r: CheckResult): void => {
    if (settled) return;
    settled = true;
    timer.clear();
    teardown();
    finish(r);
  };
  const timer = setLongTimeout(() => done({ outcome: 'errored', reason: 'timeout' }), timeoutMs);
  teardown = attempt(done);
  return { result, stop: () => done({ outcome: 'aborted', reason: 'stop' }) };
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(err);
}

/**
 * node:http/https are loaded on the first HTTP check, not at start-up: most configurations
 * have none, and loading them (TLS included) would add to every pidpilot start.
 */
async function requestFor(protocol: string): Promise<typeof import('node:http').request> {
  return protocol === 'https:' ? (await import('node:https')).request : (await import('node:http')).request;
}

/** An HTTP(S) request: 2xx/3xx passes (or exactly `expectStatus`). The body is read and dropped. */
export function httpCheck(check: HttpCheckConfig, timeoutMs: number): BuiltinCheck {
  return bounded(timeoutMs, (done) => {
    const url = new URL(check.url);
    let req: ClientRequest | undefined;
    let abandoned = false;
    requestFor(url.protocol).then(
      (request) => {
        if (abandoned) return;
        try {
          req = request(
            url,
            { method: check.method, agent: false, headers: { 'user-agent': 'pidpilot-health' } },
            (res) => {
              const status = res.statusCode ?? 0;
              res.resume();
              const passed =
                check.expectStatus !== undefined ? status === check.expectStatus : status >= 200 && status < 400;
              done(passed ? { outcome: 'succeeded' } : { outcome: 'failed', reason: `HTTP status ${status}` });
            },
          );
        } catch (err) {
          // Node refuses some requests synchronously (e.g. an invalid header): the check errs, pidpilot goes on.
          return done({ outcome: 'errored', reason: errorText(err) });
        }
        req.on('error', (err) => done({ outcome: 'failed', reason: errorText(err) }));
        req.end();
      },
      (err: unknown) => done({ outcome: 'errored', reason: errorText(err) }),
    );
    return () => {
      abandoned = true;
      req?.destroy();
    };
  });
}

/** A TCP connection that succeeds passes; it is closed at once. */
export function tcpCheck(check: TcpCheckConfig, timeoutMs: number): BuiltinCheck {
  return bounded(timeoutMs, (done) => {
    const socket = builtins.net().connect({ host: check.host, port: check.port });
    let connected = false;
    socket.on('connect', () => {
      connected = true;
      done({ outcome: 'succeeded' });
    });
    socket.on('error', (err) => done({ outcome: 'failed', reason: errorText(err) }));
    return () => {
      if (!connected) return void socket.destroy();
      // Close politely: read and drop what the server says (a greeting), send FIN. Destroying
      // with unread data would reset the connection, which some servers log as an error.
      socket.resume();
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
  });
}
