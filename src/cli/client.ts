/**
 * The client side of the control socket (docs/control-api.md, README.md), shared by every command that
 * talks to a running supervisor. The socket is `--socket`, else the one the
 * configuration gives (`control.socket`, `$PIDPILOT_CONTROL_SOCKET`, or the project's own
 * place derived from the config path, or ContainerPilot's when the supervisor is this
 * container's PID 1), found the same way the supervisor finds it. A supervisor that is
 * not running is a clear error.
 */
import { type IncomingMessage, request } from 'node:http';
import { resolve } from 'node:path';
import { ConfigErrors, UsageError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { ControlResponse as Response } from '../control/response.js';
import { CONTROL_SOCKET_ENV, clientSocketPath } from '../control/socket-path.js';
import type { ParsedArgs } from './args.js';
import { configPath, reportConfigErrors } from './config-file.js';

/** Bound on one request; a reload may wait for jobs to stop. */
const REQUEST_TIMEOUT_MS = 120_000;

/**
 * The command cannot go on: `status` is the exit status; `runClient` prints the message
 * (empty when it is already printed). Long-running views (ui, top) show it instead.
 */
export class ClientExit extends Error {
  constructor(
    readonly status: number,
    message = '',
  ) {
    super(message);
  }
}

export type { ControlResponse as Response } from '../control/response.js';

export function fail(message: string, status = 1): never {
  throw new ClientExit(status, message);
}

export class ControlClient {
  constructor(readonly socketPath: string) {}

  /**
   * From `--socket`, else from the configuration (whose errors exit 2), else — no
   * configuration file anywhere — from `$PIDPILOT_CONTROL_SOCKET`, which names the socket
   * on its own as it does for the supervisor.
   */
  static fromArgs(args: ParsedArgs): ControlClient {
    if (typeof args.flags.socket === 'string' && args.flags.socket !== '') return new ControlClient(args.flags.socket);
    try {
      let file: string[];
      try {
        file = configPath(args);
      } catch (err) {
        const fromEnv = process.env[CONTROL_SOCKET_ENV];
        if (err instanceof UsageError && fromEnv) return new ControlClient(resolve(fromEnv));
        throw err;
      }
      return new ControlClient(clientSocketPath(loadConfig(file, process.env)));
    } catch (err) {
      if (err instanceof ConfigErrors) throw new ClientExit(reportConfigErrors(err));
      throw err;
    }
  }

  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    return readResponse(await this.open(method, path, body));
  }

  /** Calls `onLine` with every line of a streamed answer until the server ends it. */
  stream(path: string, onLine: (line: string) => void): Promise<void> {
    return this.follow(path, onLine).done;
  }

  /** `stream`, which the caller may end early with `close()` (then `done` resolves). */
  follow(path: string, onLine: (line: string) => void): { done: Promise<void>; close: () => void } {
    let closed = false;
    let response: IncomingMessage | null = null;
    const done = (async () => {
      const res = await this.open('GET', path, undefined, false);
      response = res;
      if (closed) return void res.destroy();
      if (res.statusCode !== 200) failWith(await readResponse(res));
      let partial = '';
      res.setEncoding('utf8');
      try {
        for await (const chunk of res) {
          const lines = (partial + (chunk as string)).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) if (line !== '' && !closed) onLine(line);
        }
      } catch (err) {
        if (!closed) throw err;
      }
      if (partial !== '' && !closed) onLine(partial);
    })();
    return {
      done,
      close: () => {
        closed = true;
        (response as IncomingMessage | null)?.destroy();
      },
    };
  }

  private open(method: string, path: string, body: unknown, bounded = true): Promise<IncomingMessage> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path,
          method,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        resolve,
      );
      if (bounded) req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('no answer from the supervisor')));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(new ClientExit(1, notRunning(this.socketPath)));
        } else if (err.code === 'EACCES') {
          reject(
            new ClientExit(
              1,
              `permission denied on the control socket ${this.socketPath} (it is readable by its owner only)`,
            ),
          );
        } else {
          reject(new ClientExit(1, `control socket ${this.socketPath}: ${err.message}`));
        }
      });
      req.end(payload);
    });
  }
}

async function readResponse(res: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode ?? 0, body, json };
}

function notRunning(socketPath: string): string {
  return `the supervisor is not running (nothing answers on the control socket ${socketPath}); use --socket or -config to point at another`;
}

/** The error of a non-2xx answer, as the server said it. */
export function errorOf(res: Response): string {
  const json = res.json as { error?: unknown } | undefined;
  if (json && typeof json.error === 'string') return json.error;
  return res.body.trim() || `HTTP ${res.status}`;
}

export function failWith(res: Response): never {
  return fail(errorOf(res));
}

/** Runs a client command: its ClientExit becomes the exit status. */
export async function runClient(fn: () => Promise<number>): Promise<number> {
  // `pidpilot logs -f | head`: a reader that is gone ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ClientExit) {
      if (err.message !== '') process.stderr.write(`pidpilot: ${err.message}\n`);
      return err.status;
    }
    throw err;
  }
}
