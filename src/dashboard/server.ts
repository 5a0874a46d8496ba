/**
 * The dashboard's HTTP server (`pidpilot ui`, or the supervisor's `dashboard` section):
 * the page and its two assets, and a small API over the control socket:
 * - `GET /api/stream`: server-sent events: `status` (the whole /v3/status, on change),
 *   `event` (each event as it happens, the recent ones first), `contact` (lost or back);
 * - `GET /api/logs[?job=NAME]`: server-sent events, one `data:` per captured line (the
 *   recent lines first);
 * - `GET /graph.svg`: the job graph, drawn here (svg.ts);
 * - `POST /api/jobs/NAME/start|stop|restart`: as the control socket, guarded (access.ts).
 * The page is fixed: no framework, no external resource (a strict CSP says so to the browser).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { JobGraph } from '../jobs/graph-model.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { Access, type AccessOptions } from './access.js';
import { type FeedClient, type FeedMessage, LiveFeed } from './feed.js';
import { graphSvg } from './svg.js';

/** Browsers streaming at once; each log stream also holds one control-socket connection. */
const MAX_STREAMS = 32;
const LOG_LINES_FIRST = 300;
const ACTIONS = new Set(['start', 'stop', 'restart']);

const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The page's files: dist/dashboard-assets in the package (bundle.mjs copies them), src/dashboard/assets in a checkout. */
function assetsDir(): string {
  const shipped = join(PACKAGE_ROOT, 'dist', 'dashboard-assets');
  return existsSync(shipped) ? shipped : join(PACKAGE_ROOT, 'src', 'dashboard', 'assets');
}

const TYPES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export interface DashboardOptions extends AccessOptions {
  port: number;
}

export class DashboardServer {
  private readonly access: Access;
  private readonly feed: LiveFeed;
  private readonly server: Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly assets = new Map<string, string>();

  constructor(
    private readonly client: FeedClient,
    private readonly opts: DashboardOptions,
  ) {
    this.access = new Access(opts);
    this.feed = new LiveFeed(client);
    const dir = assetsDir();
    for (const name of Object.keys(TYPES)) this.assets.set(name, readFileSync(join(dir, name), 'utf8'));
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
  }

  /** Whether the page's buttons work: `on`, `token` (with the token) or `off`. */
  get actions(): 'on' | 'token' | 'off' {
    return this.access.actions;
  }

  /** Listens; resolves with the URL the page is at. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.listen, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${addr.port}/`;
  }

  async close(): Promise<void> {
    this.feed.stop();
    for (const res of this.streams) res.end();
    this.streams.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const hostProblem = this.access.hostProblem(req);
      if (hostProblem) return send(res, 403, 'text/plain', `${hostProblem}\n`);
      const url = new URL(req.url ?? '/', 'http://dashboard');
      const action = /^\/api\/jobs\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
      if (action && req.method === 'POST')
        return await this.action(req, res, decodeURIComponent(action[1]!), action[2]!);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
      switch (url.pathname) {
        case '/':
        case '/index.html':
          return send(res, 200, TYPES['index.html']!, this.page());
        case '/app.js':
        case '/app.css':
          return send(res, 200, TYPES[url.pathname.slice(1)]!, this.assets.get(url.pathname.slice(1))!);
        case '/graph.svg':
          return await this.graph(res);
        case '/api/status': {
          const answer = await this.client.call('GET', '/v3/status');
          return send(res, answer.status, 'application/json', answer.body);
        }
        case '/api/stream':
          return this.statusStream(req, res);
        case '/api/logs':
          return this.logStream(req, res, url.searchParams.get('job') ?? '');
        default:
          return send(res, 404, 'text/plain', 'not found\n');
      }
    } catch (err) {
      send(res, 502, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  private page(): string {
    return this.assets
      .get('index.html')!
      .replace('{{csrf}}', this.access.csrf)
      .replace('{{actions}}', this.access.actions);
  }

  private async graph(res: ServerResponse): Promise<void> {
    const answer = await this.client.call('GET', '/v3/graph');
    if (answer.status !== 200) return send(res, 502, 'text/plain', answer.body);
    send(res, 200, 'image/svg+xml', graphSvg(answer.json as JobGraph));
  }

  private async action(req: IncomingMessage, res: ServerResponse, job: string, action: string): Promise<void> {
    req.resume();
    if (!ACTIONS.has(action))
      return send(res, 404, 'application/json', JSON.stringify({ error: `no action ${action}` }));
    const problem = this.access.actionProblem(req);
    if (problem) return send(res, 403, 'application/json', JSON.stringify({ error: problem }));
    const answer = await this.client.call('POST', `/v3/jobs/${encodeURIComponent(job)}/${action}`);
    void this.feed.refresh();
    send(res, answer.status, 'application/json', answer.body);
  }

  /** Starts a server-sent event stream, or refuses when too many are open. */
  private openStream(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.streams.size >= MAX_STREAMS) {
      send(res, 503, 'text/plain', 'too many dashboards are open\n');
      return false;
    }
    req.socket.setTimeout(0);
    res.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream' });
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
    return true;
  }

  private statusStream(req: IncomingMessage, res: ServerResponse): void {
    if (!this.openStream(req, res)) return;
    const write = (m: FeedMessage): void => {
      if (m.kind === 'status') sse(res, 'status', { ...m.status, now: m.now });
      else if (m.kind === 'event') sse(res, 'event', m.event);
      else sse(res, 'contact', { error: m.error });
    };
    if (this.feed.status) write({ kind: 'status', status: this.feed.status, now: Date.now() });
    if (this.feed.error) write({ kind: 'error', error: this.feed.error });
    for (const event of this.feed.events) write({ kind: 'event', event });
    const off = this.feed.subscribe(write);
    res.on('close', off);
  }

  private logStream(req: IncomingMessage, res: ServerResponse, job: string): void {
    if (!this.openStream(req, res)) return;
    const query = new URLSearchParams({ limit: String(LOG_LINES_FIRST), follow: '1', ...(job ? { job } : {}) });
    const upstream = this.client.follow(`/v3/logs?${query}`, (line) => write(res, `data: ${line}\n\n`));
    upstream.done.then(
      () => res.end(),
      (err: unknown) => {
        sse(res, 'problem', { error: err instanceof Error ? err.message : String(err) });
        res.end();
      },
    );
    res.on('close', () => upstream.close());
  }
}

/** A browser this far behind on a stream is dropped rather than buffered without bound. */
const MAX_BACKLOG_BYTES = 1024 * 1024;

function write(res: ServerResponse, text: string): void {
  if (res.destroyed) return;
  res.write(text);
  if (res.writableLength > MAX_BACKLOG_BYTES) res.destroy();
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  write(res, `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { ...HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
