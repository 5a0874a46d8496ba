/**
 * The Consul backend over real HTTP against the Consul test agent (test/support/consul-agent).
 */

import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulRegistry } from '../../../src/discovery/consul/registry.js';
import { resolveConsulSettings } from '../../../src/discovery/consul/settings.js';
import type { ServiceDefinition } from '../../../src/discovery/types.js';
import type { SupervisorLogger } from '../../../src/log/logger.js';
import { ConsulTestAgent, type TestAgentOptions } from '../../support/consul-agent/agent.js';
import { generateCertificates } from '../../support/consul-agent/certs.js';
import { waitFor } from './support.js';

function def(id: string, fields: Partial<ServiceDefinition> = {}): ServiceDefinition {
  return {
    id,
    name: 'web',
    address: '10.1.2.3',
    port: 8080,
    tags: ['a', 'b'],
    meta: { version: '1' },
    enableTagOverride: true,
    ttlMs: 60_000,
    ...fields,
  };
}

function memoryLog(): { log: SupervisorLogger; lines: string[] } {
  const lines: string[] = [];
  const log = pino<'panic'>(
    { customLevels: { panic: 70 }, level: 'debug' },
    { write: (s: string) => void lines.push(s) },
  ) as SupervisorLogger;
  return { log, lines };
}

