/**
 * The telemetry endpoint registered in discovery as service `containerpilot` (the name
 * ContainerPilot used, which dashboards and Prometheus' Consul discovery look for),
 * kept alive by a TTL heartbeat. ContainerPilot's values: TTL 15 s, heartbeat every 5 s.
 */
import { hostname } from 'node:os';
import type { ServiceDefinition, ServiceRegistry } from '../discovery/types.js';

export const TELEMETRY_SERVICE = 'containerpilot';
export const TELEMETRY_TTL_MS = 15_000;
export const TELEMETRY_HEARTBEAT_MS = 5_000;

export interface TelemetryService {
  definition: ServiceDefinition;
  /** Stops the heartbeat and deregisters. */
  stop(): void;
}

export function registerTelemetryService(
  registry: ServiceRegistry,
  opts: {
    address: string;
    port: number;
    tags: readonly string[];
    version: string;
    host?: string;
    heartbeatMs?: number;
  },
): TelemetryService {
  const definition: ServiceDefinition = {
    id: `${TELEMETRY_SERVICE}-${opts.host ?? hostname()}`,
    name: TELEMETRY_SERVICE,
    address: opts.address,
    port: opts.port,
    tags: [...opts.tags, opts.version],
    meta: {},
    enableTagOverride: false,
    ttlMs: TELEMETRY_TTL_MS,
    initialStatus: 'passing',
  };
  registry.register(definition);
  const timer = setInterval(
    () => registry.heartbeat(definition.id, 'passing', 'ok'),
    opts.heartbeatMs ?? TELEMETRY_HEARTBEAT_MS,
  );
  timer.unref();
  return {
    definition,
    stop() {
      clearInterval(timer);
      registry.deregister(definition.id);
    },
  };
}
