/**
 * Service discovery end to end (docs/discovery.md): the built binary against the Consul test agent
 * (test/support/consul-agent), or a real `consul agent -dev` when CONSUL_BIN is set.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsulTestAgent } from '../support/consul-agent/agent.js';
import { generateCertificates } from '../support/consul-agent/certs.js';
import { type ConsulUnderTest, startConsul } from '../support/consul-agent/index.js';
import { agentServices, checkStatus, pollUntil } from './consul-queries.js';
import { stripStamp, until, useHarness } from './support.js';

const h = useHarness();
const SERVICE_ID = `web-${hostname()}`;

const agents: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close();
});

async function consul(token?: string): Promise<ConsulUnderTest> {
  const c = await startConsul({ token });
  agents.push(c);
  return c;
}

/** A job `web` with a port, healthy while `flag` exists (checked every 200 ms). */
function webJob(flag: string, fields: object = {}): object {
  return {
    name: 'web',
    exec: ['sleep', h().uniqueArg()],
    port: 8080,
    interfaces: ['static:10.9.8.7'],
    tags: ['blue'],
    meta: { owner: 'tests' },
    consul: { enableTagOverride: true, deregisterCriticalServiceAfter: '10m' },
    health: { exec: ['test', '-e', flag], interval: '200ms', ttl: '10s' },
    ...fields,
  };
}

