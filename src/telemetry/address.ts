/**
 * Where the telemetry server is advertised and where it listens (docs/telemetry.md). Like
 * ContainerPilot, it listens on the address `telemetry.interfaces` picks when the file
 * names interfaces (so metrics are not served on a public interface by accident); with the
 * default interfaces it listens on every interface, so a local scrape works too. Either way
 * it is advertised in discovery at the picked address.
 */

import { DEFAULT_INTERFACES } from '../config/interfaces.js';
import type { TelemetryConfig } from '../config/types.js';
import { type InterfaceList, selectAddress } from '../discovery/addresses.js';

export interface TelemetryAddresses {
  /** Advertised in discovery as `containerpilot`; undefined when no interface matched. */
  address?: string;
  /** Listened on; undefined for every interface. */
  host?: string;
  /** Why there is no address, to be logged. */
  problem?: string;
}

function isDefault(interfaces: readonly string[]): boolean {
  return interfaces.length === DEFAULT_INTERFACES.length && interfaces.every((s, i) => s === DEFAULT_INTERFACES[i]);
}

export function telemetryAddresses(
  config: Pick<TelemetryConfig, 'interfaces'>,
  list: InterfaceList,
): TelemetryAddresses {
  const picked = selectAddress(config.interfaces, list);
  if (picked instanceof Error) {
    // Named interfaces that match nothing: listening everywhere instead would be the surprise.
    if (!isDefault(config.interfaces))
      return { host: '127.0.0.1', problem: `${picked.message}; listening on 127.0.0.1 only` };
    return { problem: picked.message };
  }
  return isDefault(config.interfaces) ? { address: picked } : { address: picked, host: picked };
}
