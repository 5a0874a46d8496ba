/**
 * One request to the Consul agent's HTTP API, over `node:http` or `node:https`. pidpilot uses
 * five endpoints (service register/deregister, check pass/warn/fail, health of a service);
 * owning these few lines, rather than a client library reached through its private request
 * method, leaves nothing to break when a dependency changes its internals, and nothing to
 * load but Node's own modules. Both are imported on first use, so a configuration without
 * `consul` loads neither.
 */
import type { Agent, IncomingHttpHeaders } from 'node:http';
import type { ConsulSettings } from './settings.js';

/** An answer bigger than this is refused: a wrong or hostile agent must not fill PID 1's memory. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface ConsulRequest {
  method: 'GET' | 'PUT';
  /** Below `/v1`, each segment already encoded. */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** The whole exchange, connection to last byte. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Any answer, whatever its status; a transport failure (no answer) rejects with an Error instead. */
export interface ConsulResponse {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export class ConsulHttp {
  private agent: Promise<{ agent: Agent; request: typeof import('node:http').request }> | null = null;

  constructor(private readonly settings: ConsulSettings) {}

  private transport(): Promise<{ agent: Agent; request: typeof import('node:http').request }> {
    this.agent ??= (async () => {
      const s = this.settings;
      if (!s.secure) {
        const http = await import('node:http');
        return { agent: new http.Agent({ keepAlive: true }), request: http.request };
      }
      const https = await import('node:https');
      const agent = new https.Agent({
        keepAlive: true,
        ca: s.tls.ca,
        cert: s.tls.cert,
        key: s.tls.key,
        servername: s.tls.servername,
        rejectUnauthorized: s.tls.verify,
      });
      return { agent, request: https.request as typeof import('node:http').request };
    })();
    return this.agent;
  }

  async send(r: ConsulRequest): Promise<ConsulResponse> {
    const { agent, request } = await this.transport();
    const s = this.settings;
    const query = r.query && Object.keys(r.query).length > 0 ? `?${new URLSearchParams(r.query).toString()}` : '';
    const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      'content-length': payload?.length ?? 0,
    };
    if (payload) headers['content-type'] = 'application/json';
    if (s.token !== undefined) headers['x-consul-token'] = s.token;
    return new Promise<ConsulResponse>((resolve, reject) => {
      const req = request({
        agent,
        host: s.host,
        port: s.port,
        method: r.method,
        path: `/v1${r.path}${query}`,
        headers,
      });
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        r.signal?.removeEventListener('abort', onAbort);
        return true;
      };
      /** Ends the exchange with `err` (once); destroying the request then raises nothing more. */
      const fail = (err: Error): void => {
        if (!settle()) return;
        reject(err);
        req.destroy();
      };
      // Absolute: a blocking query's caller gives its wait plus a margin.
      const timer = setTimeout(() => fail(new Error(`request timed out (${r.timeoutMs}ms)`)), r.timeoutMs);
      const onAbort = (): void => fail(new Error('aborted'));
      r.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) fail(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('close', () => fail(new Error('connection closed before the answer was complete')));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (settle())
            resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body });
        });
      });
      if (r.signal?.aborted) onAbort();
      else req.end(payload);
    });
  }

  /** Close kept-alive connections so nothing holds the process open. */
  async destroy(): Promise<void> {
    if (this.agent !== null) {
      const { agent } = await this.agent;
      agent.destroy();
    }
  }
}
