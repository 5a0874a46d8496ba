/**
 * A test double of service discovery (src/discovery/types.ts): keeps registrations and
 * the calls made in memory. Only for tests of code that uses a ServiceRegistry.
 */
import type { CheckStatus, ServiceDefinition, ServiceRegistry } from '../../src/discovery/types.js';

export class MemoryRegistry implements ServiceRegistry {
  readonly services = new Map<string, ServiceDefinition>();
  readonly heartbeats: Array<{ id: string; status: CheckStatus }> = [];
  readonly calls: string[] = [];
  maintenance = false;

  register(service: ServiceDefinition): void {
    this.calls.push(`register ${service.id}`);
    if (!this.maintenance) this.services.set(service.id, service);
  }

  heartbeat(serviceId: string, status: CheckStatus): void {
    this.calls.push(`heartbeat ${serviceId} ${status}`);
    this.heartbeats.push({ id: serviceId, status });
  }

  deregister(serviceId: string): void {
    this.calls.push(`deregister ${serviceId}`);
    this.services.delete(serviceId);
  }

  setMaintenance(on: boolean): boolean {
    this.calls.push(`maintenance ${on}`);
    if (this.maintenance === on) return false;
    this.maintenance = on;
    if (on) this.services.clear();
    return true;
  }

  async close(): Promise<void> {
    this.services.clear();
  }
}
