/**
 * Readers for pidpilot's job extensions of docs/configuration.md that ContainerPilot has no
 * equivalent of: `dependsOn`, `setup`, `env`, `user` and the built-in health checks
 * `health.http` / `health.tcp`. Cross-job rules (a dependency names a job, no cycles,
 * the default condition) need every job and live in `dependencies.ts`.
 */
import type { DependencyCondition, HttpCheckConfig, TcpCheckConfig, UserSpec } from '../types.js';
import { field, isPlainObject, type Reader, readArray, readObject } from './core.js';
import { exec, int, oneOf, str } from './scalars.js';

export const DEPENDENCY_CONDITIONS: readonly DependencyCondition[] = ['healthy', 'succeeded', 'started'];

/** A dependency as written: the condition is resolved later, once every job is known. */
export interface DependencyDraft {
  job: string;
  condition?: DependencyCondition;
}

export const DEPENDENCY_FIELDS = {
  job: field(str({ nonEmpty: true }), true),
  condition: field(oneOf(DEPENDENCY_CONDITIONS)),
};

const dependency: Reader<DependencyDraft> = (v, at) => {
  if (typeof v === 'string') return str({ nonEmpty: true })(v, at) === undefined ? undefined : { job: v };
  if (!isPlainObject(v)) {
    at.expected('a job name or {job, condition}', v);
    return undefined;
  }
  const f = readObject(v, at, DEPENDENCY_FIELDS);
  if (!f || f.job === undefined) return undefined;
  return f.condition === undefined ? { job: f.job } : { job: f.job, condition: f.condition };
};

/** `dependsOn`: one name, or a list of names / `{job, condition}`; a job listed twice is a mistake. */
export const dependsOn: Reader<DependencyDraft[]> = (v, at) => {
  const list = readArray(typeof v === 'string' ? [v] : v, at, dependency, 'a list of job names or {job, condition}');
  if (list === undefined) return undefined;
  const seen = new Set<string>();
  let ok = true;
  list.forEach((d, i) => {
    if (seen.has(d.job)) {
      at.child(i).error(`${JSON.stringify(d.job)} is listed twice`, { expected: 'each dependency once' });
      ok = false;
    }
    seen.add(d.job);
  });
  return ok ? list : undefined;
};

/** `setup`: a list of commands (each a string or an argv array), run in order. */
export const setup: Reader<string[][]> = (v, at) => {
  const list = readArray(v, at, exec, 'a list of commands');
  return list && list.length === (v as unknown[]).filter((x) => x !== null && x !== undefined).length
    ? list
    : undefined;
};

/** A POSIX-ish environment name: what `env` and `putenv` can set without surprises. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `env`: names to strings (numbers and booleans become their text, as in templated files). */
export const env: Reader<Record<string, string>> = (v, at) => {
  if (!isPlainObject(v)) {
    at.expected('an object of environment variables', v);
    return undefined;
  }
  const out: Record<string, string> = {};
  let ok = true;
  for (const [key, val] of Object.entries(v)) {
    const item = at.child(key);
    if (!ENV_NAME.test(key)) {
      item.error(`${JSON.stringify(key)} is not a valid environment variable name`, {
        atKey: true,
        expected: 'a name matching ^[A-Za-z_][A-Za-z0-9_]*$',
      });
      ok = false;
    } else if (typeof val === 'string' && val.includes('\0')) {
      // The kernel's environment is NUL-terminated strings: such a value cannot be passed to a child.
      item.error('an environment value cannot contain a NUL byte (\\u0000)', {
        expected: 'a string without NUL bytes',
      });
      ok = false;
    } else if (
      typeof val === 'string' ||
      (typeof val === 'number' && Number.isFinite(val)) ||
      typeof val === 'boolean'
    ) {
      Object.defineProperty(out, key, { value: String(val), enumerable: true, writable: true, configurable: true });
    } else {
      item.expected('a string', val);
      ok = false;
    }
  }
  return ok ? out : undefined;
};

const ID = /^[0-9]+$/;
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;
const USER_EXPECTED = 'a user name, "name:group", a uid, or "uid:gid"';

/** `user`: "name", "name:group", uid, "uid" or "uid:gid". Names are looked up when the job starts. */
export const user: Reader<UserSpec> = (v, at) => {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return { uid: v };
  if (typeof v !== 'string') {
    at.expected(USER_EXPECTED, v);
    return undefined;
  }
  const [u = '', g, ...rest] = v.trim().split(':');
  if (rest.length === 0 && ID.test(u) && (g === undefined || ID.test(g))) {
    return g === undefined ? { uid: Number(u) } : { uid: Number(u), gid: Number(g) };
  }
  if (rest.length === 0 && NAME.test(u) && (g === undefined || NAME.test(g) || ID.test(g))) {
    return g === undefined ? { name: u } : { name: u, group: g };
  }
  at.expected(USER_EXPECTED, v);
  return undefined;
};

/** An HTTP token (RFC 9110), which is what Node accepts as a method. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const httpMethod: Reader<string> = (v, at) => {
  if (typeof v === 'string' && HTTP_TOKEN.test(v)) return v;
  at.expected('an HTTP method such as "GET" or "HEAD"', v);
  return undefined;
};

export const HTTP_CHECK_FIELDS = {
  url: field(str({ nonEmpty: true }), true),
  method: field(httpMethod),
  expectStatus: field(int({ min: 100, max: 599, what: 'an HTTP status from 100 to 599' })),
};

function httpUrl(v: string, at: Parameters<Reader<unknown>>[1]): string | undefined {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    at.expected('an http:// or https:// URL', v);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    at.expected('an http:// or https:// URL', v);
    return undefined;
  }
  return url.href;
}

/** `health.http`: a URL, or `{url, method, expectStatus}`. */
export const httpCheck: Reader<HttpCheckConfig> = (v, at) => {
  if (typeof v === 'string') {
    const url = httpUrl(v, at);
    return url === undefined ? undefined : { url, method: 'GET' };
  }
  const f = readObject(v, at, HTTP_CHECK_FIELDS, 'a URL or {url, method, expectStatus}');
  if (!f || f.url === undefined) return undefined;
  const url = httpUrl(f.url, at.child('url'));
  if (url === undefined) return undefined;
  const out: HttpCheckConfig = { url, method: (f.method ?? 'GET').toUpperCase() };
  if (f.expectStatus !== undefined) out.expectStatus = f.expectStatus;
  return out;
};

/** `health.tcp`: "host:port" (IPv6 as "[::1]:port"). */
export const tcpCheck: Reader<TcpCheckConfig> = (v, at) => {
  const expected = '"host:port", like "127.0.0.1:5432"';
  const m = typeof v === 'string' ? /^(?:\[([^\]]+)\]|([^:\s]+)):([0-9]{1,5})$/.exec(v.trim()) : null;
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    at.expected(expected, v);
    return undefined;
  }
  return { host: (m[1] ?? m[2])!, port };
};
