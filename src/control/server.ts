/**
 * The control socket (docs/control-api.md): HTTP/1.1 over a unix socket, created with mode 0600.
 * A socket file left by a dead pidpilot is replaced; one that still answers belongs
 * to a live supervisor and is an error (two supervisors must not share one socket).
 *
 * Start-up first `probe()`s the path, before any job starts (a live socket there stops a
 * second pidpilot), and binds it with `listen()` once the first jobs are started (node:net's
 * `listen` loads cluster, child_process and dgram: the first job does not wait for them).
 * `node:http` (~10 ms to load) is loaded on the first connection; connections accepted
 * meanwhile wait for it.
 *
 * One request per connection, as ContainerPilot's server (no keep-alive). Slow or
 * abandoned clients are bounded: the headers must arrive within HEADERS_TIMEOUT_MS and
 * the whole request within REQUEST_TIMEOUT_MS (else 408 and close), a silent connection
 * is closed after IDLE_TIMEOUT_MS, and the number of connections is bounded without ever
 * locking a short request out (admission.ts).
 * Follow streams lift the idle bound for themselves once their request is complete.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';
import { dirname } from 'node:path';
import * as builtins from '../builtins.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import { Admission } from './admission.js';
import { sendJson } from './http.js';
import { ControlRoutes } from './routes.js';
import type { ControlTarget } from './target.js';

const REQUEST_TIMEOUT_MS = 10_000;
const HEADERS_TIMEOUT_MS = 5_000;
const IDLE_TIMEOUT_MS = 30_000;
const MAX_SOCKET_PATH_BYTES = 107;
/** Connections the kernel queues before pidpilot accepts them (capped by net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

export class ControlSocketInUse extends Error {}

/** Counts requests by path and status, like ContainerPilot's `containerpilot_control_http_requests`. */
export type RequestObserver = (path: string, status: number) => void;

/**
 * How long a connection whose answer is sent keeps reading (and dropping) what the client still
 * sends, and how much: see `lingeringClose`.
 */
const LINGER_MS = 2_000;
const LINGER_BYTES = 4 * 1024 * 1024;
/** A lingering client that sent nothing for this long has nothing more to send. */
const LINGER_IDLE_MS = 200;

/**
 * Closes a connection the way nginx and Apache do ("lingering close"): the answer is sent and
 * the write side shut, then what the client still sends (the rest of a body nobody reads, after
 * an early 404, 413 or 431) is read and dropped until it stops or a bound passes, and only then
 * is the connection closed. Closed at once, the client would meet a broken pipe while still
 * writing its body and could lose the answer that was already on its way.
 */
function lingeringClose(socket: Socket): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  if (socket.writable) socket.end();
  let dropped = 0;
  const close = (): void => void socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  let idle = setTimeout(close, LINGER_IDLE_MS);
  socket.once('close', () => {
    clearTimeout(timer);
    clearTimeout(idle);
  });
  socket.once('end', close);
  socket.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) return close();
    clearTimeout(idle);
    idle = setTimeout(close, LINGER_IDLE_MS);
  });
  socket.resume();
}
const lingering = new WeakSet<Socket>();

/** Why a connection is refused outside any handler: the status line's code and words. */
const REFUSALS = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  503: 'Service Unavailable',
} as const;
type Refusal = keyof typeof REFUSALS;

/**
 * An error answer written on the raw socket, for a connection on which no request was
 * dispatched; to a HEAD request (as far as its first bytes tell) without the body, as HTTP wants.
 */
function rawAnswer(status: Refusal, message: string, head: boolean): string {
  const body = `${JSON.stringify({ error: message })}\n`;
  return `HTTP/1.1 ${status} ${REFUSALS[status]}\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${head ? '' : body}`;
}

