/**
 * The control socket (SPEC §9): HTTP/1.1 over a unix socket, created with mode 0600.
 * A socket file left by a dead pidpilot is replaced; one that still answers belongs
 * to a live supervisor and is an error (two supervisors must not share one socket).
 *
 * Slow or abandoned clients are bounded: headers and body must arrive within
 * REQUEST_TIMEOUT_MS, an idle connection is closed after IDLE_TIMEOUT_MS, and at most
 * MAX_CONNECTIONS are open at once. Follow streams lift the idle bound for themselves.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import { ControlRoutes } from './routes.js';
import type { ControlTarget } from './target.js';

const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const IDLE_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_CONNECTIONS = 128;
const MAX_SOCKET_PATH_BYTES = 107;

export class ControlSocketInUse extends Error {}

/** Counts requests by path and status, like ContainerPilot's `containerpilot_control_http_requests`. */
export type RequestObserver = (path: string, status: number) => void;

export class ControlServer {
  private readonly routes: ControlRoutes;
  private readonly server: Server;
  private listening = false;

  constructor(
    readonly socketPath: string,
    target: ControlTarget,
    private readonly log: Logger,
    private readonly onRequest: RequestObserver = () => {},
  ) {
    this.routes = new ControlRoutes(target);
    this.server = createServer(
      // Node checks the two timeouts every connectionsCheckingInterval (30 s by default).
      { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
      (req, res) => {
        void this.routes.handle(req, res).then((route) => {
          if (res.writableFinished) this.onRequest(route, res.statusCode);
          else res.once('finish', () => this.onRequest(route, res.statusCode));
        });
      },
    );
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.setTimeout(IDLE_TIMEOUT_MS, (socket) => socket.destroy());
    // Malformed HTTP, a request too slow to arrive, headers too large: answer and close.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      const status =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      else socket.destroy();
    });
  }

  /** Binds the socket. Throws ControlSocketInUse when another live process serves it. */
  async listen(): Promise<void> {
    // sun_path holds 108 bytes with its NUL; a longer path would fail with a bare EINVAL.
    if (Buffer.byteLength(this.socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(`the control socket path ${this.socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit of unix sockets: set control.socket to a shorter one`);
    }
    mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o700 });
    await removeStaleSocket(this.socketPath);
    // The socket is created by bind(2) with the umask applied: make it 0600 from the
    // first instant, so no other user can connect in the window before a chmod.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.socketPath, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(this.socketPath, 0o600);
    this.listening = true;
    this.server.on('error', (err) => this.log.error(`control socket: ${err.message}`));
  }

  /** Stops accepting, ends follow streams and removes the socket file. Bounded. */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    this.routes.closeFollowers();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), 500);
    await closed;
    clearTimeout(timer);
    try {
      unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
  }
}

/**
 * A socket file nobody answers on is left by a process that died: remove it. A live
 * one is refused. Anything that is not a socket is not ours to delete.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(socketPath).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new ControlSocketInUse(`${socketPath} exists and is not a socket: refusing to replace it`);
  const live = await new Promise<boolean>((resolve) => {
    const conn = connect(socketPath);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    conn.once('error', () => resolve(false));
  });
  if (live) {
    throw new ControlSocketInUse(`another process is serving the control socket ${socketPath} (is pidpilot already running?); set control.socket to use another path`);
  }
  unlinkSync(socketPath);
}
