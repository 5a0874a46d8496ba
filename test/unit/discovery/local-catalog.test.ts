import { afterEach, describe, expect, it } from 'vitest';
import { LocalCatalog } from '../../../src/discovery/local/catalog.js';
import type { ServiceDefinition } from '../../../src/discovery/types.js';
import { waitFor } from './support.js';

function def(id: string, fields: Partial<ServiceDefinition> = {}): ServiceDefinition {
  return {
    id,
    name: 'web',
    address: '10.0.0.1',
    port: 80,
    tags: [],
    meta: {},
    enableTagOverride: false,
    ttlMs: 60_000,
    ...fields,
  };
}

const registered = (c: LocalCatalog) => c.services().filter((s) => s.registered);

describe('LocalCatalog', () => {
  let catalog = new LocalCatalog();
  afterEach(() => catalog.close(0));

  it('a service is healthy only while its TTL check passes', async () => {
    catalog = new LocalCatalog();
    catalog.register(def('web-1'));
    expect((await catalog.healthyInstances('web')).instances).toEqual([]); // critical until the first pass
    catalog.heartbeat('web-1', 'passing', 'ok');
    expect((await catalog.healthyInstances('web')).instances.map((i) => i.id)).toEqual(['web-1']);
    catalog.heartbeat('web-1', 'warning');
    expect((await catalog.healthyInstances('web')).instances).toEqual([]); // `passing` filter drops warning
    expect(catalog.services()[0]).toMatchObject({ id: 'web-1', status: 'warning', registered: true });
  });

  it('initial status passing is healthy at once; tags filter', async () => {
    catalog = new LocalCatalog();
    catalog.register(def('web-1', { initialStatus: 'passing', tags: ['blue'] }));
    catalog.register(def('web-2', { initialStatus: 'passing', tags: ['green'] }));
    expect((await catalog.healthyInstances('web', { tag: 'green' })).instances.map((i) => i.id)).toEqual(['web-2']);
    expect((await catalog.healthyInstances('db')).instances).toEqual([]);
    await expect(catalog.healthyInstances('web', { dc: 'elsewhere' })).rejects.toThrow(/datacenter/);
  });

  it('TTL expiry turns the check critical, and deregisterCriticalServiceAfter removes the service', async () => {
    catalog = new LocalCatalog();
    catalog.register(def('web-1', { ttlMs: 50, deregisterCriticalServiceAfterMs: 100 }));
    catalog.heartbeat('web-1', 'passing');
    await waitFor(() => catalog.check('web-1')?.status === 'critical');
    expect(catalog.check('web-1')!.output).toMatch(/TTL expired/);
    await waitFor(() => catalog.check('web-1') === undefined);
    expect(catalog.services()).toMatchObject([{ id: 'web-1', registered: false, status: 'unknown' }]);
    // A later heartbeat brings it back (an agent that forgot it gets it re-registered).
    catalog.heartbeat('web-1', 'passing');
    expect(catalog.services()).toMatchObject([{ id: 'web-1', status: 'passing', registered: true }]);
  });

  it('maintenance removes everything until it ends; then a heartbeat registers again', async () => {
    catalog = new LocalCatalog();
    catalog.register(def('web-1', { initialStatus: 'passing' }));
    expect(catalog.setMaintenance(true)).toBe(true);
    expect(catalog.setMaintenance(true)).toBe(false);
    expect(registered(catalog)).toEqual([]);
    catalog.heartbeat('web-1', 'passing');
    expect(registered(catalog)).toEqual([]);
    expect(catalog.setMaintenance(false)).toBe(true);
    catalog.heartbeat('web-1', 'passing');
    expect(registered(catalog).map((e) => e.id)).toEqual(['web-1']);
  });

  it('deregister forgets the service for good', () => {
    catalog = new LocalCatalog();
    catalog.register(def('web-1'));
    catalog.deregister('web-1');
    catalog.heartbeat('web-1', 'passing');
    expect(registered(catalog)).toEqual([]);
  });

  it('blocking queries wait for a change past the index, or the wait', async () => {
    catalog = new LocalCatalog();
    const first = await catalog.healthyInstances('web');
    const blocked = catalog.healthyInstances('web', { index: first.index, waitMs: 60_000 });
    let answered = false;
    void blocked.then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    catalog.register(def('web-1', { initialStatus: 'passing' }));
    const next = await blocked;
    expect(next.index).toBeGreaterThan(first.index);
    expect(next.instances.map((i) => i.id)).toEqual(['web-1']);
    // The wait bounds it; an older index answers at once.
    expect((await catalog.healthyInstances('web', { index: next.index, waitMs: 10 })).index).toBe(next.index);
    expect((await catalog.healthyInstances('web', { index: first.index })).instances).toHaveLength(1);
    // An abort answers too.
    const ac = new AbortController();
    const aborted = catalog.healthyInstances('web', { index: next.index, waitMs: 60_000, signal: ac.signal });
    ac.abort();
    expect((await aborted).index).toBe(next.index);
  });
});
