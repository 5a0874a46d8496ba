/**
 * Configurations exercising the same features as ContainerPilot's documented
 * examples (written for this project; the tests do not read ContainerPilot's files).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEALTH_DEFAULTS } from '../../support/jobs.js';
import { check } from './helpers.js';

const dir = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));
const read = (name: string) => check(readFileSync(dir + name, 'utf8'));

describe('fixture configs validate clean', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json5'));
  it('there are fixtures', () => expect(files.length).toBeGreaterThanOrEqual(8));
  it.each(files)('%s', (f) => {
    expect(() => read(f)).not.toThrow();
  });
});

describe('what the fixtures mean', () => {
  it('shared-service-name: two registration-only jobs of one name both run, the second as proxy-tls#2', () => {
    const cfg = read('shared-service-name.json5');
    expect(cfg.jobs.map((j) => [j.name, j.exec, j.port, j.duplicateOf])).toEqual([
      ['proxy', ['/usr/sbin/proxy', '-foreground'], 8080, undefined],
      ['proxy-tls', undefined, 8443, undefined],
      ['proxy-tls#2', undefined, 8443, { name: 'proxy-tls', index: 2, firstIndex: 1 }],
    ]);
  });

  it('agent-chain: a chain of once-triggers with when.timeout', () => {
    const cfg = read('agent-chain.json5');
    expect(cfg.consul).toEqual({ address: 'localhost:8500', scheme: 'http' });
    const [agent, render, app] = cfg.jobs;
    expect(agent.exec).toContain('{{ .CONSUL }}'); // rendering happens before parsing; none here
    expect(agent.restarts).toBe(Infinity);
    expect(agent.port).toBeUndefined();
    expect(render.when).toEqual({
      kind: 'event',
      source: 'consul-agent',
      code: 'healthy',
      mode: 'once',
      timeout: 120_000,
    });
    expect(render.restarts).toBe(0);
    expect(app.port).toBe(8000);
    expect(app.health).toEqual({
      exec: ['/usr/bin/curl', '--fail', '-s', '-o', '/dev/null', 'http://localhost:8000'],
      interval: 5000,
      ttl: 10_000,
      timeout: 10_000,
      logging: { raw: false },
      ...HEALTH_DEFAULTS,
    });
  });

  it('databases: watches drive once and each triggers', () => {
    const cfg = read('databases.json5');
    expect(cfg.watches).toEqual([
      { name: 'mysql', interval: 5000 },
      { name: 'redis', interval: 5000 },
    ]);
    expect(cfg.jobs[1].when).toMatchObject({ source: 'watch.mysql', code: 'healthy', mode: 'once' });
    expect(cfg.jobs[2].when).toMatchObject({ source: 'watch.redis', code: 'changed', mode: 'each' });
    expect(cfg.jobs[3].exec).toEqual(['node', 'server.js', '-p', '8000']);
  });

  it('periodic: interval jobs, their timeouts and run counts', () => {
    const [backup, alarm, sampler] = read('periodic.json5').jobs;
    expect(backup.when).toEqual({ kind: 'interval', interval: 60_000, overlap: 'queue' });
    expect(backup.timeout).toBe(60_000);
    expect(backup.restarts).toBe(Infinity);
    expect(alarm.when).toMatchObject({ source: 'backup', code: 'exitFailed', mode: 'each' });
    expect(alarm.exec?.[5]).toBe('{"text": "backup failed"}');
    expect(sampler).toMatchObject({ restarts: 3, timeout: 100, when: { kind: 'interval', interval: 1500 } });
  });

  it('stop-hooks: pre-stop and post-stop jobs', () => {
    const [app, before, after] = read('stop-hooks.json5').jobs;
    expect(app.stopTimeout).toBe(5000);
    expect(before.when).toMatchObject({ source: 'app', code: 'stopping', mode: 'once' });
    expect(after.when).toMatchObject({ source: 'app', code: 'stopped', mode: 'once' });
  });

  it('everything: every ContainerPilot field', () => {
    const cfg = read('everything.json5');
    expect(cfg.consul).toEqual({ address: 'consul.example.com:8501', scheme: 'https' });
    expect(cfg.stopTimeout).toBe(5000);
    expect(cfg.logging).toEqual({ level: 'debug', format: 'json', output: 'stderr' });
    const app = cfg.jobs[0];
    expect(app).toMatchObject({
      name: 'app',
      logging: { raw: true },
      initialStatus: 'warning',
      tags: ['app', 'prod'],
      consul: { enableTagOverride: true, deregisterCriticalServiceAfter: '10m' },
    });
    expect(app.interfaces).toHaveLength(9);
    expect(cfg.jobs.find((j) => j.name === 'on-hup')?.when).toEqual({
      kind: 'event',
      source: 'SIGHUP',
      code: 'signal',
      mode: 'each',
    });
    expect(cfg.jobs.find((j) => j.name === 'coprocess')?.restarts).toBe(1);
    expect(cfg.control).toEqual({ socket: '/var/run/containerpilot.socket' });
    expect(cfg.telemetry?.interfaces).toEqual(['eth0']);
    expect(cfg.telemetry?.metrics.map((m) => m.name)).toEqual(['metric_id', 'zed']);
  });

  it('pidpilot-extensions: main, state, restartBackoff, stopSignal, meta, consul object, buckets', () => {
    const cfg = read('pidpilot-extensions.json5');
    expect(cfg.main).toBe('server');
    expect(cfg.stopTimeout).toBe(8000);
    expect(cfg.state).toEqual({ dir: '/var/lib/pidpilot', keepRuns: 50, maxEventLogBytes: 1048576 });
    expect(cfg.consul?.tls?.verify).toBe(true);
    const server = cfg.jobs[0];
    expect(server.exec).toEqual(['/usr/bin/server', '--port', '8080']);
    expect(server.restartBackoff).toEqual({ initial: 100, max: 30_000, factor: 1.5, resetAfter: 60_000 });
    expect(server.stopSignal).toBe('SIGQUIT');
    expect(server.health?.interval).toBe(500);
    expect(server.meta).toEqual({ version: '1.2.3', team: 'core' });
    expect(cfg.telemetry?.metrics[0].buckets).toEqual([0.01, 0.1, 1, 10]);
  });
});
