/**
 * The few Consul HTTP API calls pidpilot makes, through the `consul` npm client, and the
 * classification of their failures. The client is loaded on first use (`import()`), so a
 * configuration without `consul` never pays for loading it.
 */
import { EventEmitter } from 'node:events';
import type { Agent as HttpsAgent } from 'node:https';
import type ConsulClient from 'consul';
import type { CatalogQueryOptions, CatalogResult, CheckStatus, ServiceDefinition, ServiceInstance } from '../types.js';
import type { ConsulSettings } from './settings.js';

/** Bound on one non-blocking request: a hung agent must not hold the registration queue for long. */
export const REQUEST_TIMEOUT_MS = 10_000;

/** Why a call failed, which decides what the registry does next. */
export type FailureKind =
  /** No answer, or the agent cannot serve (5xx): retry with backoff. */
  | 'unreachable'
  /** 403: the token is missing, unknown, or lacks a permission. */
  | 'acl'
  /** The agent does not know the check (it restarted and forgot): register again. */
  | 'forgotten'
  /** Any other 4xx: this request will never succeed as is. */
  | 'rejected';

export class ConsulCallError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** papi's ResponseError carries the response; transport errors carry a code. */
interface PapiError extends Error {
  response?: { statusCode?: number; body?: unknown };
  code?: string;
}

function classify(err: unknown, call: string): ConsulCallError {
  const e = err as PapiError;
  const status = e?.response?.statusCode;
  const body = typeof e?.response?.body === 'string' ? e.response.body.trim() : '';
  const detail = body || (e instanceof Error ? e.message.replace(/^consul: [\w.]+: /, '') : String(err));
  if (status === undefined) return new ConsulCallError('unreachable', `${call}: ${detail}`);
  if (status === 403) return new ConsulCallError('acl', `${call}: 403 ${detail}`, status);
  if (status === 404 || (status === 500 && /does not have associated TTL|Unknown check/i.test(detail))) {
    return new ConsulCallError('forgotten', `${call}: ${status} ${detail}`, status);
  }
  if (status >= 500 || status === 429) return new ConsulCallError('unreachable', `${call}: ${status} ${detail}`, status);
  return new ConsulCallError('rejected', `${call}: ${status} ${detail}`, status);
}

/** The client's request method for endpoints whose helper drops fields (EnableTagOverride). */
interface RawClient {
  _put(req: Record<string, unknown>, next: (request: { err?: unknown }, cb: (...a: unknown[]) => void) => void): Promise<unknown>;
}

const VERB: Record<CheckStatus, 'pass' | 'warn' | 'fail'> = { passing: 'pass', warning: 'warn', critical: 'fail' };

export class ConsulApi {
  private client: Promise<ConsulClient> | null = null;
  private httpsAgent: HttpsAgent | null = null;

  constructor(readonly settings: ConsulSettings) {}

  /** The client, loaded with `import()` on first use (node:https too: the default path loads neither). */
  private get(): Promise<ConsulClient> {
    this.client ??= (async () => {
      const s = this.settings;
      const { default: Consul } = await import('consul');
      const options: ConstructorParameters<typeof Consul>[0] = { host: s.host, port: s.port, secure: s.secure };
      if (s.token !== undefined) options.defaults = { token: s.token };
      if (s.secure) {
        const { Agent } = await import('node:https');
        this.httpsAgent = new Agent({
          keepAlive: true,
          ca: s.tls.ca,
          cert: s.tls.cert,
          key: s.tls.key,
          servername: s.tls.servername,
          rejectUnauthorized: s.tls.verify,
        });
        options.agent = this.httpsAgent;
      }
      return new Consul(options);
    })();
    return this.client;
  }