describe('ConsulRegistry', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(agentOptions: TestAgentOptions = {}, env: Record<string, string> = {}, consul: object = {}) {
    const agent = await ConsulTestAgent.start(agentOptions);
    cleanups.push(() => agent.close());
    const { log, lines } = memoryLog();
    const settings = resolveConsulSettings({ address: agent.address, ...consul }, env);
    const registry = new ConsulRegistry(settings, log);
    cleanups.push(() => registry.close(1000));
    return { agent, registry, lines };
  }

  it('registers with every field, sends TTL pass/fail, deregisters', async () => {
    const { agent, registry } = await setup();
    registry.register(def('web-host', { deregisterCriticalServiceAfterMs: 90_000, initialStatus: 'passing' }));
    registry.heartbeat('web-host', 'passing', 'ok');
    await registry.idle();
    expect(agent.services.get('web-host')).toEqual({
      ID: 'web-host',
      Service: 'web',
      Tags: ['a', 'b'],
      Address: '10.1.2.3',
      Port: 8080,
      Meta: { version: '1' },
      EnableTagOverride: true,
    });
    expect(registry.services()).toEqual([
      {
        id: 'web-host',
        name: 'web',
        address: '10.1.2.3',
        port: 8080,
        tags: ['a', 'b'],
        registered: true,
        status: 'passing',
      },
    ]);
    const check = agent.checkOf('web-host')!;
    expect(check).toMatchObject({ Status: 'passing', ttlMs: 60_000, deregisterAfterMs: 90_000 });
    registry.heartbeat('web-host', 'critical', 'health check failed');
    await registry.idle();
    expect(agent.checkOf('web-host')).toMatchObject({ Status: 'critical', Output: 'health check failed' });
    const healthy = await registry.healthyInstances('web');
    expect(healthy.instances).toEqual([]);
    registry.heartbeat('web-host', 'passing', 'ok');
    await registry.idle();
    expect((await registry.healthyInstances('web')).instances).toEqual([
      { id: 'web-host', name: 'web', address: '10.1.2.3', port: 8080, tags: ['a', 'b'] },
    ]);
    registry.deregister('web-host');
    await registry.idle();
    expect(agent.services.size).toBe(0);
  });

  it('re-registers a service the agent forgot, on the next heartbeat', async () => {
    const { agent, registry, lines } = await setup();
    registry.register(def('web-host'));
    registry.heartbeat('web-host', 'passing', 'ok');
    await registry.idle();
    await agent.restart();
    expect(agent.services.size).toBe(0);
    registry.heartbeat('web-host', 'passing', 'ok');
    await registry.idle();
    expect(agent.services.has('web-host')).toBe(true);
    expect(agent.checkOf('web-host')!.Status).toBe('passing');
    expect(lines.some((l) => l.includes('forgot service web-host'))).toBe(true);
  });

  it('an agent that is down: logs once per outage, keeps the latest status, catches up', async () => {
    const { agent, registry, lines } = await setup();
    await agent.stop();
    registry.register(def('web-host'));
    for (let i = 0; i < 5; i++) {
      registry.heartbeat('web-host', i % 2 ? 'critical' : 'passing', `beat ${i}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => lines.some((l) => l.includes('unreachable')), 'the outage log');
    await agent.start();
    await waitFor(() => agent.checkOf('web-host')?.Output === 'beat 4', 'the catch-up');
    expect(agent.checkOf('web-host')!.Status).toBe('passing');
    expect(lines.filter((l) => l.includes('unreachable'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('answers again'))).toHaveLength(1);
    // Heartbeats that piled up became one update, not one per beat.
    expect(agent.count('PUT', '/v1/agent/check/')).toBe(1);
  });

  it('after an outage, the next heartbeat gets through at once, not when a grown backoff ends', async () => {
    // A first retry a minute out stands for a backoff that grew during a long outage.
    const { agent } = await setup();
    const { log, lines } = memoryLog();
    const registry = new ConsulRegistry(resolveConsulSettings({ address: agent.address }, {}), log, undefined, {
      backoffInitialMs: 60_000,
    });
    cleanups.push(() => registry.close(1000));
    await agent.stop();
    registry.register(def('web-host'));
    registry.heartbeat('web-host', 'passing', 'beat 1');
    await waitFor(() => lines.some((l) => l.includes('unreachable')), 'the outage'); // the retry now waits a minute
    await new Promise((r) => setTimeout(r, 600)); // past MIN_PROBE_GAP_MS since that try
    await agent.start();
    registry.heartbeat('web-host', 'passing', 'beat 2');
    await waitFor(() => agent.checkOf('web-host')?.Output === 'beat 2', 'the heartbeat after the outage', 15_000);
    // The backoff was reset by that success: the next beats go at their cadence.
    registry.heartbeat('web-host', 'critical', 'beat 3');
    await waitFor(() => agent.checkOf('web-host')?.Output === 'beat 3', 'the next heartbeat', 15_000);
    expect(lines.filter((l) => l.includes('unreachable'))).toHaveLength(1);
  });

  it("any call the agent answers (a watch's query) ends a backoff: what waits is sent at once", async () => {
    const { agent } = await setup();
    const { log, lines } = memoryLog();
    const registry = new ConsulRegistry(resolveConsulSettings({ address: agent.address }, {}), log, undefined, {
      backoffInitialMs: 60_000,
    });
    cleanups.push(() => registry.close(1000));
    await agent.stop();
    registry.register(def('web-host'));
    await waitFor(() => lines.some((l) => l.includes('unreachable')), 'the outage');
    await agent.start();
    await registry.healthyInstances('web');
    await waitFor(() => agent.services.has('web-host'), 'the registration', 15_000);
  });

  it('a refused request drops that request only, not one queued while it was in flight', async () => {
    const { agent, registry, lines } = await setup();
    registry.register(def('b-host', { initialStatus: 'passing' }));
    await registry.idle();
    expect(agent.services.has('b-host')).toBe(true);
    registry.register(def('bad-host', { name: '' })); // the agent answers 400: it is sent now...
    registry.deregister('b-host'); // ...and this is queued while it is in flight
    await registry.idle();
    expect(lines.some((l) => /consul refused a request/.test(l))).toBe(true);
    expect(agent.services.has('bad-host')).toBe(false);
    expect(agent.services.has('b-host')).toBe(false);
  });

  it('a rejected token is an error naming the ACL problem; the right one works', async () => {
    const bad = await setup({ token: 'sekrit' }, {}, { token: 'wrong' });
    bad.registry.register(def('web-host'));
    bad.registry.heartbeat('web-host', 'passing');
    await waitFor(() => bad.lines.some((l) => l.includes('ACL')), 'the ACL error');
    const line = bad.lines.find((l) => l.includes('ACL'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 50 });
    expect(line).toMatch(/rejected the ACL token.*403 ACL not found/);
    expect(bad.agent.services.size).toBe(0);

    const none = await setup({ token: 'sekrit' });
    none.registry.register(def('web-host'));
    await waitFor(() => none.lines.some((l) => l.includes('no token given')), 'the missing token error');

    const good = await setup({ token: 'sekrit' }, { CONSUL_HTTP_TOKEN: 'sekrit' });
    good.registry.register(def('web-host'));
    await good.registry.idle();
    expect(good.agent.services.has('web-host')).toBe(true);
    expect(good.agent.requests.every((r) => r.token === 'sekrit')).toBe(true);
  });

  it('maintenance deregisters everything; heartbeats do not bring services back until it ends', async () => {
    const { agent, registry } = await setup();
    registry.register(def('web-host'));
    registry.heartbeat('web-host', 'passing');
    await registry.idle();
    expect(registry.setMaintenance(true)).toBe(true);
    await registry.idle();
    expect(agent.services.size).toBe(0);
    registry.heartbeat('web-host', 'passing');
    await registry.idle();
    expect(agent.services.size).toBe(0);
    expect(registry.setMaintenance(false)).toBe(true);
    registry.heartbeat('web-host', 'passing');
    await registry.idle();
    expect(agent.services.has('web-host')).toBe(true);
  });

  it('close deregisters everything, and is bounded when the agent is down', async () => {
    const { agent, registry } = await setup();
    registry.register(def('web-1'));
    registry.register(def('web-2'));
    await registry.idle();
    expect(agent.services.size).toBe(2);
    await registry.close(5000);
    expect(agent.services.size).toBe(0);

    const down = await setup();
    down.registry.register(def('web-1'));
    await down.registry.idle();
    await down.agent.stop();
    await down.registry.close(200); // resolves (bounded) although nothing answers
  });

  it('watch queries: passing, tag, blocking index with X-Consul-Index', async () => {
    const { agent, registry } = await setup();
    agent.registerDirect({
      ID: 'db-1',
      Name: 'db',
      Tags: ['primary'],
      Port: 5432,
      Check: { TTL: '60s', Status: 'passing' },
    });
    agent.registerDirect({
      ID: 'db-2',
      Name: 'db',
      Address: '10.0.0.2',
      Port: 5432,
      Check: { TTL: '60s', Status: 'critical' },
    });
    const first = await registry.healthyInstances('db');
    // A service without its own address is reached at its node's.
    expect(first.instances).toEqual([{ id: 'db-1', name: 'db', address: '127.0.0.1', port: 5432, tags: ['primary'] }]);
    expect(first.index).toBeGreaterThan(0);
    expect((await registry.healthyInstances('db', { tag: 'replica' })).instances).toEqual([]);
    await expect(registry.healthyInstances('db', { dc: 'mars' })).rejects.toThrow(/No path to datacenter/);
    const blocked = registry.healthyInstances('db', { index: first.index, waitMs: 60_000 });
    agent.registerDirect({ ID: 'db-3', Name: 'db', Port: 5433, Check: { TTL: '60s', Status: 'passing' } });
    const next = await blocked;
    expect(next.index).toBeGreaterThan(first.index);
    expect(next.instances.map((i) => i.id).sort()).toEqual(['db-1', 'db-3']);
    // `wait` bounds a query nothing answers: the same index comes back.
    expect((await registry.healthyInstances('db', { index: next.index, waitMs: 50 })).index).toBe(next.index);
    const ac = new AbortController();
    const aborted = registry.healthyInstances('db', { index: next.index, waitMs: 60_000, signal: ac.signal });
    ac.abort();
    await expect(aborted).rejects.toThrow();
  });

  it('the test agent: TTL expiry turns the check critical; DeregisterCriticalServiceAfter removes the service', async () => {
    const { agent, registry } = await setup({ minDeregisterAfterMs: 0, reapIntervalMs: 20 });
    registry.register(def('web-host', { ttlMs: 100, deregisterCriticalServiceAfterMs: 200 }));
    registry.heartbeat('web-host', 'passing');
    await registry.idle();
    await waitFor(() => agent.checkOf('web-host')?.Status === 'critical', 'TTL expiry');
    expect(agent.checkOf('web-host')!.Output).toMatch(/TTL expired/);
    await waitFor(() => !agent.services.has('web-host'), 'the reaper');
    // The next heartbeat registers it again.
    registry.heartbeat('web-host', 'passing');
    await registry.idle();
    expect(agent.services.has('web-host')).toBe(true);
  });

  it('TLS: CA file and server name; verification failure is an outage with the reason; client certificates', async () => {
    const certs = generateCertificates();
    const tlsAgent = { tls: { key: certs.read(certs.serverKey), cert: certs.read(certs.serverCert) } };
    // The certificate names consul.test, not 127.0.0.1: servername is needed.
    const ok = await setup(
      tlsAgent,
      { CONSUL_CACERT: certs.caFile, CONSUL_TLS_SERVER_NAME: 'consul.test' },
      { scheme: 'https' },
    );
    ok.registry.register(def('web-host'));
    await ok.registry.idle();
    expect(ok.agent.services.has('web-host')).toBe(true);

    const wrongName = await setup(tlsAgent, {}, { scheme: 'https', tls: { cafile: certs.caFile } });
    wrongName.registry.register(def('web-host'));
    await waitFor(() => wrongName.lines.some((l) => l.includes('unreachable')), 'the TLS failure');
    expect(wrongName.lines.find((l) => l.includes('unreachable'))).toMatch(/altnames|IP: 127\.0\.0\.1/);

    const noVerify = await setup(tlsAgent, { CONSUL_HTTP_SSL: 'true', CONSUL_HTTP_SSL_VERIFY: 'false' });
    noVerify.registry.register(def('web-host'));
    await noVerify.registry.idle();
    expect(noVerify.agent.services.has('web-host')).toBe(true);

    const mtlsAgent = { tls: { ...tlsAgent.tls, clientCa: certs.read(certs.caFile) } };
    const mtls = await setup(
      mtlsAgent,
      {},
      {
        scheme: 'https',
        tls: {
          cafile: certs.caFile,
          servername: 'localhost',
          clientcert: certs.clientCert,
          clientkey: certs.clientKey,
        },
      },
    );
    mtls.registry.register(def('web-host'));
    await mtls.registry.idle();
    expect(mtls.agent.services.has('web-host')).toBe(true);
  });
});
