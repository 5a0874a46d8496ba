/**
 * The embedded local catalog (docs/discovery.md): the default when no `consul` is configured.
 * Services of this supervisor register here with Consul's semantics — one TTL check per
 * service that turns critical when no update comes within the TTL, removal of a service
 * whose check stayed critical for `deregisterCriticalServiceAfter`, health queries that
 * return only passing instances, filtered by tag — and watches query it, with blocking
 * queries on a change index like Consul's `X-Consul-Index`.
 *
 * Everything is in memory and synchronous; timers are unref'd so the catalog never keeps
 * pidpilot alive by itself.
 */

import { type LongTimer, setLongTimeout } from '../../events/long-timer.js';
import type {
  CatalogQueryOptions,
  CatalogResult,
  CheckStatus,
  Discovery,
  RegisteredService,
  ServiceDefinition,
  ServiceInstance,
} from '../types.js';

/** The datacenter the local catalog answers for (Consul's default name). */
export const LOCAL_DATACENTER = 'dc1';

interface Entry {
  def: ServiceDefinition;
  status: CheckStatus;
  output: string;
  ttlTimer: LongTimer | null;
  reapTimer: LongTimer | null;
}

export class LocalCatalog implements Discovery {
  readonly kind = 'local' as const;
  private readonly entries = new Map<string, Entry>();
  /** What was registered and not deregistered: a heartbeat brings a reaped or maintenance-removed service back. */
  private readonly definitions = new Map<string, ServiceDefinition>();
  private maintenance = false;
  private index = 1;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  register(service: ServiceDefinition): void {
    if (this.closed) return;
    this.definitions.set(service.id, service);
    if (this.maintenance) return;
    this.drop(service.id);
    const entry: Entry = {
      def: service,
      status: service.initialStatus ?? 'critical',
      output: '',
      ttlTimer: null,
      reapTimer: null,
    };
    this.entries.set(service.id, entry);
    this.armTtl(entry);
    this.armReap(entry);
    this.changed();
  }

  heartbeat(serviceId: string, status: CheckStatus, output = ''): void {
    if (this.closed || this.maintenance) return;
    let entry = this.entries.get(serviceId);
    if (!entry) {
      const def = this.definitions.get(serviceId);
      if (!def) return;
      this.register(def);
      entry = this.entries.get(serviceId)!;
    }
    this.armTtl(entry);
    this.setStatus(entry, status, output);
  }

  deregister(serviceId: string): void {
    this.definitions.delete(serviceId);
    if (this.drop(serviceId)) this.changed();
  }

  setMaintenance(on: boolean): boolean {
    if (on === this.maintenance) return false;
    this.maintenance = on;
    if (on) {
      for (const id of [...this.entries.keys()]) this.drop(id);
      this.changed();
    }
    return true;
  }

  close(_timeoutMs: number): Promise<void> {
    for (const id of [...this.entries.keys()]) this.drop(id);
    this.definitions.clear();
    this.closed = true;
    this.changed();
    return Promise.resolve();
  }

  /** Every service registered here, with its check; those removed by maintenance or reaping as not registered. */
  services(): RegisteredService[] {
    return [...this.definitions.values()].map((def) => {
      const entry = this.entries.get(def.id);
      return {
        id: def.id,
        name: def.name,
        address: def.address,
        port: def.port,
        tags: [...def.tags],
        registered: entry !== undefined,
        status: entry?.status ?? 'unknown',
      };
    });
  }

  /** The check of a registered service (status and output), for tests and status. */
  check(serviceId: string): { status: CheckStatus; output: string } | undefined {
    const e = this.entries.get(serviceId);
    return e && { status: e.status, output: e.output };
  }

  healthyInstances(service: string, options: CatalogQueryOptions = {}): Promise<CatalogResult> {
    if (options.dc !== undefined && options.dc !== '' && options.dc !== LOCAL_DATACENTER) {
      return Promise.reject(
        new Error(`the local catalog has only datacenter "${LOCAL_DATACENTER}", not "${options.dc}"`),
      );
    }
    const answer = (): CatalogResult => ({ instances: this.healthy(service, options.tag), index: this.index });
    const index = options.index ?? 0;
    if (index <= 0 || index < this.index || this.closed) return Promise.resolve(answer());
    // Blocking query: answer at the next change, or when the wait is over, like Consul.
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        options.signal?.removeEventListener('abort', done);
        resolve(answer());
      };
      const timer = setTimeout(done, options.waitMs ?? 5 * 60_000);
      timer.unref();
      this.waiters.add(done);
      options.signal?.addEventListener('abort', done);
    });
  }

  // ---------------------------------------------------------------------------

  private healthy(service: string, tag: string | undefined): ServiceInstance[] {
    const out: ServiceInstance[] = [];
    for (const { def, status } of this.entries.values()) {
      if (def.name !== service || status !== 'passing') continue;
      if (tag !== undefined && !def.tags.includes(tag)) continue;
      out.push({ id: def.id, name: def.name, address: def.address, port: def.port, tags: [...def.tags] });
    }
    return out;
  }

  private setStatus(entry: Entry, status: CheckStatus, output: string): void {
    if (entry.status === status && entry.output === output) return;
    const statusChanged = entry.status !== status;
    entry.status = status;
    entry.output = output;
    if (statusChanged) {
      this.armReap(entry);
      this.changed();
    }
  }

  private armTtl(entry: Entry): void {
    entry.ttlTimer?.clear();
    entry.ttlTimer = setLongTimeout(() => {
      entry.ttlTimer = null;
      this.setStatus(entry, 'critical', `TTL expired (last update more than ${entry.def.ttlMs}ms ago)`);
    }, entry.def.ttlMs);
    entry.ttlTimer.unref();
  }

  /** While critical, count down to removal (`deregisterCriticalServiceAfter`); leaving critical cancels it. */
  private armReap(entry: Entry): void {
    const after = entry.def.deregisterCriticalServiceAfterMs;
    if (entry.status !== 'critical' || after === undefined) {
      entry.reapTimer?.clear();
      entry.reapTimer = null;
      return;
    }
    if (entry.reapTimer) return;
    entry.reapTimer = setLongTimeout(() => {
      entry.reapTimer = null;
      if (this.entries.get(entry.def.id) === entry && this.drop(entry.def.id)) this.changed();
    }, after);
    entry.reapTimer.unref();
  }

  private drop(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    entry.ttlTimer?.clear();
    entry.reapTimer?.clear();
    this.entries.delete(id);
    return true;
  }

  private changed(): void {
    this.index++;
    for (const wake of [...this.waiters]) wake();
  }
}