export class ControlServer {
  private routesMade: ControlRoutes | null = null;
  /** Made by `listen()`. */
  private listener: NetServer | null = null;
  private http: HttpServer | null = null;
  /** Connections accepted before `node:http` was loaded. */
  private waiting: Socket[] = [];
  private readonly deadlines = new Map<Socket, NodeJS.Timeout[]>();
  /**
   * The response of the request dispatched on each connection (one per connection). Every
   * answer the server writes outside a handler goes through `refuse`, which consults it, and
   * every handler's answer goes through that response (whose writes stop once headers are
   * sent): so a request never gets two answers (issue 14, defect 12: a framing error in a
   * chunked body after a handler had answered was answered again on the raw socket).
   */
  private readonly dispatched = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  private listening = false;
  private admissionMade: Admission | null = null;
  /**
   * `node:http` is loaded on the first connection, not at start: an idle supervisor (most of
   * its life) keeps ~1 MB less resident. Connections accepted meanwhile are served then.
   */
  private httpLoading: Promise<void> | null = null;

  constructor(
    readonly socketPath: string,
    private readonly target: ControlTarget,
    private readonly log: Logger,
    private readonly onRequest: RequestObserver = () => {},
  ) {}

  // The routes and the connection bound (which reads /proc/self/limits) are made on first use,
  // once the socket is bound: the supervisor makes its ControlServer before the first job
  // starts, and probes with it (bench/README.md, start-up, fourth round).
  private get routes(): ControlRoutes {
    this.routesMade ??= new ControlRoutes(this.target);
    return this.routesMade;
  }

  private get admission(): Admission {
    this.admissionMade ??= new Admission();
    return this.admissionMade;
  }

  /**
   * Whether the socket can be had, binding nothing: the path fits, its directory exists, and
   * no live process serves it (a stale socket file is removed). Throws ControlSocketInUse.
   */
  async probe(): Promise<void> {
    // sun_path holds 108 bytes with its NUL; a longer path would fail with a bare EINVAL.
    if (Buffer.byteLength(this.socketPath) > MAX_SOCKET_PATH_BYTES) {
      throw new Error(
        `the control socket path ${this.socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes, the limit of unix sockets: set control.socket to a shorter one`,
      );
    }
    mkdirSync(dirname(this.socketPath), { recursive: true, mode: 0o700 });
    await removeStaleSocket(this.socketPath);
  }

  /** Binds the socket (probing it again). Throws ControlSocketInUse when another live process serves it. */
  async listen(): Promise<void> {
    await this.probe();
    const listener = builtins.net().createServer((socket) => this.accept(socket));
    this.listener = listener;
    let bound: Promise<void>;
    // The socket is created by bind(2) with the umask applied: make it 0600 from the first
    // instant, so no other user can connect in the window before a chmod. bind(2) happens
    // within listen(): the umask is restored at once, before any job can be spawned with it.
    const umask = process.umask(0o177);
    try {
      bound = new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        // A deep backlog: a burst of clients waits to be accepted instead of failing to connect (EAGAIN).
        listener.listen({ path: this.socketPath, backlog: LISTEN_BACKLOG }, () => {
          listener.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    await bound;
    chmodSync(this.socketPath, 0o600);
    this.listening = true;
    listener.on('error', (err) => this.log.error(`control socket: ${err.message}`));
  }

  /** Stops accepting, ends follow streams and open connections, and removes the socket file. */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    await this.httpLoading?.catch(() => {});
    this.routes.closeFollowers();
    const listener = this.listener;
    const closed = new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
    for (const socket of this.waiting) socket.destroy();
    this.waiting = [];
    this.http?.closeIdleConnections();
    const timer = setTimeout(() => this.http?.closeAllConnections(), 500);
    const hard = setTimeout(() => {
      for (const socket of this.deadlines.keys()) socket.destroy();
    }, 600);
    await closed;
    clearTimeout(timer);
    clearTimeout(hard);
    try {
      unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
  }

  private async startHttp(): Promise<void> {
    const { createServer } = await import('node:http');
    const http = createServer((req, res) => this.serve(req, res));
    http.setTimeout(IDLE_TIMEOUT_MS, (socket) => socket.destroy());
    // Malformed HTTP or headers too large: answer and close.
    http.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
      const head = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
      if (err.code === 'HPE_HEADER_OVERFLOW') this.refuse(socket, 431, 'request headers too large', head);
      else this.refuse(socket, 400, `malformed HTTP request${err.code ? ` (${err.code})` : ''}`, head);
    });
    // node:http hands CONNECT to a 'connect' listener and, with none, closes without a word.
    http.on('connect', (req: IncomingMessage, socket: Socket) => {
      this.refuse(socket, 405, `method CONNECT not allowed on ${req.url ?? '?'}`);
    });
    this.http = http;
    const waiting = this.waiting;
    this.waiting = [];
    for (const socket of waiting) if (!socket.destroyed) http.emit('connection', socket);
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {}); // a client that vanishes is not our error
    // node:http ends a connection that is not kept alive with destroySoon(): linger instead.
    socket.destroySoon = () => lingeringClose(socket);
    if (!this.admission.admit(socket)) return this.refuse(socket, 503, 'too many connections on the control socket');
    const late = (what: string) => () => this.refuse(socket, 408, `the ${what} did not arrive in time`);
    const headers = setTimeout(late('request headers'), HEADERS_TIMEOUT_MS);
    const whole = setTimeout(late('request'), REQUEST_TIMEOUT_MS);
    this.deadlines.set(socket, [headers, whole]);
    socket.once('close', () => this.clearDeadlines(socket));
    if (this.http) return void this.http.emit('connection', socket);
    this.waiting.push(socket);
    this.httpLoading ??= this.startHttp().catch((err: unknown) => {
      this.log.error(`control socket: cannot serve HTTP: ${String(err)}`);
      for (const waiting of this.waiting.splice(0)) waiting.destroy();
      this.httpLoading = null;
    });
  }

