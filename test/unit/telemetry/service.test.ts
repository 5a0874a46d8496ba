import { describe, expect, it } from 'vitest';
import { registerTelemetryService, TELEMETRY_TTL_MS } from '../../../src/telemetry/service.js';
import { MemoryRegistry } from '../../support/registry.js';

describe('the telemetry service in discovery', () => {
  it('registers `containerpilot` with a TTL check, heartbeats it, and deregisters on stop', async () => {
    const registry = new MemoryRegistry();
    const service = registerTelemetryService(registry, {
      address: '10.0.0.5',
      port: 9090,
      tags: ['prod'],
      version: '1.2.3',
      host: 'box',
      heartbeatMs: 20,
    });
    expect(registry.services.get('containerpilot-box')).toEqual({
      id: 'containerpilot-box',
      name: 'containerpilot',
      address: '10.0.0.5',
      port: 9090,
      tags: ['prod', '1.2.3'],
      meta: {},
      enableTagOverride: false,
      ttlMs: TELEMETRY_TTL_MS,
      initialStatus: 'passing',
    });
    while (registry.heartbeats.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(registry.heartbeats[0]).toEqual({ id: 'containerpilot-box', status: 'passing' });
    service.stop();
    const beats = registry.heartbeats.length;
    expect(registry.services.size).toBe(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(registry.heartbeats.length).toBe(beats);
  });
});
