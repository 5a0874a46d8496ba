/**
 * The contract of service discovery (SPEC §6): one interface, two backends (Consul over
 * HTTP, and the embedded local catalog). Written first so the control plane, telemetry
 * and the supervisor can be built against it while the backends are; change it only together.
 */

/** A service registration, as SPEC §6.1 defines it. */
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
   * Maintenance (SPEC §9): `true` deregisters every service and stops heartbeats from
   * re-registering them; `false` lets the next passing check register them again.
   * Returns whether the mode changed.
   */
  setMaintenance(on: boolean): boolean;
  /** Deregister everything and wait (bounded) for it to be done; for shutdown. */
  close(timeoutMs: number): Promise<void>;
}
