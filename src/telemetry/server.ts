/**
 * The telemetry HTTP server (docs/telemetry.md): `GET /metrics` in Prometheus' text format and
 * `GET /status` as JSON, on `telemetry.port`. Read-only; anything else is 404/405.
 */
import { createServer, type Server } from 'node:http';
import type { StatusSnapshot } from '../control/target.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { Metrics } from './metrics.js';

/** A scrape or status request must arrive within this; Prometheus sends tiny requests. */
const REQUEST_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 60_000;

export class TelemetryServer {
  private readonly server: Server;
  private listening = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly status: () => StatusSnapshot,
    private readonly log: Logger,
  ) {
    this.server = createServer(
      { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS },
      (req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        const send = (status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
          res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
          res.end(body);
        };
        if (path !== '/metrics' && path !== '/status') return send(404, 'text/plain', 'not found\n');
        if (req.method !== 'GET' && req.method !== 'HEAD')
          return send(405, 'text/plain', 'method not allowed\n', { allow: 'GET' });
        if (path === '/status') return send(200, 'application/json', `${JSON.stringify(this.status())}\n`);
        this.metrics.text().then(
          ({ contentType, body }) => send(200, contentType, body),
          (err: unknown) => {
            this.log.warn(`telemetry: collecting metrics failed: ${String(err)}`);
            send(500, 'text/plain', 'collecting metrics failed\n');
          },
        );
      },
    );
    this.server.setTimeout(IDLE_TIMEOUT_MS, (socket) => socket.destroy());
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listens on every interface (`host` for tests); rejects on EADDRINUSE and the like. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, ...(host ? { host } : {}) }, () => {
        this.server.off('error', reject);
        this.server.on('error', (err) => this.log.error(`telemetry server: ${err.message}`));
        this.listening = true;
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
