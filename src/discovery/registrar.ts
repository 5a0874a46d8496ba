/**
 * Registration of jobs (docs/discovery.md), driven only by the bus: jobs know nothing of discovery.
 *
 * - A job with `port` is *advertised*: its service definition (ID `<name>-<hostname>`, the
 *   address its `interfaces` select, port, tags, meta, TTL = `health.ttl`, Consul extras)
 *   is computed once at start. An instance of a job with `replicas` is an instance of the job's
 *   service: its name is the job's, its ID the instance's (`web-2-<hostname>`).
 * - `startup` registers every advertised job that has an `initial_status`; the others are
 *   registered by their first `healthy` event (a passing check). Every `healthy` sends a TTL
 *   pass, every `unhealthy` a fail (once registered).
 * - `stopping` of the job deregisters it; `enterMaintenance` deregisters everything until
 *   `exitMaintenance` (then the next passing check registers again).
 *
 * It is a bus observer: it runs synchronously at publish time, so it only records intent
 * in the registry, whose methods never block and never throw.
 */

import { parseGoDuration } from '../config/duration.js';
import type { JobConfig } from '../config/types.js';
import type { BusEvent } from '../events/event.js';
import { GLOBAL_SOURCE } from '../events/event.js';
import { envNamePart, publishedName } from '../jobs/naming.js';
import { type InterfaceList, selectAddress } from './addresses.js';
import type { ServiceDefinition, ServiceRegistry } from './types.js';

/** ContainerPilot's TTL notes: the output of a passing update, and of a failing one. */
const PASS_OUTPUT = 'ok';
const FAIL_OUTPUT = 'health check failed';

/** `CONTAINERPILOT_{JOB}_IP`. */
export function ipEnvName(job: string): string {
  return `CONTAINERPILOT_${envNamePart(job)}_IP`;
}

export interface AdvertisedJobs {
  /** By the name the jobs publish under (duplicates share one: the last definition is registered). */
  services: Map<string, ServiceDefinition>;
  /** Jobs with `port` whose address could not be chosen, with why. */
  errors: Array<{ job: string; error: Error }>;
}

/** The service definitions of every job with a `port`. */
export function serviceDefinitions(
  jobs: readonly JobConfig[],
  hostname: string,
  interfaces: InterfaceList,
): AdvertisedJobs {
  const services = new Map<string, ServiceDefinition>();
  const errors: AdvertisedJobs['errors'] = [];
  for (const job of jobs) {
    if (job.port === undefined) continue;
    const name = publishedName(job);
    const address = selectAddress(job.interfaces, interfaces);
    if (address instanceof Error) {
      errors.push({ job: job.name, error: address });
      continue;
    }
    const def: ServiceDefinition = {
      id: `${name}-${hostname}`,
      // An instance of a job with replicas is an instance of the job's service (docs/discovery.md).
      name: job.replica?.of ?? name,
      address,
      port: job.port,
      tags: [...job.tags],
      meta: { ...job.meta },
      enableTagOverride: job.consul.enableTagOverride,
      // Validation requires `health` with `port`; a TTL of its interval is the fallback if not.
      ttlMs: job.health?.ttl ?? job.health?.interval ?? 10_000,
    };
    const dereg = job.consul.deregisterCriticalServiceAfter;
    if (dereg !== undefined) {
      const r = parseGoDuration(dereg);
      if (r.ok) def.deregisterCriticalServiceAfterMs = r.ms;
    }
    if (job.initialStatus !== undefined) def.initialStatus = job.initialStatus;
    // Duplicates (docs/containerpilot.md#duplicate-job-names) are one service with one ID,
    // as in ContainerPilot, where each registered it and the last registration stayed: here
    // the last definition in the file is the one registered, whichever duplicate's check passes.
    services.set(name, def);
  }
  return { services, errors };
}

export class Registrar {
  /** Service IDs this side believes registered (the registry re-registers on its own if the agent forgot). */
  private readonly registered = new Set<string>();
  private maintenance = false;
  private closing = false;

  constructor(
    private readonly registry: ServiceRegistry,
    private services: ReadonlyMap<string, ServiceDefinition>,
  ) {}

  /**
   * New definitions after a reload. Jobs that changed or went away were stopped first
   * (their `stopping` deregistered them); a new one with `initial_status` registers now,
   * as it would have at `startup`.
   */
  update(services: ReadonlyMap<string, ServiceDefinition>): void {
    const before = this.services;
    this.services = services;
    if (this.closing || this.maintenance) return;
    for (const [job, def] of services) {
      const old = before.get(job);
      const changed = old === undefined || JSON.stringify(old) !== JSON.stringify(def);
      if (def.initialStatus === undefined || this.registered.has(def.id) || !changed) continue;
      this.registered.add(def.id);
      this.registry.register(def);
    }
  }

  /** The bus observer. Cheap: a map lookup for most events. */
  readonly observe = (event: BusEvent): void => {
    if (event.source === GLOBAL_SOURCE) return this.onGlobal(event.code);
    const def = this.services.get(event.source);
    if (!def || this.closing) return;
    switch (event.code) {
      case 'healthy':
        if (this.maintenance) return;
        if (!this.registered.has(def.id)) {
          this.registered.add(def.id);
          // Registered by a passing check: the check starts out passing.
          this.registry.register({ ...def, initialStatus: 'passing' });
        }
        this.registry.heartbeat(def.id, 'passing', PASS_OUTPUT);
        return;
      case 'unhealthy':
        if (this.registered.has(def.id)) this.registry.heartbeat(def.id, 'critical', FAIL_OUTPUT);
        return;
      case 'stopping':
        if (this.registered.delete(def.id)) this.registry.deregister(def.id);
        return;
      default:
        return;
    }
  };

  private onGlobal(code: BusEvent['code']): void {
    switch (code) {
      case 'startup':
        for (const def of this.services.values()) {
          if (def.initialStatus === undefined || this.registered.has(def.id)) continue;
          this.registered.add(def.id);
          this.registry.register(def);
        }
        return;
      case 'enterMaintenance':
        this.maintenance = true;
        this.registered.clear();
        this.registry.setMaintenance(true);
        return;
      case 'exitMaintenance':
        this.maintenance = false;
        this.registry.setMaintenance(false);
        return;
      case 'shutdown':
        // The supervisor closes the registry (deregistering everything); nothing registers after this.
        this.closing = true;
        return;
      default:
        return;
    }
  }
}
