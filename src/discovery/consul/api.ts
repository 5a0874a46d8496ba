/**
 * The few Consul HTTP API calls pidpilot makes (over ./http.ts), and the classification of
 * their failures. Nothing is loaded before the first call, so a configuration without
 * `consul` never pays for it.
 */
import type { CatalogQueryOptions, CatalogResult, CheckStatus, ServiceDefinition, ServiceInstance } from '../types.js';
import { ConsulHttp, type ConsulRequest, type ConsulResponse } from './http.js';
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

/** A failure without an answer (refused, reset, timed out, aborted). */
function unreachable(err: unknown, call: string): ConsulCallError {
  return new ConsulCallError('unreachable', `${call}: ${err instanceof Error ? err.message : String(err)}`);
}

/** A non-2xx answer; the detail is the agent's text, or the status's name when it sent none. */
function classify(res: ConsulResponse, call: string): ConsulCallError {
  const status = res.status;
  const detail = res.body.trim() || res.statusText.toLowerCase() || `request failed: ${status}`;
  if (status === 403) return new ConsulCallError('acl', `${call}: 403 ${detail}`, status);
  if (status === 404 || (status === 500 && /does not have associated TTL|Unknown check/i.test(detail))) {
    return new ConsulCallError('forgotten', `${call}: ${status} ${detail}`, status);
  }
  if (status >= 500 || status === 429)
    return new ConsulCallError('unreachable', `${call}: ${status} ${detail}`, status);
  return new ConsulCallError('rejected', `${call}: ${status} ${detail}`, status);
}

const VERB: Record<CheckStatus, 'pass' | 'warn' | 'fail'> = { passing: 'pass', warning: 'warn', critical: 'fail' };

export class ConsulApi {
  private readonly http: ConsulHttp;

  constructor(readonly settings: ConsulSettings) {
    this.http = new ConsulHttp(settings);
  }

  /** Sends `r`; resolves with a 2xx answer, throws a classified ConsulCallError otherwise. */
  private async call(r: ConsulRequest, what: string): Promise<ConsulResponse> {
    let res: ConsulResponse;
    try {
      res = await this.http.send(r);
    } catch (err) {
      throw unreachable(err, what);
    }
    if (res.status < 200 || res.status > 299) throw classify(res, what);
    return res;
  }

  async registerService(def: ServiceDefinition, status: CheckStatus | undefined): Promise<void> {
    const check: Record<string, unknown> = {
      CheckID: `service:${def.id}`,
      TTL: `${def.ttlMs}ms`,
      Notes: `TTL for ${def.name} set by pidpilot`,
    };
    if (status !== undefined) check.Status = status;
    const reapAfter = def.deregisterCriticalServiceAfterMs;
    if (reapAfter !== undefined) check.DeregisterCriticalServiceAfter = `${reapAfter}ms`;
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
    await this.call(
      { method: 'PUT', path: '/agent/service/register', body, timeoutMs: REQUEST_TIMEOUT_MS },
      `register ${def.id}`,
    );
  }

  async deregisterService(id: string): Promise<void> {
    try {
      const path = `/agent/service/deregister/${encodeURIComponent(id)}`;
      await this.call({ method: 'PUT', path, timeoutMs: REQUEST_TIMEOUT_MS }, `deregister ${id}`);
    } catch (err) {
      // Already gone (the agent forgot it, or a reaper removed it): that is what we wanted.
      if (err instanceof ConsulCallError && err.kind === 'forgotten') return;
      throw err;
    }
  }

  async updateTtl(checkId: string, status: CheckStatus, output: string): Promise<void> {
    const query: Record<string, string> = {};
    if (output) query.note = output;
    const path = `/agent/check/${VERB[status]}/${encodeURIComponent(checkId)}`;
    await this.call({ method: 'PUT', path, query, timeoutMs: REQUEST_TIMEOUT_MS }, `update check ${checkId}`);
  }

  async healthyInstances(service: string, options: CatalogQueryOptions = {}): Promise<CatalogResult> {
    const what = `health of ${service}`;
    const query: Record<string, string> = { passing: 'true' };
    if (options.tag !== undefined) query.tag = options.tag;
    if (options.dc !== undefined) query.dc = options.dc;
    let timeoutMs = REQUEST_TIMEOUT_MS;
    if (options.index !== undefined && options.index > 0) {
      const wait = options.waitMs ?? 5 * 60_000;
      query.index = String(options.index);
      query.wait = `${wait}ms`;
      // Consul may hold the request up to wait + wait/16 of jitter.
      timeoutMs = wait + Math.ceil(wait / 16) + REQUEST_TIMEOUT_MS;
    }
    const path = `/health/service/${encodeURIComponent(service)}`;
    const res = await this.call({ method: 'GET', path, query, timeoutMs, signal: options.signal }, what);
    let body: HealthEntry[];
    try {
      body = JSON.parse(res.body) as HealthEntry[];
      if (!Array.isArray(body)) throw new Error('not a list');
    } catch (err) {
      throw new ConsulCallError('unreachable', `${what}: the answer is not a JSON list (${(err as Error).message})`);
    }
    const index = Number(res.headers['x-consul-index'] ?? '0');
    return { instances: body.map(toInstance), index: Number.isFinite(index) ? index : 0 };
  }

  /** Close kept-alive connections so nothing holds the process open. */
  async destroy(): Promise<void> {
    await this.http.destroy();
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