  async registerService(def: ServiceDefinition, status: CheckStatus | undefined): Promise<void> {
    const client = (await this.get()) as unknown as RawClient;
    const check: Record<string, unknown> = {
      CheckID: `service:${def.id}`,
      TTL: `${def.ttlMs}ms`,
      Notes: `TTL for ${def.name} set by pidpilot`,
    };
    if (status !== undefined) check.Status = status;
    if (def.deregisterCriticalServiceAfterMs !== undefined) check.DeregisterCriticalServiceAfter = `${def.deregisterCriticalServiceAfterMs}ms`;
    const body = {
      ID: def.id,
      Name: def.name,
      Tags: def.tags,
      Address: def.address,
      Port: def.port,
      Meta: def.meta,
      EnableTagOverride: def.enableTagOverride,
      Check: check,
    };
    const headers: Record<string, string> = {};
    if (this.settings.token !== undefined) headers['x-consul-token'] = this.settings.token;
    try {
      await client._put(
        { name: 'agent.service.register', path: '/agent/service/register', type: 'json', body, headers, timeout: REQUEST_TIMEOUT_MS },
        (request, next) => (request.err ? next(false, request.err) : next(false, undefined, undefined)),
      );
    } catch (err) {
      throw classify(err, `register ${def.id}`);
    }
  }

  async deregisterService(id: string): Promise<void> {
    const client = await this.get();
    try {
      // The typings omit papi's per-request `timeout`, which the client passes on.
      await client.agent.service.deregister({ id, timeout: REQUEST_TIMEOUT_MS } as { id: string });
    } catch (err) {
      const e = classify(err, `deregister ${id}`);
      // Already gone (the agent forgot it, or a reaper removed it): that is what we wanted.
      if (e.kind === 'forgotten') return;
      throw e;
    }
  }

  async updateTtl(checkId: string, status: CheckStatus, output: string): Promise<void> {
    const client = await this.get();
    const opts = { id: checkId, note: output, timeout: REQUEST_TIMEOUT_MS };
    try {
      await client.agent.check[VERB[status]](opts as { id: string });
    } catch (err) {
      throw classify(err, `update check ${checkId}`);
    }
  }

  async healthyInstances(service: string, options: CatalogQueryOptions = {}): Promise<CatalogResult> {
    const client = await this.get();
    const signal = options.signal;
    if (signal?.aborted) throw new ConsulCallError('unreachable', `health of ${service}: aborted`);
    // papi cancels a request when its context emits `cancel`; includeResponse gives the headers.
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const query: Record<string, unknown> = { service, passing: true, ctx, timeout: REQUEST_TIMEOUT_MS };
    if (options.tag !== undefined) query.tag = options.tag;
    if (options.dc !== undefined) query.dc = options.dc;
    if (options.index !== undefined && options.index > 0) {
      const wait = options.waitMs ?? 5 * 60_000;
      query.index = String(options.index);
      query.wait = `${wait}ms`;
      // Consul may hold the request up to wait + wait/16 of jitter.
      query.timeout = wait + Math.ceil(wait / 16) + REQUEST_TIMEOUT_MS;
    }
    let onAbort = (): void => {};
    // An abort answers at once, even if it comes before papi listens for `cancel`.
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => {
        ctx.emit('cancel');
        reject(new ConsulCallError('unreachable', `health of ${service}: aborted`));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const call = client.health.service(query as unknown as Parameters<typeof client.health.service>[0]) as unknown as Promise<
        [{ headers: Record<string, string | undefined> }, HealthEntry[]]
      >;
      const [res, body] = await Promise.race([call, aborted]);
      const index = Number(res.headers['x-consul-index'] ?? '0');
      return { instances: body.map(toInstance), index: Number.isFinite(index) ? index : 0 };
    } catch (err) {
      throw err instanceof ConsulCallError ? err : classify(err, `health of ${service}`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Close kept-alive connections so nothing holds the process open. */
  async destroy(): Promise<void> {
    if (this.client) (await this.client.catch(() => null))?.destroy();
    this.httpsAgent?.destroy();
  }
}

interface HealthEntry {
  Node?: { Address?: string };
  Service: { ID: string; Service: string; Address?: string; Port: number; Tags?: string[] | null };
}

function toInstance(e: HealthEntry): ServiceInstance {
  return {
    id: e.Service.ID,
    name: e.Service.Service,
    // Consul's rule: a service without its own address is reached at its node's.
    address: e.Service.Address || e.Node?.Address || '',
    port: e.Service.Port,
    tags: e.Service.Tags ?? [],
  };
}
