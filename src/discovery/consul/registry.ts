/**
 * The Consul backend of ServiceRegistry (docs/discovery.md).
 *
 * Callers record intent synchronously (register, heartbeat, deregister, maintenance); one
 * worker sends it to the agent, one request at a time, so the order of a service's calls is
 * kept and a slow or absent agent never blocks a caller. What is sent is the *latest* intent:
 * heartbeats that pile up during an outage collapse into one status update.
 *
 * - An agent that forgot a service (restart without state; "Unknown check ID") gets it
 *   registered again, then the status.
 * - An unreachable agent (or a 5xx): the worker waits with backoff (0.5 s doubling to 30 s)
 *   and tries again; the outage is logged once when it starts and once when it ends — not
 *   per heartbeat. A 403 is logged as an ACL problem, naming the token's source.
 * - The backoff never holds back news: a new intent (a heartbeat, a registration) during
 *   the wait tries at once (at most every MIN_PROBE_GAP_MS), as ContainerPilot and Consul's
 *   own agent do, which try on every TTL update; and any call the agent answers (a watch's
 *   query too) ends the wait and resets the backoff. So after an outage, heartbeats are back
 *   at their cadence with the first beat, not after a backoff that grew meanwhile.
 * - A request the agent rejects as malformed (other 4xx) is logged and dropped.
 */
import type { SupervisorLogger as Logger } from '../../log/logger.js';
import type {
  CatalogQueryOptions,
  CatalogResult,
  CheckStatus,
  Discovery,
  RegisteredService,
  ServiceDefinition,
} from '../types.js';
import { ConsulApi, ConsulCallError } from './api.js';
import type { ConsulSettings } from './settings.js';

const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** A new intent during a backoff tries at once, but not more often than this. */
const MIN_PROBE_GAP_MS = 500;

export interface ConsulRegistryOptions {
  /** The first retry delay after a failure (doubles up to backoffMaxMs). Default 500 ms. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** The request step() sent last, so a refusal drops that one and nothing else. */
type Attempt =
  | { kind: 'deregister'; id: string }
  | { kind: 'register'; state: ServiceState }
  | { kind: 'ttl'; state: ServiceState; update: NonNullable<ServiceState['pending']> };

interface ServiceState {
  def: ServiceDefinition;
  /** Should be in the agent (false while in maintenance). */
  wanted: boolean;
  /** The agent has it, as far as we know. */
  inAgent: boolean;
  /** A status to send, if any: only the latest is kept. */
  pending: { status: CheckStatus; output: string } | null;
  /** The last status the agent accepted. */
  sent: CheckStatus | null;
}

export class ConsulRegistry implements Discovery {
  readonly kind = 'consul' as const;
  private readonly api: ConsulApi;
  private readonly states = new Map<string, ServiceState>();
  /** Service IDs to remove from the agent. */
  private readonly deregistrations = new Set<string>();
  private maintenance = false;
  private closed = false;

  private working = false;
  /** What step() is sending (for dropping exactly that on a refusal). */
  private attempt: Attempt | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private backoffMs: number;
  /** When the worker last sent a request (for MIN_PROBE_GAP_MS). */
  private lastTry = 0;
  /** The failure being retried (logged once), or null when the agent answers. */
  private outage: string | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly settings: ConsulSettings,
    private readonly log: Logger,
    api?: ConsulApi,
    opts: ConsulRegistryOptions = {},
  ) {
    this.api = api ?? new ConsulApi(settings);
    this.backoffInitialMs = opts.backoffInitialMs ?? BACKOFF_INITIAL_MS;
    this.backoffMaxMs = opts.backoffMaxMs ?? BACKOFF_MAX_MS;
    this.backoffMs = this.backoffInitialMs;
  }

  register(service: ServiceDefinition): void {
    if (this.closed) return;
    this.deregistrations.delete(service.id);
    const wanted = !this.maintenance;
    this.states.set(service.id, { def: service, wanted, inAgent: false, pending: null, sent: null });
    this.news();
  }

  heartbeat(serviceId: string, status: CheckStatus, output = ''): void {
    const s = this.states.get(serviceId);
    if (!s || this.closed || this.maintenance) return;
    if (!s.wanted) {
      // Back after maintenance: register again, with the status this heartbeat brings.
      s.wanted = true;
      s.inAgent = false;
      this.deregistrations.delete(serviceId);
    }
    s.pending = { status, output };
    this.news();
  }

  deregister(serviceId: string): void {
    this.states.delete(serviceId);
    this.deregistrations.add(serviceId);
    this.kick();
  }

  setMaintenance(on: boolean): boolean {
    if (on === this.maintenance) return false;
    this.maintenance = on;
    if (on) {
      for (const s of this.states.values()) {
        s.wanted = false;
        s.inAgent = false;
        s.pending = null;
        this.deregistrations.add(s.def.id);
      }
      this.kick();
    }
    return true;
  }

