/**
 * A Consul test agent: an HTTP(S) server implementing the part of Consul's HTTP API that
 * pidpilot uses, written from Consul's API documentation, with Consul's observable behaviour:
 *
 * - `PUT /v1/agent/service/register` (ID, Name, Tags, Address, Port, Meta, EnableTagOverride,
 *   Check/Checks with TTL, Status, Notes, DeregisterCriticalServiceAfter),
 *   `PUT /v1/agent/service/deregister/:id` (404 for an unknown service, like Consul ≥ 1.x),
 *   `PUT /v1/agent/check/{pass,warn,fail}/:id?note=` and `PUT /v1/agent/check/update/:id`
 *   (404 "Unknown check ID" when the agent does not know the check), `GET /v1/agent/services`,
 *   `GET /v1/agent/checks`, `GET /v1/agent/self`, `GET /v1/status/leader`;
 * - `GET /v1/health/service/:name` with `passing`, `tag` (repeatable), `dc`, and blocking
 *   queries: `index` + `wait` (default 5m, at most 10m) hold the request until the index moves,
 *   every answer carries `X-Consul-Index` (never 0);
 * - a TTL check that gets no update within its TTL turns critical ("TTL expired"); a service
 *   whose check stays critical for `DeregisterCriticalServiceAfter` is removed by a reaper
 *   (Consul: at least 1 minute, reaper every 30 s — both scaled down by options for tests);
 * - ACLs: with `token` set, a request without it gets 403 "Permission denied", one with another
 *   token 403 "ACL not found" (token from `X-Consul-Token`, `Authorization: Bearer`, or `?token=`);
 * - `dc` other than the agent's datacenter: 500 "No path to datacenter";
 * - `restart()` forgets every registration (an agent restarted without persisted state),
 *   `stop()` closes the port (connections refused) and `start()` opens it again on the same port;
 * - HTTPS with a given key/certificate (and optionally a required client certificate).
 *
 * Every request is recorded (`requests`) so tests can count what pidpilot sent.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { parseGoDuration } from '../../../src/config/duration.js';

export interface TestAgentTls {
  key: string | Buffer;
  cert: string | Buffer;
  /** Require a client certificate signed by this CA. */
  clientCa?: string | Buffer;
}

export interface TestAgentOptions {
  /** ACL token every request must carry. */
  token?: string;
  tls?: TestAgentTls;
  datacenter?: string;
  node?: string;
  /** Floor of DeregisterCriticalServiceAfter (Consul: 1 minute). */
  minDeregisterAfterMs?: number;
  /** How often the reaper looks for services to remove (Consul: 30 s). */
  reapIntervalMs?: number;
  /** Port to listen on; 0 picks one. */
  port?: number;
}

export type Status = 'passing' | 'warning' | 'critical';

export interface AgentService {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
  EnableTagOverride: boolean;
}

export interface AgentCheck {
  CheckID: string;
  Name: string;
  Status: Status;
  Notes: string;
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ttlMs: number;
  deregisterAfterMs?: number;
  criticalSince?: number;
  ttlTimer?: NodeJS.Timeout;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  token: string | undefined;
  status: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_WAIT_MS = 10 * 60_000;
const DEFAULT_WAIT_MS = 5 * 60_000;

export class ConsulTestAgent {
  readonly services = new Map<string, AgentService>();
  readonly checks = new Map<string, AgentCheck>();
  readonly requests: RecordedRequest[] = [];
  /**
   * Awaited before a request is handled (after it is recorded): a test holds some requests
   * back (a slow agent) by returning a promise it resolves later.
   */
  gate: ((method: string, path: string) => Promise<void> | void) | null = null;
  private index = 1;
  private waiters = new Set<() => void>();
  private server: Server | null = null;
  private sockets = new Set<Socket>();
  private reaper: NodeJS.Timeout | null = null;
  private portInUse = 0;
  readonly datacenter: string;
  readonly node: string;

  private constructor(readonly options: TestAgentOptions) {
    this.datacenter = options.datacenter ?? 'dc1';
    this.node = options.node ?? 'test-agent';
  }

