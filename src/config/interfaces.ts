/**
 * ContainerPilot's interface specifications (`interfaces: ["eth0", "inet6",
 * "10.0.0.0/8", "static:192.168.1.100", "eth1[1]"]`), parsed to a structured form.
 * Validation uses it to reject a bad spec at load time; discovery uses the same
 * parse to pick the advertised address, so the two never disagree on syntax.
 */
import * as builtins from '../builtins.js';

// node:net (src/builtins.ts) only for a configuration that has interface specs.
const isIP = (s: string): number => builtins.net().isIP(s);

export type InterfaceSpec =
  /** `inet`/`inet6` (name `*`: any interface, loopback excluded), `eth0`, `eth0:inet`, `eth0:inet6`. */
  | { kind: 'inet'; name: string; ipv6: boolean }
  /** `eth0[1]`: the n-th address (0-based) of the interface. */
  | { kind: 'index'; name: string; index: number }
  /** `10.0.0.0/16`, `fdc6:238c:c4bc::/48`: the first address inside the network. */
  | { kind: 'cidr'; network: string; prefix: number; ipv6: boolean }
  /** `static:ADDR`: this address, whatever the interfaces say. */
  | { kind: 'static'; ip: string };

/** ContainerPilot's own pattern: a Go `\w+` name, then `[index]` or `:inet`/`:inet6`. */
const NAMED = /^([A-Za-z0-9_]+)(?:\[([0-9]+)\]|:(inet6?))?$/;

/** ContainerPilot's default when a job gives no `interfaces` (its code, not its docs: eth0, then any interface). */
export const DEFAULT_INTERFACES: readonly string[] = ['eth0:inet', 'inet'];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseCidr(spec: string): InterfaceSpec | undefined {
  const slash = spec.indexOf('/');
  if (slash < 0) return undefined;
  const addr = spec.slice(0, slash);
  const bits = spec.slice(slash + 1);
  const family = isIP(addr);
  if (family === 0 || !/^[0-9]{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return { kind: 'cidr', network: addr, prefix, ipv6: family === 6 };
}

export function parseInterfaceSpec(spec: string): ParseResult<InterfaceSpec> {
  if (spec === 'inet') return { ok: true, value: { kind: 'inet', name: '*', ipv6: false } };
  if (spec === 'inet6') return { ok: true, value: { kind: 'inet', name: '*', ipv6: true } };
  if (spec.startsWith('static:')) {
    const ip = spec.slice('static:'.length);
    // Zone ids (`fe80::1%eth0`) are not addresses Go's ParseIP (or Consul) accepts.
    if (isIP(ip) === 0 || ip.includes('%')) {
      return { ok: false, reason: `"${ip}" after static: is not an IP address` };
    }
    return { ok: true, value: { kind: 'static', ip } };
  }
  const m = NAMED.exec(spec);
  if (m) {
    const [, name, index, inet] = m;
    if (index !== undefined) {
      const i = Number(index);
      if (!Number.isSafeInteger(i)) return { ok: false, reason: `index ${index} is too large` };
      return { ok: true, value: { kind: 'index', name, index: i } };
    }
    return { ok: true, value: { kind: 'inet', name, ipv6: inet === 'inet6' } };
  }
  const cidr = parseCidr(spec);
  if (cidr) return { ok: true, value: cidr };
  return {
    ok: false,
    reason: 'not an interface spec (eth0, eth0:inet6, eth0[1], inet, inet6, a CIDR like 10.0.0.0/16, or static:ADDR)',
  };
}