  async close(timeoutMs: number): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const id of this.states.keys()) this.deregistrations.add(id);
      this.states.clear();
      // Shutdown does not wait out a backoff: one try now, bounded by timeoutMs.
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.kick();
    }
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.idle(), bound]);
    clearTimeout(timer);
    if (this.deregistrations.size > 0) {
      this.log.warn(
        `consul: ${this.deregistrations.size} service(s) could not be deregistered before shutdown (${this.outage ?? 'no answer in time'})`,
      );
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.api.destroy();
  }

  services(): RegisteredService[] {
    return [...this.states.values()].map(({ def, inAgent, sent }) => ({
      id: def.id,
      name: def.name,
      address: def.address,
      port: def.port,
      tags: [...def.tags],
      registered: inAgent,
      status: inAgent && sent !== null ? sent : 'unknown',
    }));
  }

  healthyInstances(service: string, options?: CatalogQueryOptions): Promise<CatalogResult> {
    return this.api.healthyInstances(service, options).then((result) => {
      this.agentAnswered();
      return result;
    });
  }

  /** Resolves when there is nothing left to send (for close and tests). */
  idle(): Promise<void> {
    if (!this.working && !this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ---------------------------------------------------------------------------

  private hasWork(): boolean {
    if (this.deregistrations.size > 0) return true;
    for (const s of this.states.values()) if (s.wanted && (!s.inAgent || s.pending)) return true;
    return false;
  }

  /** New intent: during a backoff, try now rather than when it ends (bounded by MIN_PROBE_GAP_MS). */
  private news(): void {
    if (this.retryTimer && Date.now() - this.lastTry >= MIN_PROBE_GAP_MS) this.retryNow();
    else this.kick();
  }

  /** The agent answered some call: whatever waits for a retry goes now, with the backoff reset. */
  private agentAnswered(): void {
    this.backoffMs = this.backoffInitialMs;
    if (this.retryTimer) this.retryNow();
  }

  private retryNow(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.kick();
  }

  private kick(): void {
    if (this.working || this.retryTimer) return;
    this.working = true;
    void this.work().finally(() => {
      this.working = false;
      if (this.retryTimer) return;
      // Closing gives the agent one try: no retry loop against an agent that is down.
      if (this.hasWork() && !(this.closed && this.outage !== null)) return this.kick();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    });
  }

  /** Send what is pending, one request at a time. Never throws. */
  private async work(): Promise<void> {
    try {
      while (this.hasWork()) {
        await this.step();
        this.recovered();
      }
    } catch (err) {
      this.failed(err);
    }
  }

  private async step(): Promise<void> {
    this.lastTry = Date.now();
    const [dereg] = this.deregistrations;
    if (dereg !== undefined) {
      this.attempt = { kind: 'deregister', id: dereg };
      await this.api.deregisterService(dereg);
      this.deregistrations.delete(dereg);
      return;
    }
    for (const s of this.states.values()) {
      if (!s.wanted) continue;
      if (!s.inAgent) {
        // Register with the status we are about to report, so the check never flaps to critical first.
        const status = s.pending?.status ?? s.def.initialStatus;
        this.attempt = { kind: 'register', state: s };
        await this.api.registerService(s.def, status);
        if (this.states.get(s.def.id) === s) {
          s.inAgent = true;
          s.sent = status ?? 'critical'; // Consul's default for a new check
        }
        return;
      }
      if (s.pending) {
        const update = s.pending;
        this.attempt = { kind: 'ttl', state: s, update };
        try {
          await this.api.updateTtl(`service:${s.def.id}`, update.status, update.output);
        } catch (err) {
          if (err instanceof ConsulCallError && err.kind === 'forgotten') {
            this.log.info({ service: s.def.id }, `consul: the agent forgot service ${s.def.id}; registering it again`);
            s.inAgent = false; // the next step registers it, then sends the status
            return;
          }
          throw err;
        }
        s.sent = update.status;
        if (s.pending === update) s.pending = null;
        return;
      }
    }
  }

  private failed(err: unknown): void {
    const e = err instanceof ConsulCallError ? err : new ConsulCallError('unreachable', String(err));
    if (e.kind === 'rejected') {
      // Retrying cannot help: drop what was refused, keep the rest going.
      this.log.error(`consul refused a request: ${e.message}`);
      this.dropAttempt();
      return;
    }
    const message =
      e.kind === 'acl'
        ? `consul at ${this.settings.url} rejected the ACL token (${this.tokenSource()}): ${e.message}. ` +
          `Check that the token exists and its policy grants service:write (and node/service read for watches)`
        : `consul at ${this.settings.url} is unreachable: ${e.message}`;
    if (this.outage === null) {
      this.log[e.kind === 'acl' ? 'error' : 'warn'](`${message}; jobs keep running, retrying with backoff`);
    } else if (this.outage !== message && e.kind === 'acl') {
      this.log.error(message);
    }
    this.outage = message;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.backoffMaxMs);
    if (this.closed) return; // close() gives up at its bound; no retry timer outlives it
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  private recovered(): void {
    this.backoffMs = this.backoffInitialMs;
    if (this.outage === null) return;
    this.outage = null;
    this.log.info(`consul at ${this.settings.url} answers again; catching up`);
  }

  /**
   * Drops exactly the request that was refused. (Not "the first piece of work now": the
   * queue may have changed while the request was in flight.)
   */
  private dropAttempt(): void {
    const a = this.attempt;
    this.attempt = null;
    if (a === null) return;
    if (a.kind === 'deregister') {
      this.deregistrations.delete(a.id);
    } else if (a.kind === 'register') {
      // A definition the agent refuses: stop trying it (unless it was replaced meanwhile).
      if (this.states.get(a.state.def.id) === a.state) this.states.delete(a.state.def.id);
    } else if (a.state.pending === a.update) {
      a.state.pending = null;
    }
  }

  private tokenSource(): string {
    if (this.settings.token === undefined) return 'no token given: set consul.token or CONSUL_HTTP_TOKEN';
    return 'from consul.token or CONSUL_HTTP_TOKEN';
  }
}