  static async start(options: TestAgentOptions = {}): Promise<ConsulTestAgent> {
    const agent = new ConsulTestAgent(options);
    await agent.start();
    return agent;
  }

  get port(): number {
    return this.portInUse;
  }
  /** `127.0.0.1:PORT`, as `consul` takes it. */
  get address(): string {
    return `127.0.0.1:${this.portInUse}`;
  }
  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://${this.address}`;
  }
  get running(): boolean {
    return this.server !== null;
  }

  /** Open the port (again): the same port after a `stop()`. */
  async start(): Promise<void> {
    if (this.server) return;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const tls = this.options.tls;
    const server = tls
      ? createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ca: tls.clientCa,
            requestCert: tls.clientCa !== undefined,
            rejectUnauthorized: tls.clientCa !== undefined,
          },
          handler,
        )
      : createHttpServer(handler);
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portInUse || this.options.port || 0, '127.0.0.1', () => resolve());
    });
    this.portInUse = (server.address() as { port: number }).port;
    this.server = server;
    this.reaper = setInterval(() => this.reap(), this.options.reapIntervalMs ?? 30_000);
  }

  /** Close the port and every connection (clients see refused/reset connections). State is kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    if (this.reaper) clearInterval(this.reaper);
    for (const wake of [...this.waiters]) wake();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** An agent restart without persisted state: every registration is forgotten. */
  async restart(): Promise<void> {
    await this.stop();
    this.forgetAll();
    await this.start();
  }

  forgetAll(): void {
    for (const c of this.checks.values()) if (c.ttlTimer) clearTimeout(c.ttlTimer);
    this.services.clear();
    this.checks.clear();
    this.bump();
  }

  async close(): Promise<void> {
    await this.stop();
    for (const c of this.checks.values()) if (c.ttlTimer) clearTimeout(c.ttlTimer);
  }

  /** Requests matching a method and path prefix. */
  count(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  /** Register a service as another node's agent would (for watch tests). */
  registerDirect(body: Record<string, unknown>): void {
    this.register(body);
  }

  checkOf(serviceId: string): AgentCheck | undefined {
    return this.checks.get(`service:${serviceId}`);
  }

  // ---------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const token = tokenOf(req, url);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      token,
      status: 200,
    };
    this.requests.push(record);
    try {
      const body = await readBody(req);
      await this.gate?.(record.method, record.path);
      if (this.options.token !== undefined && url.pathname !== '/v1/status/leader') {
        if (token === undefined || token === '')
          throw new HttpError(403, 'Permission denied: anonymous token lacks permission');
        if (token !== this.options.token) throw new HttpError(403, 'ACL not found');
      }
      const dc = url.searchParams.get('dc');
      if (dc !== null && dc !== '' && dc !== this.datacenter) throw new HttpError(500, `No path to datacenter`);
      const result = await this.route(req.method ?? 'GET', url, body, res);
      if (res.writableEnded) return;
      res.setHeader('Content-Type', 'application/json');
      res.end(result === undefined ? '' : JSON.stringify(result));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      record.status = status;
      if (res.writableEnded) return;
      res.statusCode = status;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end(err instanceof Error ? err.message : String(err));
    }
  }

  private async route(method: string, url: URL, body: string, res: ServerResponse): Promise<unknown> {
    const path = url.pathname;
    const rest = (prefix: string): string | undefined =>
      path.startsWith(prefix) ? decodeURIComponent(path.slice(prefix.length)) : undefined;
    let id: string | undefined;
    if (method === 'GET' && path === '/v1/status/leader') return '127.0.0.1:8300';
    if (method === 'GET' && path === '/v1/agent/self')
      return { Config: { Datacenter: this.datacenter, NodeName: this.node } };
    if (method === 'GET' && path === '/v1/agent/services') return Object.fromEntries(this.services);
    if (method === 'GET' && path === '/v1/agent/checks')
      return Object.fromEntries([...this.checks].map(([k, c]) => [k, publicCheck(c, this.node)]));
    if (method === 'PUT' && path === '/v1/agent/service/register') return this.register(parseJson(body));
    if (method === 'PUT' && (id = rest('/v1/agent/service/deregister/')) !== undefined) return this.deregister(id);
    for (const [verb, status] of [
      ['pass', 'passing'],
      ['warn', 'warning'],
      ['fail', 'critical'],
    ] as const) {
      if (method === 'PUT' && (id = rest(`/v1/agent/check/${verb}/`)) !== undefined) {
        return this.updateCheck(id, status, url.searchParams.get('note') ?? '');
      }
    }
    if (method === 'PUT' && (id = rest('/v1/agent/check/update/')) !== undefined) {
      const b = parseJson(body) as { Status?: string; Output?: string };
      if (b.Status !== 'passing' && b.Status !== 'warning' && b.Status !== 'critical')
        throw new HttpError(400, `Invalid check status: "${b.Status}"`);
      return this.updateCheck(id, b.Status, b.Output ?? '');
    }
    if (method === 'GET' && (id = rest('/v1/health/service/')) !== undefined) return this.healthService(id, url, res);
    throw new HttpError(404, `no handler for ${method} ${path}`);
  }

  private register(raw: unknown): undefined {
    const b = raw as Record<string, unknown>;
    const name = b.Name;
    if (typeof name !== 'string' || name === '') throw new HttpError(400, 'Missing service name');
    const id = typeof b.ID === 'string' && b.ID !== '' ? b.ID : name;
    if (b.Port !== undefined && typeof b.Port !== 'number') throw new HttpError(400, 'Request decode failed: Port');
    const service: AgentService = {
      ID: id,
      Service: name,
      Tags: Array.isArray(b.Tags) ? (b.Tags as string[]) : [],
      Address: typeof b.Address === 'string' ? b.Address : '',
      Port: typeof b.Port === 'number' ? b.Port : 0,
      Meta: (b.Meta as Record<string, string>) ?? {},
      EnableTagOverride: b.EnableTagOverride === true,
    };
    const checks = [...(b.Check ? [b.Check] : []), ...(Array.isArray(b.Checks) ? b.Checks : [])] as Array<
      Record<string, unknown>
    >;
    this.dropService(id);
    this.services.set(id, service);
    checks.forEach((c, i) => {
      if (typeof c.TTL !== 'string') throw new HttpError(400, 'only TTL checks are implemented by the test agent');
      const ttl = parseGoDuration(c.TTL);
      if (!ttl.ok) throw new HttpError(400, `Invalid TTL: ${c.TTL}`);
      const checkId =
        typeof c.CheckID === 'string' ? c.CheckID : checks.length > 1 ? `service:${id}:${i + 1}` : `service:${id}`;
      const status = (c.Status as Status | undefined) || 'critical';
      const check: AgentCheck = {
        CheckID: checkId,
        Name: typeof c.Name === 'string' ? c.Name : `Service '${name}' check`,
        Status: status,
        Notes: typeof c.Notes === 'string' ? c.Notes : '',
        Output: '',
        ServiceID: id,
        ServiceName: name,
        ttlMs: ttl.ms,
      };
      if (typeof c.DeregisterCriticalServiceAfter === 'string') {
        const d = parseGoDuration(c.DeregisterCriticalServiceAfter);
        if (!d.ok)
          throw new HttpError(400, `Invalid DeregisterCriticalServiceAfter: ${c.DeregisterCriticalServiceAfter}`);
        check.deregisterAfterMs = Math.max(d.ms, this.options.minDeregisterAfterMs ?? 60_000);
      }
      if (status === 'critical') check.criticalSince = Date.now();
      this.checks.set(checkId, check);
      this.armTtl(check);
    });
    this.bump();
    return undefined;
  }

  private deregister(id: string): undefined {
    if (!this.services.has(id))
      throw new HttpError(
        404,
        `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`,
      );
    this.dropService(id);
    this.bump();
    return undefined;
  }

  private dropService(id: string): void {
    this.services.delete(id);
    for (const [k, c] of this.checks) {
      if (c.ServiceID !== id) continue;
      if (c.ttlTimer) clearTimeout(c.ttlTimer);
      this.checks.delete(k);
    }
  }

  private updateCheck(id: string, status: Status, output: string): undefined {
    const check = this.checks.get(id);
    if (!check)
      throw new HttpError(404, `Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`);
    this.armTtl(check);
    this.setStatus(check, status, output);
    return undefined;
  }

  private setStatus(check: AgentCheck, status: Status, output: string): void {
    const changed = check.Status !== status || check.Output !== output;
    if (check.Status !== status) check.criticalSince = status === 'critical' ? Date.now() : undefined;
    check.Status = status;
    check.Output = output;
    if (changed) this.bump();
  }

  private armTtl(check: AgentCheck): void {
    if (check.ttlTimer) clearTimeout(check.ttlTimer);
    check.ttlTimer = setTimeout(() => {
      if (this.checks.get(check.CheckID) !== check) return;
      this.setStatus(check, 'critical', `TTL expired (last update was more than ${check.ttlMs}ms ago)`);
    }, check.ttlMs);
    check.ttlTimer.unref();
  }

  private reap(): void {
    const now = Date.now();
    for (const c of [...this.checks.values()]) {
      if (c.Status !== 'critical' || c.deregisterAfterMs === undefined || c.criticalSince === undefined) continue;
      if (now - c.criticalSince >= c.deregisterAfterMs && this.services.has(c.ServiceID)) {
        this.dropService(c.ServiceID);
        this.bump();
      }
    }
  }

  private async healthService(name: string, url: URL, res: ServerResponse): Promise<unknown> {
    const q = url.searchParams;
    const index = Number(q.get('index') ?? '0');
    if (q.has('index') && index >= this.index) {
      const wait = q.has('wait') ? parseGoDuration(q.get('wait')!) : { ok: true as const, ms: DEFAULT_WAIT_MS };
      if (!wait.ok) throw new HttpError(400, `Invalid wait time`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(wait.ms, MAX_WAIT_MS));
        this.waiters.add(done);
        res.on('close', done);
      });
    }
    if (!this.server) throw new HttpError(503, 'agent stopping');
    const tags = q.getAll('tag');
    const passingOnly = q.has('passing') && q.get('passing') !== 'false' && q.get('passing') !== '0';
    const out = [];
    for (const s of this.services.values()) {
      if (s.Service !== name || !tags.every((t) => s.Tags.includes(t))) continue;
      const checks = [...this.checks.values()].filter((c) => c.ServiceID === s.ID);
      if (passingOnly && !checks.every((c) => c.Status === 'passing')) continue;
      out.push({
        Node: { Node: this.node, Address: '127.0.0.1', Datacenter: this.datacenter },
        Service: s,
        Checks: [
          {
            Node: this.node,
            CheckID: 'serfHealth',
            Name: 'Serf Health Status',
            Status: 'passing',
            ServiceID: '',
            ServiceName: '',
            Output: '',
            Notes: '',
          },
          ...checks.map((c) => publicCheck(c, this.node)),
        ],
      });
    }
    res.setHeader('X-Consul-Index', String(this.index));
    res.setHeader('X-Consul-KnownLeader', 'true');
    return out;
  }

  private bump(): void {
    this.index++;
    for (const wake of [...this.waiters]) wake();
  }
}

function publicCheck(c: AgentCheck, node: string): Record<string, unknown> {
  return {
    Node: node,
    CheckID: c.CheckID,
    Name: c.Name,
    Status: c.Status,
    Notes: c.Notes,
    Output: c.Output,
    ServiceID: c.ServiceID,
    ServiceName: c.ServiceName,
    Type: 'ttl',
  };
}

function tokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers['x-consul-token'];
  if (typeof header === 'string') return header;
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth.startsWith('Bearer ')) return auth.slice('Bearer '.length);
  return url.searchParams.get('token') ?? undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new HttpError(400, 'Request decode failed: invalid JSON');
  }
}