  private clearDeadlines(socket: Socket, which: 'headers' | 'all' = 'all'): void {
    const timers = this.deadlines.get(socket);
    if (!timers) return;
    clearTimeout(timers[0]);
    if (which === 'headers') return;
    clearTimeout(timers[1]);
    this.deadlines.delete(socket);
  }

  /**
   * Ends a connection with an error answer, unless its request has been answered already:
   * a request whose handler has not answered yet gets the error through its own response
   * (the handler's answer then writes nothing); one already answered, or one that arrived whole
   * before the bad bytes (they are a second request, pipelined: never served), gets nothing
   * more from here. The connection is closed either way (`lingeringClose`): after a framing
   * error nothing on it can be trusted to be the start of a request.
   */
  private refuse(socket: Socket, status: Refusal, message: string, head = false): void {
    const { req, res } = this.dispatched.get(socket) ?? {};
    if (!req || !res) {
      if (socket.writable) socket.write(rawAnswer(status, message, head));
      lingeringClose(socket);
      return;
    }
    if (res.headersSent || res.destroyed) {
      // Answered in full: let it flush, then close. Mid-stream: nothing sensible can follow.
      if (res.writableEnded) lingeringClose(socket);
      else socket.destroy();
      return;
    }
    // The request arrived whole: the error is in what follows it (not served, one request per
    // connection). Its handler answers it, and the connection closes after that answer.
    if (req.complete) return;
    res.once('finish', () => lingeringClose(socket));
    sendJson(res, status, { error: message }, { connection: 'close' });
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    if (this.dispatched.has(socket)) {
      // A request pipelined behind the first: one request per connection, so it is neither
      // served nor answered; the connection closes once the first answer is written.
      return;
    }
    this.dispatched.set(socket, { req, res });
    this.clearDeadlines(socket, 'headers');
    // The request is complete when its body has been read; a GET's (normally empty) body is not
    // read by anyone, so it is discarded here. And once the answer is sent, nothing is pending.
    if (req.method === 'GET' || req.method === 'HEAD') req.resume();
    req.once('end', () => {
      this.clearDeadlines(socket);
      this.admission.arrived(socket);
    });
    res.once('finish', () => this.clearDeadlines(socket));
    // One request per connection, as ContainerPilot's server.
    res.shouldKeepAlive = false;
    void this.routes.handle(req, res).then((route) => {
      if (res.writableFinished) this.onRequest(route, res.statusCode);
      else res.once('finish', () => this.onRequest(route, res.statusCode));
    });
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
    const conn = builtins.net().connect(socketPath);
    conn.once('connect', () => {
      conn.destroy();
      resolve(true);
    });
    // Only "nobody listens" makes it stale; a full backlog (EAGAIN) or EACCES is somebody's live socket.
    conn.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? false : true));
  });
  if (live) {
    throw new ControlSocketInUse(
      `another process is serving the control socket ${socketPath} (is pidpilot already running?); set control.socket to use another path`,
    );
  }
  unlinkSync(socketPath);
}
