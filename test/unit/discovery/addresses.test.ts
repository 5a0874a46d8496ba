import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { DEFAULT_INTERFACES } from '../../../src/config/interfaces.js';
import { type InterfaceList, interfaceIps, ipBytes, selectAddress } from '../../../src/discovery/addresses.js';

const addrs = (...a: string[]) => a.map((address) => ({ address }));

/** A container-like machine: loopback, two addresses on eth0 (listed out of order), eth1, a v6-only eth2. */
const HOST: InterfaceList = {
  lo: addrs('127.0.0.1', '::1'),
  eth0: addrs('10.0.0.9', 'fe80::42:acff:fe11:2', '10.0.0.2'),
  eth1: addrs('192.168.1.5', '2001:db8::5'),
  eth2: addrs('fdc6:238c:c4bc::7'),
};

describe('selectAddress', () => {
  const cases: Array<[string, readonly string[], InterfaceList, string]> = [
    ['default: eth0 IPv4, lowest address first', DEFAULT_INTERFACES, HOST, '10.0.0.2'],
    [
      'default without eth0 falls back to any non-loopback IPv4',
      DEFAULT_INTERFACES,
      { lo: addrs('127.0.0.1'), ens3: addrs('172.16.0.4') },
      '172.16.0.4',
    ],
    ['eth0 means eth0:inet', ['eth0'], HOST, '10.0.0.2'],
    ['eth0:inet6', ['eth0:inet6'], HOST, 'fe80::42:acff:fe11:2'],
    ['eth0[0]: IPv4 sorts before IPv6 (::ffff: form)', ['eth0[0]'], HOST, '10.0.0.2'],
    ['eth0[1]', ['eth0[1]'], HOST, '10.0.0.9'],
    ['eth0[2]', ['eth0[2]'], HOST, 'fe80::42:acff:fe11:2'],
    ['index out of range falls to the next spec', ['eth0[3]', 'eth1'], HOST, '192.168.1.5'],
    ['inet: first interface by name, loopback skipped', ['inet'], HOST, '10.0.0.2'],
    ['inet6: eth0 first by name', ['inet6'], HOST, 'fe80::42:acff:fe11:2'],
    ['inet6 skips ::1', ['inet6'], { lo: addrs('::1'), eth9: addrs('2001:db8::9') }, '2001:db8::9'],
    ['lo:inet names loopback explicitly', ['lo:inet'], HOST, '127.0.0.1'],
    ['lo[0] is ::1: its 16 bytes sort before ::ffff:127.0.0.1', ['lo[0]'], HOST, '::1'],
    ['lo[1] is 127.0.0.1', ['lo[1]'], HOST, '127.0.0.1'],
    ['IPv4 CIDR', ['192.168.0.0/16'], HOST, '192.168.1.5'],
    ['IPv4 CIDR /8 matches loopback too', ['127.0.0.0/8'], HOST, '127.0.0.1'],
    ['IPv6 CIDR', ['fdc6:238c:c4bc::/48'], HOST, 'fdc6:238c:c4bc::7'],
    ['CIDR /32', ['10.0.0.9/32'], HOST, '10.0.0.9'],
    ['static wins without looking', ['static:203.0.113.7'], {}, '203.0.113.7'],
    ['static after a spec that matches is not reached', ['eth1', 'static:203.0.113.7'], HOST, '192.168.1.5'],
    ['first matching spec in order, not first address', ['eth2:inet6', 'eth0'], HOST, 'fdc6:238c:c4bc::7'],
    [
      'interfaces sort by name, not by listing order',
      ['inet'],
      { zz: addrs('10.9.9.9'), aa: addrs('10.1.1.1') },
      '10.1.1.1',
    ],
    ['IPv6 bytes order, not text order', ['eth0[0]'], { eth0: addrs('fe80::a', '2001:db8::1') }, '2001:db8::1'],
    ['IPv4-mapped IPv6 counts as IPv4, shown dotted', ['eth0:inet'], { eth0: addrs('::ffff:10.1.2.3') }, '10.1.2.3'],
  ];
  it.each(cases)('%s', (_title, specs, list, want) => {
    expect(selectAddress(specs, list)).toBe(want);
  });

  it('gives an error naming the specs and the addresses when nothing matches', () => {
    const r = selectAddress(['eth7', '10.0.0.0/30'], { lo: addrs('127.0.0.1'), eth0: addrs('10.0.0.9') });
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toContain('eth7, 10.0.0.0/30');
    expect((r as Error).message).toContain('eth0:10.0.0.9');
  });

  it('rejects a bad spec', () => {
    expect(selectAddress(['eth0:inet7'], HOST)).toBeInstanceOf(Error);
  });

  it('works on the real os.networkInterfaces(), whatever this machine has', () => {
    // No assumption about the machine's network: only that answers agree with the list itself.
    const real = networkInterfaces();
    const all = Object.values(real).flatMap((list) => (list ?? []).map((a) => a.address.replace(/%.*$/, '')));
    for (const [name, list] of Object.entries(real)) {
      if (!/^\w+$/.test(name) || !list?.length) continue; // names the spec syntax cannot express
      const first = selectAddress([`${name}[0]`], real);
      expect(
        typeof first === 'string' && list.some((a) => a.address.replace(/%.*$/, '') === first),
        `${name}[0] -> ${String(first)}`,
      ).toBe(true);
    }
    const any = selectAddress(['inet'], real);
    if (typeof any === 'string') {
      expect(all).toContain(any);
      expect(any.startsWith('127.')).toBe(false);
    } else {
      expect(any.message).toMatch(/no interface address matches \[inet\]/);
    }
  });
});

describe('ipBytes', () => {
  it.each([
    ['10.0.0.1', '00000000000000000000ffff0a000001'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::5', '20010db8000000000000000000000005'],
    ['fe80::42:acff:fe11:2', 'fe800000000000000042acfffe110002'],
    ['::ffff:10.1.2.3', '00000000000000000000ffff0a010203'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
  ])('%s', (ip, hex) => {
    expect(Buffer.from(ipBytes(ip)!).toString('hex')).toBe(hex);
  });
  it('rejects non-addresses', () => expect(ipBytes('eth0')).toBeUndefined());
});
