/**
 * Where and how to reach the Consul agent: the file's `consul` field, with Consul's usual
 * environment variables filling what it leaves out (docs/configuration.md), the way Consul's own
 * clients read them:
 *
 * | variable | fills |
 * |---|---|
 * | `CONSUL_HTTP_ADDR` | address (`host:port`, or `http(s)://host:port`, whose scheme counts) |
 * | `CONSUL_HTTP_TOKEN` | token |
 * | `CONSUL_HTTP_SSL` | scheme https when true |
 * | `CONSUL_HTTP_SSL_VERIFY` | `tls.verify` |
 * | `CONSUL_CACERT`, `CONSUL_CAPATH` | `tls.cafile`, `tls.capath` |
 * | `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY` | `tls.clientcert`, `tls.clientkey` |
 * | `CONSUL_TLS_SERVER_NAME` | `tls.servername` |
 *
 * Defaults: `127.0.0.1:8500` over http. Certificate files are read here, once, so a missing
 * file is a clear error at start rather than a failed request later.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsulConfig } from '../../config/types.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConsulSettings {
  host: string;
  port: number;
  secure: boolean;
  token?: string;
  tls: {
    ca?: Buffer[];
    cert?: Buffer;
    key?: Buffer;
    servername?: string;
    verify: boolean;
  };
  /** `http(s)://host:port`, for logs. */
  url: string;
}

const DEFAULT_ADDRESS = '127.0.0.1:8500';

/** Consul's (Go strconv.ParseBool) truth values. */
function parseBool(name: string, v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`${name}="${v}" is not a boolean (true or false)`);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** `host:port`, `[v6]:port`, `host` (port 8500), optionally behind `http://` / `https://`. */
function splitAddress(raw: string, what: string): { scheme?: 'http' | 'https'; host: string; port: number } {
  let rest = raw.trim();
  let scheme: 'http' | 'https' | undefined;
  const m = /^(https?):\/\//i.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase() as 'http' | 'https';
    rest = rest.slice(m[0].length);
  }
  rest = rest.replace(/\/+$/, '');
  if (rest.startsWith('unix://') || rest.includes('/'))
    throw new Error(`${what} "${raw}": only host:port addresses are supported`);
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(rest);
  const hp = v6 ?? plain;
  if (!hp) throw new Error(`${what} "${raw}" is not host:port`);
  const host = hp[1]!;
  const port = hp[2] === undefined ? 8500 : Number(hp[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${what} "${raw}": port must be 1-65535`);
  return { scheme, host, port };
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Every certificate file in a CA directory (CONSUL_CAPATH). */
function readCaDir(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new Error(`consul tls.capath ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const out: Buffer[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    const pem = readFileSync(path);
    if (pem.includes('-----BEGIN CERTIFICATE-----')) out.push(pem);
  }
  return out;
}

/** Throws an Error with a clear message for a bad address, boolean or certificate file. */
export function resolveConsulSettings(config: ConsulConfig, env: Env): ConsulSettings {
  const fromEnv = nonEmpty(env.CONSUL_HTTP_ADDR);
  const addr = config.address ?? fromEnv ?? DEFAULT_ADDRESS;
  const parsed = splitAddress(addr, config.address !== undefined ? 'consul address' : 'CONSUL_HTTP_ADDR');
  let scheme = config.scheme ?? parsed.scheme;
  if (scheme === undefined) {
    const ssl = nonEmpty(env.CONSUL_HTTP_SSL);
    scheme = ssl !== undefined && parseBool('CONSUL_HTTP_SSL', ssl) ? 'https' : 'http';
  }
  const tls = config.tls ?? {};
  const verifyEnv = nonEmpty(env.CONSUL_HTTP_SSL_VERIFY);
  const verify = tls.verify ?? (verifyEnv !== undefined ? parseBool('CONSUL_HTTP_SSL_VERIFY', verifyEnv) : true);
  const cafile = tls.cafile ?? nonEmpty(env.CONSUL_CACERT);
  const capath = tls.capath ?? nonEmpty(env.CONSUL_CAPATH);
  const clientcert = tls.clientcert ?? nonEmpty(env.CONSUL_CLIENT_CERT);
  const clientkey = tls.clientkey ?? nonEmpty(env.CONSUL_CLIENT_KEY);
  if ((clientcert === undefined) !== (clientkey === undefined)) {
    throw new Error('consul tls: clientcert and clientkey go together (CONSUL_CLIENT_CERT / CONSUL_CLIENT_KEY)');
  }
  const ca = [
    ...(cafile !== undefined ? [readPem(cafile, 'consul tls.cafile')] : []),
    ...(capath !== undefined ? readCaDir(capath) : []),
  ];
  const settings: ConsulSettings = {
    host: parsed.host,
    port: parsed.port,
    secure: scheme === 'https',
    tls: { verify },
    url: `${scheme}://${parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host}:${parsed.port}`,
  };
  const token = config.token ?? nonEmpty(env.CONSUL_HTTP_TOKEN);
  if (token !== undefined) settings.token = token;
  if (ca.length > 0) settings.tls.ca = ca;
  if (clientcert !== undefined) settings.tls.cert = readPem(clientcert, 'consul tls.clientcert');
  if (clientkey !== undefined) settings.tls.key = readPem(clientkey, 'consul tls.clientkey');
  const servername = tls.servername ?? nonEmpty(env.CONSUL_TLS_SERVER_NAME);
  if (servername !== undefined) settings.tls.servername = servername;
  return settings;
}
