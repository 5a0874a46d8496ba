/**
 * The discovery backend for a configuration: Consul when `consul` is configured, else the
 * embedded local catalog (docs/discovery.md). A bad Consul setting (address, boolean env var,
 * unreadable certificate) throws an Error whose message says what is wrong.
 */
import type { Config } from '../config/types.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import { ConsulRegistry } from './consul/registry.js';
import { type Env, resolveConsulSettings } from './consul/settings.js';
import { LocalCatalog } from './local/catalog.js';
import type { Discovery } from './types.js';

export function createDiscovery(config: Pick<Config, 'consul'>, log: Logger, env: Env): Discovery {
  if (config.consul === undefined) return new LocalCatalog();
  return new ConsulRegistry(resolveConsulSettings(config.consul, env), log);
}
