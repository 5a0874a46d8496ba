/**
 * Service discovery attached to a supervisor (docs/discovery.md): the backend (Consul, or the
 * embedded local catalog), the registration of jobs with a `port` driven by bus events,
 * `CONTAINERPILOT_{JOB}_IP` for children, and the watches publishing `watch.<name>`.
 */
import { hostname, networkInterfaces } from 'node:os';
import type { JobConfig } from '../config/types.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { PartHost } from '../parts.js';
import { WATCH_SOURCE_PREFIX, Watch } from '../watches/watch.js';
import { createDiscovery } from './create.js';
import { ipEnvName, Registrar, serviceDefinitions } from './registrar.js';
import { leaveDiscovery } from './shutdown.js';
import type { Discovery, ServiceDefinition } from './types.js';

/** Throws on a `consul` setting that keeps pidpilot from starting (as a config error would). */
export function attachDiscovery(
  host: PartHost,
  log: Logger,
  env: Readonly<Record<string, string | undefined>>,
): Discovery {
  const discovery = createDiscovery(host.config, log, env);
  /**
   * The service definitions of the jobs with a `port`, and their `CONTAINERPILOT_{JOB}_IP`
   * for children. Again after a reload, which may add, change or remove ports.
   */
  const advertise = (jobs: readonly JobConfig[]): Map<string, ServiceDefinition> => {
    const ips = new Map<string, string>();
    let services = new Map<string, ServiceDefinition>();
    if (jobs.some((j) => j.port !== undefined)) {
      const advertised = serviceDefinitions(jobs, hostname(), networkInterfaces());
      for (const { job, error } of advertised.errors)
        log.error({ job }, `job ${job} cannot be registered: ${error.message}`);
      for (const [name, def] of advertised.services) ips.set(ipEnvName(name), def.address);
      services = advertised.services;
    }
    host.env.setGroup('discovery', ips);
    return services;
  };
  const registrar = new Registrar(discovery, advertise(host.config.jobs));
  host.bus.observe(registrar.observe);
  const watches = new Map<string, Watch>();
  for (const w of host.config.watches) {
    watches.set(w.name, new Watch(w, discovery, (code, source) => host.bus.publish(code, source), log));
  }
  host.attach({
    // A watch publishes for as long as pidpilot runs.
    publishes: (source) =>
      source.startsWith(WATCH_SOURCE_PREFIX) && watches.has(source.slice(WATCH_SOURCE_PREFIX.length)),
    started: () => {
      for (const watch of watches.values()) watch.start();
    },
    maintenance: (on) => discovery.setMaintenance(on),
    // The retired instances have deregistered; the new ones register with their new definitions.
    reloaded: (config) => registrar.update(advertise(config.jobs)),
    shutdown: (stopTimeoutMs) => {
      // Watches stop and services leave discovery first, so no traffic goes to jobs about to stop:
      // jobs are stopped once deregistration is done, or its share of stopTimeout has passed.
      for (const watch of watches.values()) void watch.stop();
      const { closed, deregistered } = leaveDiscovery(discovery, stopTimeoutMs);
      return { closed, beforeJobsStop: deregistered };
    },
  });
  return discovery;
}