describe('Consul registration', () => {
  it('registers on the first passing check with every field; a failing check turns it critical; SIGTERM deregisters', async () => {
    const c = await consul();
    const flag = h().path('healthy');
    const p = h().run({
      consul: c.address,
      jobs: [webJob(flag), { name: 'show', exec: ['sh', '-c', 'echo ip=$CONTAINERPILOT_WEB_IP'] }],
    });
    await p.waitForLine(/show ip=10\.9\.8\.7$/);
    expect(await agentServices(c)).toEqual({}); // not before a passing check
    writeFileSync(flag, '');
    await pollUntil(async () => (await checkStatus(c, SERVICE_ID)) === 'passing', 'the registration');
    const svc = (await agentServices(c))[SERVICE_ID]!;
    expect(svc).toMatchObject({
      ID: SERVICE_ID,
      Service: 'web',
      Address: '10.9.8.7',
      Port: 8080,
      Tags: ['blue'],
      Meta: { owner: 'tests' },
      EnableTagOverride: true,
    });
    rmSync(flag);
    await pollUntil(async () => (await checkStatus(c, SERVICE_ID)) === 'critical', 'the failing check');
    writeFileSync(flag, '');
    await pollUntil(async () => (await checkStatus(c, SERVICE_ID)) === 'passing', 'passing again');
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    expect(await agentServices(c)).toEqual({});
  });

  it('initial_status registers at start, before any check passes', async () => {
    const c = await consul();
    const p = h().run({ consul: c.address, jobs: [webJob(h().path('never'), { initial_status: 'warning' })] });
    await pollUntil(
      async () => (await checkStatus(c, SERVICE_ID)) === 'warning',
      'the registration with initial_status',
    );
    p.signal('SIGTERM');
    await p.waitExit();
  });

  it('an agent that is down: jobs keep running, one log line per outage, registration when it returns, re-registration after a restart', async () => {
    const c = await consul();
    await c.stop();
    const flag = h().path('healthy');
    writeFileSync(flag, '');
    const p = h().run({
      consul: c.address,
      jobs: [webJob(flag), { name: 'tick', exec: ['echo', 'tick'], when: { interval: '100ms' } }],
    });
    await p.waitForLine(/unreachable/, { stream: 'any' });
    await p.waitForLine(/tick tick/, { nth: 10 }); // jobs run on
    await c.start();
    await pollUntil(async () => (await checkStatus(c, SERVICE_ID)) === 'passing', 'the catch-up');
    await p.waitForLine(/answers again/, { stream: 'any' });
    expect(p.matching(/unreachable/, 'any')).toHaveLength(1);

    await c.restart();
    await pollUntil(
      async () => (await checkStatus(c, SERVICE_ID)) === 'passing',
      'the re-registration after a restart',
    );
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('a token the agent rejects is logged as an ACL problem; CONSUL_HTTP_TOKEN fills the token', async () => {
    const c = await consul('pidpilot-test-token');
    const flag = h().path('healthy');
    writeFileSync(flag, '');
    const bad = h().run({ consul: { address: c.address, token: 'not-the-token' }, jobs: [webJob(flag)] });
    const line = await bad.waitForLine(/ACL/, { stream: 'any' });
    expect(line).toMatch(/rejected the ACL token/);
    bad.signal('SIGTERM');
    expect(await bad.waitExit()).toEqual({ code: 0, signal: null });

    const good = h().start(['-config', h().writeConfig({ consul: c.address, jobs: [webJob(flag)] }, 'good.json5')], {
      env: { CONSUL_HTTP_TOKEN: 'pidpilot-test-token' },
    });
    await pollUntil(async () => (await checkStatus(c, SERVICE_ID)) === 'passing', 'the registration with the token');
    good.signal('SIGTERM');
    await good.waitExit();
  });

  it('HTTPS from the environment: CONSUL_HTTP_ADDR with https://, CONSUL_CACERT, CONSUL_TLS_SERVER_NAME', async () => {
    const certs = generateCertificates();
    const agent = await ConsulTestAgent.start({
      tls: { key: certs.read(certs.serverKey), cert: certs.read(certs.serverCert) },
    });
    agents.push(agent);
    const flag = h().path('healthy');
    writeFileSync(flag, '');
    const p = h().start(['-config', h().writeConfig({ consul: {}, jobs: [webJob(flag)] })], {
      env: {
        CONSUL_HTTP_ADDR: `https://${agent.address}`,
        CONSUL_CACERT: certs.caFile,
        CONSUL_TLS_SERVER_NAME: 'consul.test',
      },
    });
    await until(() => agent.checkOf(SERVICE_ID)?.Status === 'passing', 'the registration over HTTPS');
    p.signal('SIGTERM');
    await p.waitExit();
    expect(agent.services.size).toBe(0);
  });

  it('a bad consul setting starts nothing and exits 2', async () => {
    const p = h().start([
      '-config',
      h().writeConfig({
        consul: { tls: { cafile: h().path('missing.pem') } },
        jobs: [{ name: 'a', exec: ['echo', 'ran'] }],
      }),
    ]);
    expect((await p.waitExit()).code).toBe(2);
    expect(p.matching(/consul tls\.cafile .*ENOENT/, 'any')).toHaveLength(1);
    expect(p.matching(/ran/)).toHaveLength(0);
  });
});

describe('watches', () => {
  it('changed / healthy / unhealthy from watch.<name>, once per change; a job waiting on a watch keeps pidpilot alive', async () => {
    const c = await consul();
    const p = h().run({
      consul: c.address,
      watches: [{ name: 'db', interval: '100ms' }],
      jobs: [
        { name: 'on-change', exec: ['echo', 'db changed'], when: { source: 'watch.db', each: 'changed' } },
        { name: 'on-healthy', exec: ['echo', 'db healthy'], when: { source: 'watch.db', each: 'healthy' } },
        { name: 'on-unhealthy', exec: ['echo', 'db unhealthy'], when: { source: 'watch.db', each: 'unhealthy' } },
      ],
    });
    await p.waitForLine(/started/);
    const register = (id: string, port: number) =>
      c.call('PUT', '/v1/agent/service/register', {
        ID: id,
        Name: 'db',
        Port: port,
        Check: { TTL: '60s', Status: 'passing' },
      });
    expect((await register('db-1', 5432)).status).toBe(200);
    await p.waitForLine(/on-healthy db healthy/);
    await p.waitForLine(/on-change db changed/);
    await register('db-2', 5433);
    await p.waitForLine(/on-change db changed/, { nth: 2 });
    await c.call('PUT', '/v1/agent/service/deregister/db-1');
    await p.waitForLine(/on-change db changed/, { nth: 3 });
    await c.call('PUT', '/v1/agent/service/deregister/db-2');
    await p.waitForLine(/on-unhealthy db unhealthy/);
    // The last change and `unhealthy` come from one poll: on-unhealthy may print before on-change's
    // 4th run has (counting then gave 3). Each step above waits for the previous run, so no trigger
    // arrives during a run (where the job would fold it into one queued run, by design).
    await p.waitForLine(/on-change db changed/, { nth: 4 });
    const out = p.lines.map((l) => stripStamp(l) ?? l);
    expect(out.filter((l) => l === 'on-healthy db healthy')).toHaveLength(1);
    expect(out.filter((l) => l === 'on-unhealthy db unhealthy')).toHaveLength(1);
    expect(out.filter((l) => l === 'on-change db changed')).toHaveLength(4);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });

  it('warns about a job waiting on a watch that does not exist', async () => {
    const p = h().run({
      watches: [{ name: 'db', interval: 1 }],
      jobs: [{ name: 'a', exec: ['echo', 'x'], when: { source: 'watch.cache', once: 'healthy' } }],
    });
    await p.waitForLine(
      /job a waits for "healthy" from "watch\.cache", which no job, health check, watch or signal publishes/,
      { stream: 'any' },
    );
    p.signal('SIGTERM');
    await p.waitExit();
  });
});

describe('embedded local catalog (no consul)', () => {
  it('a job with a port registers locally; a watch of it fires; its address reaches children', async () => {
    const p = h().run({
      watches: [{ name: 'db', interval: '100ms' }],
      jobs: [
        {
          name: 'db',
          exec: ['sleep', h().uniqueArg()],
          port: 5432,
          interfaces: ['static:10.1.1.1'],
          health: { exec: ['true'], interval: '100ms', ttl: '5s' },
        },
        {
          name: 'client',
          exec: ['sh', '-c', 'echo db is up at $CONTAINERPILOT_DB_IP'],
          when: { source: 'watch.db', once: 'healthy' },
        },
      ],
    });
    await p.waitForLine(/client db is up at 10\.1\.1\.1$/);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
  });
});

describe('shutdown order', () => {
  it('deregisters before any job is stopped; a deregistration that hangs holds the stop only for its share of stopTimeout', async () => {
    const agent = await ConsulTestAgent.start();
    agents.push(agent);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let deregistrations = 0;
    agent.gate = (method, path) => {
      if (method === 'PUT' && path.startsWith('/v1/agent/service/deregister/')) {
        deregistrations++;
        return held;
      }
    };
    const flag = h().path('healthy');
    writeFileSync(flag, '');
    const p = h().run({
      consul: agent.address,
      stopTimeout: '1h', // the share is then its cap, 3 s
      jobs: [webJob(flag, { exec: ['sh', '-c', `trap 'echo got-term; exit 0' TERM; while :; do sleep 0.05; done`] })],
    });
    await until(() => agent.checkOf(SERVICE_ID)?.Status === 'passing', 'the registration');
    p.signal('SIGTERM');
    await until(() => deregistrations > 0, 'the deregistration request');
    // Held by the agent: the job has not been told to stop.
    await new Promise((r) => setTimeout(r, 1000));
    expect(p.matching(/got-term/), p.transcript()).toEqual([]);
    // The agent never answers: the job is stopped anyway once the bound has passed, and pidpilot ends.
    await p.waitForLine(/web got-term$/);
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    release();
  });

  it('stops the jobs as soon as deregistration is done', async () => {
    const agent = await ConsulTestAgent.start();
    agents.push(agent);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    agent.gate = (method, path) =>
      method === 'PUT' && path.startsWith('/v1/agent/service/deregister/') ? held : undefined;
    const flag = h().path('healthy');
    writeFileSync(flag, '');
    const p = h().run({
      consul: agent.address,
      stopTimeout: '1h',
      jobs: [webJob(flag, { exec: ['sh', '-c', `trap 'echo got-term; exit 0' TERM; while :; do sleep 0.05; done`] })],
    });
    await until(() => agent.checkOf(SERVICE_ID)?.Status === 'passing', 'the registration');
    p.signal('SIGTERM');
    await until(
      () => agent.requests.some((r) => r.path.startsWith('/v1/agent/service/deregister/')),
      'the deregistration request',
    );
    expect(p.matching(/got-term/)).toEqual([]);
    release();
    await p.waitForLine(/web got-term$/);
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });
    expect(agent.services.size).toBe(0);
  });
});
