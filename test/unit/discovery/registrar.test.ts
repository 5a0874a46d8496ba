import { describe, expect, it } from 'vitest';
import { ipEnvName, Registrar, serviceDefinitions } from '../../../src/discovery/registrar.js';
import type { CheckStatus, ServiceDefinition, ServiceRegistry } from '../../../src/discovery/types.js';
import { Bus } from '../../../src/events/bus.js';
import { HEALTH_DEFAULTS, job } from '../../support/jobs.js';

/** Records the calls the registrar makes. */
class RecordingRegistry implements ServiceRegistry {
  readonly calls: string[] = [];
  register(s: ServiceDefinition): void {
    this.calls.push(`register ${s.id} ${s.initialStatus ?? '-'}`);
  }
  heartbeat(id: string, status: CheckStatus): void {
    this.calls.push(`heartbeat ${id} ${status}`);
  }
  deregister(id: string): void {
    this.calls.push(`deregister ${id}`);
  }
  setMaintenance(on: boolean): boolean {
    this.calls.push(`maintenance ${on}`);
    return true;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const HEALTH = {
  exec: ['true'],
  interval: 1000,
  ttl: 5000,
  timeout: 1000,
  logging: { raw: false },
  ...HEALTH_DEFAULTS,
};
const IFACES = { eth0: [{ address: '10.0.0.5' }] };

describe('serviceDefinitions', () => {
  it('builds ID, address, TTL and Consul extras for jobs with a port only', () => {
    const { services, errors } = serviceDefinitions(
      [
        job('web', {
          port: 80,
          health: HEALTH,
          tags: ['x'],
          meta: { a: 'b' },
          consul: { enableTagOverride: true, deregisterCriticalServiceAfter: '90m' },
        }),
        job('worker'),
      ],
      'host1',
      IFACES,
    );
    expect(errors).toEqual([]);
    expect([...services.keys()]).toEqual(['web']);
    expect(services.get('web')).toEqual({
      id: 'web-host1',
      name: 'web',
      address: '10.0.0.5',
      port: 80,
      tags: ['x'],
      meta: { a: 'b' },
      enableTagOverride: true,
      ttlMs: 5000,
      deregisterCriticalServiceAfterMs: 90 * 60_000,
    });
    expect(ipEnvName('my-web')).toBe('CONTAINERPILOT_MY_WEB_IP');
  });

  it('reports a job whose interfaces match nothing', () => {
    const { services, errors } = serviceDefinitions(
      [job('web', { port: 80, health: HEALTH, interfaces: ['eth9'] })],
      'h',
      IFACES,
    );
    expect(services.size).toBe(0);
    expect(errors[0]!.job).toBe('web');
    expect(errors[0]!.error.message).toMatch(/no interface address matches \[eth9\]/);
  });
});

describe('Registrar', () => {
  function setup(fields = {}) {
    const bus = new Bus();
    const registry = new RecordingRegistry();
    const { services } = serviceDefinitions(
      [job('web', { port: 80, health: HEALTH, ...fields }), job('other')],
      'h',
      IFACES,
    );
    const registrar = new Registrar(registry, services);
    bus.observe(registrar.observe);
    return { bus, calls: registry.calls, registrar };
  }

  const defs = (...jobs: Parameters<typeof job>[]) =>
    serviceDefinitions(
      jobs.map((args) => job(...args)),
      'h',
      IFACES,
    ).services;

  it('registers on the first passing check, heartbeats on each, fails on unhealthy, deregisters on stopping', () => {
    const { bus, calls } = setup();
    bus.publish('startup', 'global');
    bus.publish('unhealthy', 'web'); // not registered yet: nothing to fail
    bus.publish('healthy', 'web');
    bus.publish('healthy', 'web');
    bus.publish('unhealthy', 'web');
    bus.publish('healthy', 'other'); // not advertised
    bus.publish('healthy', 'watch.web'); // a watch, not the job
    bus.publish('stopping', 'web');
    expect(calls).toEqual([
      'register web-h passing',
      'heartbeat web-h passing',
      'heartbeat web-h passing',
      'heartbeat web-h critical',
      'deregister web-h',
    ]);
  });

  it('initial_status registers at startup', () => {
    const { bus, calls } = setup({ initialStatus: 'warning' });
    bus.publish('startup', 'global');
    bus.publish('healthy', 'web');
    expect(calls).toEqual(['register web-h warning', 'heartbeat web-h passing']);
  });

  it('maintenance: deregisters, ignores checks, registers again after', () => {
    const { bus, calls } = setup();
    bus.publish('healthy', 'web');
    bus.publish('enterMaintenance', 'global');
    bus.publish('healthy', 'web');
    bus.publish('exitMaintenance', 'global');
    bus.publish('healthy', 'web');
    expect(calls).toEqual([
      'register web-h passing',
      'heartbeat web-h passing',
      'maintenance true',
      'maintenance false',
      'register web-h passing',
      'heartbeat web-h passing',
    ]);
  });

  it('nothing registers after shutdown', () => {
    const { bus, calls } = setup();
    bus.publish('shutdown', 'global');
    bus.publish('healthy', 'web');
    expect(calls).toEqual([]);
  });

  it('after a reload: a changed job registers with its new port, a new one with initial_status at once, an unchanged one is left alone', () => {
    const { bus, calls, registrar } = setup({ initialStatus: 'passing' });
    bus.publish('startup', 'global');
    // web changes its port: reload stops it first (deregistered), then hands the new definitions.
    bus.publish('stopping', 'web');
    registrar.update(
      defs(['web', { port: 81, health: HEALTH }], ['api', { port: 90, health: HEALTH, initialStatus: 'warning' }]),
    );
    bus.publish('healthy', 'web');
    bus.publish('healthy', 'gone'); // removed from the file: not advertised any more
    registrar.update(
      defs(['web', { port: 81, health: HEALTH }], ['api', { port: 90, health: HEALTH, initialStatus: 'warning' }]),
    );
    expect(calls).toEqual([
      'register web-h passing',
      'deregister web-h',
      'register api-h warning',
      'register web-h passing',
      'heartbeat web-h passing',
    ]);
    expect(calls.filter((c) => c.startsWith('register web-h')).length).toBe(2);
  });
});
