/**
 * health.http and health.tcp (docs/configuration.md) against real local servers: the same
 * `check.<job>` exitSuccess/exitFailed events and healthy/unhealthy as an exec check.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HealthConfig } from '../../../src/config/types.js';
import { config, HEALTH_DEFAULTS, harness, job } from '../../support/jobs.js';

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function listen<T extends Server | ReturnType<typeof createTcpServer>>(server: T): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await new Promise<number>((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)),
  );
  await new Promise((r) => s.close(r));
  return port;
}

const check = (fields: Partial<HealthConfig>): HealthConfig => ({
  interval: 20,
  ttl: 1000,
  timeout: 2000,
  logging: { raw: false },
  ...HEALTH_DEFAULTS,
  ...fields,
});

async function firstVerdict(health: HealthConfig): Promise<string[]> {
  const h = harness(config([job('svc', { exec: ['sleep', '60'], health })]));
  void h.run();
  await Promise.race([h.waitFor('healthy', 'svc'), h.waitFor('unhealthy', 'svc')]);
  await h.supervisor.shutdown('test');
  return h
    .trace()
    .filter((e) => /^(exitSuccess|exitFailed):check\.svc$|^(healthy|unhealthy):svc$/.test(e))
    .slice(0, 2);
}

describe('health.http', () => {
  it('2xx passes: check.svc exitSuccess, then healthy', async () => {
    const port = await listen(createHttpServer((req, res) => res.writeHead(req.url === '/healthz' ? 204 : 404).end()));
    expect(await firstVerdict(check({ http: { url: `http://127.0.0.1:${port}/healthz`, method: 'GET' } }))).toEqual([
      'exitSuccess:check.svc',
      'healthy:svc',
    ]);
  });

  it('a 5xx fails, and so does a status other than expectStatus', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(503).end('down')));
    expect(await firstVerdict(check({ http: { url: `http://127.0.0.1:${port}/`, method: 'GET' } }))).toEqual([
      'exitFailed:check.svc',
      'unhealthy:svc',
    ]);
    const ok = await listen(createHttpServer((_req, res) => res.writeHead(200).end()));
    expect(
      await firstVerdict(check({ http: { url: `http://127.0.0.1:${ok}/`, method: 'GET', expectStatus: 201 } })),
    ).toEqual(['exitFailed:check.svc', 'unhealthy:svc']);
  });

  it('uses the configured method', async () => {
    const port = await listen(createHttpServer((req, res) => res.writeHead(req.method === 'HEAD' ? 200 : 405).end()));
    expect(await firstVerdict(check({ http: { url: `http://127.0.0.1:${port}/`, method: 'HEAD' } }))).toEqual([
      'exitSuccess:check.svc',
      'healthy:svc',
    ]);
  });

  it('a request Node refuses at once (a method that is not an HTTP token) fails the check, and nothing throws', async () => {
    const port = await listen(createHttpServer((_req, res) => res.writeHead(200).end()));
    // The validator refuses such a method; the check must still not throw if one gets through.
    expect(await firstVerdict(check({ http: { url: `http://127.0.0.1:${port}/`, method: 'G(ET' } }))).toEqual([
      'exitFailed:check.svc',
      'unhealthy:svc',
    ]);
  });

  it('a server that never answers fails by the check timeout', async () => {
    const port = await listen(createHttpServer(() => {}));
    expect(
      await firstVerdict(check({ http: { url: `http://127.0.0.1:${port}/`, method: 'GET' }, timeout: 100 })),
    ).toEqual(['exitFailed:check.svc', 'unhealthy:svc']);
  });
});

describe('health.tcp', () => {
  it('a connection that succeeds passes', async () => {
    const port = await listen(createTcpServer((socket) => socket.end()));
    expect(await firstVerdict(check({ tcp: { host: '127.0.0.1', port } }))).toEqual([
      'exitSuccess:check.svc',
      'healthy:svc',
    ]);
  });

  it('a refused connection fails', async () => {
    expect(await firstVerdict(check({ tcp: { host: '127.0.0.1', port: await closedPort() } }))).toEqual([
      'exitFailed:check.svc',
      'unhealthy:svc',
    ]);
  });
});
