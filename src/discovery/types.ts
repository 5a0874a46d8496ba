/**
 * The contract of service discovery (docs/discovery.md): one interface, two backends (Consul over
 * HTTP, and the embedded local catalog). Written first so the control plane, telemetry
 * and the supervisor can be built against it while the backends are; change it only together.
 */

/** A service registration, as docs/discovery.md defines it. */
export interface ServiceDefinition {
  /** `<name>-<hostname>` */
  id: string;
  name: string;
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  enableTagOverride: boolean;
  /** The one TTL check, `service:<id>`. */
  ttlMs: number;
  deregisterCriticalServiceAfterMs?: number;
  /** Status of the check at registration: `passing`, `warning` or `critical` (Consul's default). */
  initialStatus?: CheckStatus;
}

export type CheckStatus = 'passing' | 'warning' | 'critical';

/** One healthy instance of a service, as a watch sees it. */
export interface ServiceInstance {
  id: string;
  name: string;
  address: string;
  port: number;
  tags: string[];
}

/**
 * What the rest of pidpilot uses. Every method is safe to call when the backend is
 * unreachable: failures are retried with backoff and logged once per outage, never thrown
 * at the caller and never blocking it.
 */
export interface ServiceRegistry {
  /** Register (or re-register) a service; later TTL updates re-register it if the agent forgot it. */
  register(service: ServiceDefinition): void;
  /** Send the TTL check's status (a passing or failing health check, or a heartbeat). */
  heartbeat(serviceId: string, status: CheckStatus, output?: string): void;
  deregister(serviceId: string): void;
  /**
   * Maintenance (docs/control-api.md): `true` deregisters every service and stops heartbeats from
   * re-registering them; `false` lets the next passing check register them again.
   * Returns whether the mode changed.
   */
  setMaintenance(on: boolean): boolean;
  /** Deregister everything and wait (bounded) for it to be done; for shutdown. */
  close(timeoutMs: number): Promise<void>;
}

/** What a watch asks (docs/discovery.md): the healthy instances of a service, optionally by tag and datacenter. */
export interface CatalogQueryOptions {
  tag?: string;
  dc?: string;
  /**
   * Blocking query: answer only once the result's index moves past this one (or `waitMs`
   * passes). 0 or absent answers at once.
   */
  index?: number;
  waitMs?: number;
  /** Aborts a blocking query (the watch is stopping). */
  signal?: AbortSignal;
}

export interface CatalogResult {
  instances: ServiceInstance[];
  /** The backend's index of this result (Consul's `X-Consul-Index`), for the next blocking query. */
  index: number;
}

/**
 * The read side of discovery, for watches. Unlike ServiceRegistry, a failed query is
 * thrown (rejected): the watch decides how to retry and when to log.
 */
export interface ServiceCatalog {
  healthyInstances(service: string, options?: CatalogQueryOptions): Promise<CatalogResult>;
}

/** One service this pidpilot registers, as the status API shows it. */
export interface RegisteredService {
  id: string;
  name: string;
  address: string;
  port: number;
  tags: string[];
  /** In the catalog/agent now (false while waiting to be sent, or in maintenance). */
  registered: boolean;
  /** The check's status as last set (or sent, for Consul); `unknown` before any. */
  status: CheckStatus | 'unknown';
}

/** A backend: both sides. */
export interface Discovery extends ServiceRegistry, ServiceCatalog {
  /** `consul` or `local`, for logs and status. */
  readonly kind: 'consul' | 'local';
  /** The services registered through this backend (not other nodes'), for the status API. */
  services(): RegisteredService[];
}
