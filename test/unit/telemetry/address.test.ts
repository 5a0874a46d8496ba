import { describe, expect, it } from 'vitest';
import { telemetryAddresses } from '../../../src/telemetry/address.js';

const list = { lo: [{ address: '127.0.0.1' }], eth0: [{ address: '10.0.0.5' }], eth1: [{ address: '192.168.7.2' }] };

describe('telemetry addresses', () => {
  it('default interfaces: advertised at eth0, listening everywhere', () => {
    expect(telemetryAddresses({ interfaces: ['eth0:inet', 'inet'] }, list)).toEqual({ address: '10.0.0.5' });
  });
  it('named interfaces: listening only there, as ContainerPilot', () => {
    expect(telemetryAddresses({ interfaces: ['eth1'] }, list)).toEqual({ address: '192.168.7.2', host: '192.168.7.2' });
    expect(telemetryAddresses({ interfaces: ['static:127.0.0.1'] }, list)).toEqual({
      address: '127.0.0.1',
      host: '127.0.0.1',
    });
  });
  it('named interfaces that match nothing: loopback only, and says why', () => {
    const r = telemetryAddresses({ interfaces: ['eth9'] }, list);
    expect(r.host).toBe('127.0.0.1');
    expect(r.address).toBeUndefined();
    expect(r.problem).toMatch(/eth9/);
  });
  it('default interfaces that match nothing: not advertised, listening everywhere', () => {
    const r = telemetryAddresses({ interfaces: ['eth0:inet', 'inet'] }, { lo: [{ address: '127.0.0.1' }] });
    expect(r).toEqual({ problem: expect.any(String) });
  });
});
