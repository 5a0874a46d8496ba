/**
 * A watch (docs/discovery.md): follows the healthy instances of one service (by `tag`, in `dc`) and
 * publishes, from source `watch.<name>`:
 * - `changed` when the set of instances (ID, address, port) differs from the last answer;
 * - then `healthy` if it went from none (or not known yet) to some, `unhealthy` if from some
 *   to none.
 * The same answer never publishes twice. The first answer with no instance publishes
 * nothing (ContainerPilot's behaviour: nothing changed from "nothing known").
 *
 * Instead of polling every `interval` like ContainerPilot, it asks with a blocking query on
 * the last index, so an unchanged service costs one long-held request instead of a request
 * per interval; `interval` still spaces two answers, so a flapping service publishes at
 * most once per interval, as it did.
 *
 * A failing query is retried every `interval` and logged once per outage.
 */
import type { WatchConfig } from '../config/types.js';
import type { CatalogResult, ServiceCatalog, ServiceInstance } from '../discovery/types.js';
import type { EventCode } from '../events/event.js';
import { type LongTimer, setLongTimeout } from '../events/long-timer.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';

/** How long one blocking query may be held (Consul's default wait is 5 minutes, its maximum 10). */
export const BLOCKING_WAIT_MS = 5 * 60_000;

export const WATCH_SOURCE_PREFIX = 'watch.';

export function watchSource(name: string): string {
  return WATCH_SOURCE_PREFIX + name;
}

export interface WatchSnapshot {
  name: string;
  /** Healthy instances in the last answer; null before the first one. */
  instances: number | null;
  /** Whether the last query failed. */
  failing: boolean;
}

/** The identity of an answer: what a change is measured on. */
function fingerprint(instances: readonly ServiceInstance[]): string {
  return instances
    .map((i) => `${i.id}\u0000${i.address}\u0000${i.port}`)
    .sort()
    .join('\u0001');
}

export class Watch {
  readonly source: string;
  private readonly abort = new AbortController();
  private last: { fingerprint: string; count: number } | null = null;
  private index = 0;
  private failing = false;
  private sleepTimer: LongTimer | null = null;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    readonly config: WatchConfig,
    private readonly catalog: ServiceCatalog,
    private readonly publish: (code: EventCode, source: string) => void,
    private readonly log: Logger,
  ) {
    this.source = watchSource(config.name);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stop querying; resolves once the loop has ended (an in-flight query is aborted). */
  stop(): Promise<void> {
    this.abort.abort();
    this.sleepTimer?.clear();
    this.wake?.();
    return this.loop ?? Promise.resolve();
  }

  snapshot(): WatchSnapshot {
    return { name: this.config.name, instances: this.last?.count ?? null, failing: this.failing };
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      await this.pollOnce();
      await this.sleep(this.config.interval);
    }
  }

  /** One query and what it publishes. Never throws. */
  private async pollOnce(): Promise<void> {
    let answer: CatalogResult;
    try {
      answer = await this.catalog.healthyInstances(this.config.name, {
        tag: this.config.tag,
        dc: this.config.dc,
        index: this.index,
        waitMs: BLOCKING_WAIT_MS,
        signal: this.abort.signal,
      });
    } catch (err) {
      if (this.abort.signal.aborted) return;
      if (!this.failing) {
        this.failing = true;
        const acl =
          (err as { kind?: string }).kind === 'acl'
            ? ' (the ACL token was rejected: it needs service:read and node:read)'
            : '';
        this.log.warn(
          { watch: this.config.name },
          `watch ${this.config.name}: query failed${acl}, retrying every ${this.config.interval}ms: ${errorText(err)}`,
        );
      }
      this.index = 0;
      return;
    }
    if (this.abort.signal.aborted) return;
    if (this.failing) {
      this.failing = false;
      this.log.info({ watch: this.config.name }, `watch ${this.config.name}: query works again`);
    }
    // Consul's rules for the next index: reset if it went backwards, and never below 1.
    this.index = answer.index < this.index ? 0 : Math.max(1, answer.index);
    this.consider(answer.instances);
  }

  private consider(instances: readonly ServiceInstance[]): void {
    const fp = fingerprint(instances);
    const before = this.last;
    this.last = { fingerprint: fp, count: instances.length };
    if (before === null ? instances.length === 0 : before.fingerprint === fp) return;
    this.publish('changed', this.source);
    const wasHealthy = before !== null && before.count > 0;
    if (!wasHealthy && instances.length > 0) this.publish('healthy', this.source);
    else if (wasHealthy && instances.length === 0) this.publish('unhealthy', this.source);
  }

  private sleep(ms: number): Promise<void> {
    if (this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = null;
        resolve();
      };
      this.sleepTimer = setLongTimeout(() => this.wake?.(), ms);
    });
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
