import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchConfig } from '../../../src/config/types.js';
import { LocalCatalog } from '../../../src/discovery/local/catalog.js';
import type {
  CatalogQueryOptions,
  CatalogResult,
  ServiceCatalog,
  ServiceDefinition,
} from '../../../src/discovery/types.js';
import type { SupervisorLogger } from '../../../src/log/logger.js';
import { Watch } from '../../../src/watches/watch.js';
import { waitFor } from '../discovery/support.js';

function def(id: string, fields: Partial<ServiceDefinition> = {}): ServiceDefinition {
  return {
    id,
    name: 'db',
    address: '10.0.0.1',
    port: 5432,
    tags: [],
    meta: {},
    enableTagOverride: false,
    ttlMs: 60_000,
    initialStatus: 'passing',
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

describe('Watch', () => {
  const watches: Watch[] = [];
  afterEach(async () => {
    await Promise.all(watches.splice(0).map((w) => w.stop()));
  });

  function start(catalog: ServiceCatalog, config: Partial<WatchConfig> = {}) {
    const events: string[] = [];
    const { log, lines } = memoryLog();
    const w = new Watch(
      { name: 'db', interval: 10, ...config },
      catalog,
      (code, source) => events.push(`${code} ${source}`),
      log,
    );
    watches.push(w);
    w.start();
    return { w, events, lines };
  }

  it('publishes changed+healthy, changed, changed+unhealthy: once per change', async () => {
    const catalog = new LocalCatalog();
    const { w, events } = start(catalog);
    await waitFor(() => w.snapshot().instances === 0);
    expect(events).toEqual([]); // nothing known -> nothing: no change
    catalog.register(def('db-1'));
    await waitFor(() => events.length === 2);
    expect(events).toEqual(['changed watch.db', 'healthy watch.db']);
    catalog.register(def('db-2', { address: '10.0.0.2' }));
    await waitFor(() => events.length === 3);
    expect(events[2]).toBe('changed watch.db');
    // A heartbeat with the same status changes nothing a watch sees.
    catalog.heartbeat('db-1', 'passing', 'still ok');
    catalog.deregister('db-1');
    catalog.deregister('db-2');
    await waitFor(() => w.snapshot().instances === 0);
    await waitFor(() => events.length >= 5);
    // Two deregistrations may land in one answer or two: either way, unhealthy exactly once, last.
    expect(events.filter((e) => e === 'unhealthy watch.db')).toHaveLength(1);
    expect(events.at(-1)).toBe('unhealthy watch.db');
    expect(events.filter((e) => e.startsWith('healthy'))).toHaveLength(1);
    await w.stop();
  });

  it('filters by tag', async () => {
    const catalog = new LocalCatalog();
    const { w, events } = start(catalog, { tag: 'primary' });
    await waitFor(() => w.snapshot().instances === 0);
    catalog.register(def('db-1', { tags: ['replica'] }));
    catalog.register(def('db-2', { tags: ['primary'] }));
    await waitFor(() => events.length === 2);
    expect(w.snapshot().instances).toBe(1);
  });

  it('uses blocking queries on the last index instead of polling', async () => {
    const catalog = new LocalCatalog();
    const seen: CatalogQueryOptions[] = [];
    const spy: ServiceCatalog = {
      healthyInstances(service, options = {}): Promise<CatalogResult> {
        seen.push(options);
        return catalog.healthyInstances(service, options);
      },
    };
    const { w, events } = start(spy);
    await waitFor(() => seen.length >= 2, 'a second query');
    expect(seen[0]!.index).toBe(0);
    expect(seen[1]!.index).toBeGreaterThan(0);
    expect(seen[1]!.waitMs).toBeGreaterThan(1000);
    const held = seen.length;
    catalog.register(def('db-1'));
    await waitFor(() => events.length === 2);
    expect(seen.length).toBeGreaterThanOrEqual(held);
    await w.stop();
  });

  it('logs a failing query once per outage and recovers', async () => {
    let down = true;
    const catalog = new LocalCatalog();
    let calls = 0;
    const flaky: ServiceCatalog = {
      healthyInstances(service, options) {
        calls++;
        return down ? Promise.reject(new Error('connect ECONNREFUSED')) : catalog.healthyInstances(service, options);
      },
    };
    catalog.register(def('db-1'));
    const { events, lines } = start(flaky);
    await waitFor(() => calls >= 5, 'several failed queries');
    expect(lines.filter((l) => l.includes('query failed'))).toHaveLength(1);
    down = false;
    await waitFor(() => events.length === 2);
    expect(lines.filter((l) => l.includes('works again'))).toHaveLength(1);
  });
});
