/**
 * The address a job advertises (docs/discovery.md): the first address, over a job's interface
 * specs in order, that a spec matches — ContainerPilot's rules and ordering:
 *
 * - every interface address is listed as (interface name, ip), sorted by interface name,
 *   then by the IP's 16-byte form (so an IPv4 address, `::ffff:a.b.c.d`, sorts before most
 *   IPv6 ones), stably;
 * - `eth0[n]` is the n-th address of eth0 in that order;
 * - `inet`/`inet6` (any interface) skip loopback addresses; `eth0`/`eth0:inet` want IPv4,
 *   `eth0:inet6` wants IPv6; a CIDR matches any address inside it; `static:` wins at once.
 *
 * It works on lists shaped like `os.networkInterfaces()`, so tests can give fixed lists.
 */
import * as builtins from '../builtins.js';
import type { InterfaceSpec } from '../config/interfaces.js';
import { parseInterfaceSpec } from '../config/interfaces.js';

/** The part of `os.NetworkInterfaceInfo` this needs. */
export interface InterfaceAddress {
  address: string;
}
export type InterfaceList = Readonly<Record<string, readonly InterfaceAddress[] | undefined>>;

interface InterfaceIp {
  name: string;
  /** As printed: IPv4-mapped IPv6 addresses are shown in dotted form, like Go does. */
  text: string;
  bytes: Uint8Array;
  ipv4: boolean;
}

/** An IP address as 16 bytes (IPv4 as `::ffff:a.b.c.d`), or undefined if it is not one. */
export function ipBytes(ip: string): Uint8Array | undefined {
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const out = new Uint8Array(16);
  if (builtins.net().isIPv4(ip)) {
    out[10] = 0xff;
    out[11] = 0xff;
    for (const [i, part] of ip.split('.').entries()) out[12 + i] = Number(part);
    return out;
  }
  if (!builtins.net().isIPv6(ip)) return undefined;
  // An embedded IPv4 tail (`::ffff:1.2.3.4`) becomes two hex groups, then the usual parse.
  ip = ip.replace(
    /(\d+)\.(\d+)\.(\d+)\.(\d+)$/,
    (_m, a: string, b: string, c: string, d: string) =>
      `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const dbl = ip.indexOf('::');
  if (dbl >= 0) {
    const head = parse(ip.slice(0, dbl));
    const rest = parse(ip.slice(dbl + 2));
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    groups = parse(ip);
  }
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function isMappedIpv4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

function isLoopback(ip: InterfaceIp): boolean {
  if (ip.ipv4) return ip.bytes[12] === 127;
  return ip.bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Every address of every interface, in ContainerPilot's order (name, then IP bytes). */
export function interfaceIps(list: InterfaceList): InterfaceIp[] {
  const ips: InterfaceIp[] = [];
  for (const [name, addrs] of Object.entries(list)) {
    for (const a of addrs ?? []) {
      const bytes = ipBytes(a.address);
      if (!bytes) continue;
      const ipv4 = isMappedIpv4(bytes);
      ips.push({
        name,
        bytes,
        ipv4,
        text: ipv4 ? Array.from(bytes.slice(12)).join('.') : a.address.replace(/%.*$/, ''),
      });
    }
  }
  // Array.prototype.sort is stable; names compare by code unit, as Go compares bytes for ASCII names.
  return ips.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : compareBytes(x.bytes, y.bytes)));
}

function inCidr(ip: InterfaceIp, spec: Extract<InterfaceSpec, { kind: 'cidr' }>): boolean {
  // Go's IPNet.Contains: an IPv4 network holds only IPv4 addresses, an IPv6 one only IPv6.
  if (spec.ipv6 === ip.ipv4) return false;
  const net = ipBytes(spec.network)!;
  const offset = spec.ipv6 ? 0 : 12;
  for (let bit = 0; bit < spec.prefix; bit++) {
    const byte = offset + (bit >> 3);
    const mask = 0x80 >> (bit & 7);
    if ((net[byte]! & mask) !== (ip.bytes[byte]! & mask)) return false;
  }
  return true;
}

function matches(spec: InterfaceSpec, ip: InterfaceIp, index: number): boolean {
  switch (spec.kind) {
    case 'inet':
      if (spec.name !== '*' && spec.name !== ip.name) return false;
      if (spec.name === '*' && isLoopback(ip)) return false;
      return spec.ipv6 !== ip.ipv4;
    case 'index':
      return spec.name === ip.name && spec.index === index;
    case 'cidr':
      return inCidr(ip, spec);
    case 'static':
      return false;
  }
}

/**
 * The address to advertise for these interface specs, or an Error that lists the specs
 * and the addresses seen (ContainerPilot refuses to start in that case, and so do we).
 */
export function selectAddress(specs: readonly string[], list: InterfaceList): string | Error {
  const parsed: InterfaceSpec[] = [];
  for (const s of specs) {
    const r = parseInterfaceSpec(s);
    if (!r.ok) return new Error(`interface spec "${s}": ${r.reason}`);
    parsed.push(r.value);
  }
  const ips = interfaceIps(list);
  for (const spec of parsed) {
    if (spec.kind === 'static') return spec.ip;
    let name = '';
    let index = 0;
    for (const ip of ips) {
      // Sorted by name: a new name restarts the per-interface index.
      index = ip.name === name ? index + 1 : 0;
      name = ip.name;
      if (matches(spec, ip, index)) return ip.text;
    }
  }
  const seen = ips.map((ip) => `${ip.name}:${ip.text}`).join(', ') || 'none';
  return new Error(`no interface address matches [${specs.join(', ')}] (addresses: ${seen})`);
}
