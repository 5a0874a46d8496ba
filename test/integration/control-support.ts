/**
 * Talking to a running pidpilot's control socket from the integration tests, with a
 * real client: curl --unix-socket.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { budget, sleep, WAIT_MS } from './support.js';

export interface CurlAnswer {
  status: number;
  body: string;
  json: any;
}

/** One request with curl; `body` is sent as is. */
export function curl(socketPath: string, method: string, path: string, body?: string): Promise<CurlAnswer> {
  const args = [
    '-s',
    '-S',
    '--max-time',
    '60',
    '--unix-socket',
    socketPath,
    '-X',
    method,
    '-o',
    '-',
    '-w',
    '\n%{http_code}',
  ];
  if (body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', '@-');
  args.push(`http://localhost${path}`);
  return new Promise((resolve, reject) => {
    const child = execFile('curl', args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && !stdout) return reject(new Error(`curl ${method} ${path}: ${stderr || err.message}`));
      const cut = stdout.lastIndexOf('\n');
      const text = stdout.slice(0, cut);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(stdout.slice(cut + 1)), body: text, json });
    });
    child.stdin?.end(body);
  });
}

/** A TCP port nothing listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Like `until` of support.ts, for an async check: resolves with its first truthy value. */
export async function eventually<T>(
  fn: () => Promise<T | null | undefined | false>,
  what: string,
  quietMs = WAIT_MS,
): Promise<T> {
  const timeoutMs = budget(quietMs);
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(50);
  }
}
