/**
 * A job's health checks as effects: one check at a time (`exec`, `http` or `tcp`), its output
 * relayed under `check.<job>`, its result published on that source after its last output
 * line, its duration reported, and `checkDone` pushed onto the job's queue.
 */
import type { HealthConfig } from '../config/types.js';
import type { Bus } from '../events/bus.js';
import type { CheckEnd } from '../events/observers.js';
import type { SupervisorLogger as Logger } from '../log/logger.js';
import type { ProcessRun } from '../process/run.js';
import { describeExit, exitEvent } from './after-exit.js';
import type { InputSink } from './effects.js';
import { type BuiltinCheck, httpCheck, tcpCheck } from './health.js';
import { type Relay, relayRunOutput } from './run-output.js';

/** Starts a process of the job (its environment, user and working directory). */
export type StartProcess = (
  argv: readonly string[],
  timeout: number | undefined,
  stopSignal: NodeJS.Signals,
  raw: boolean,
) => ProcessRun;

/** What the checks need of the job's host (runtime.ts's JobHost has it). */
export interface CheckHost {
  readonly bus: Bus;
  relay: Relay;
  checkEnded(check: CheckEnd): void;
}

export class HealthRunner {
  private readonly source: string;
  private check: { stop(): void } | null = null;
  /** How the last health check ended, in words (with its last output line), computed when asked. */
  private lastCheck: () => string = () => 'no check ran yet';

  constructor(
    job: string,
    private readonly health: HealthConfig,
    private readonly host: CheckHost,
    private readonly log: Logger,
    private readonly push: InputSink,
    private readonly startProcess: StartProcess,
  ) {
    this.source = `check.${job}`;
  }

  start(id: number): void {
    const health = this.health;
    if (!health.exec)
      return this.startBuiltin(
        id,
        health.http ? httpCheck(health.http, health.timeout) : tcpCheck(health.tcp!, health.timeout),
      );
    const check = this.startProcess(health.exec, health.timeout, 'SIGTERM', health.logging.raw);
    const handle = { stop: () => void check.stop(0, 'stop') };
    this.check = handle;
    const tail = { text: '' };
    const output = relayRunOutput(this.host, check, this.source, tail);
    // Like a run's exit, the result is published after the check's last output line (which the warning quotes).
    void check.result.then(async (record) => {
      await output;
      if (this.check === handle) this.check = null;
      this.lastCheck = () => {
        const line = tail.text.trimEnd().split('\n').pop()?.trim();
        return line ? `${describeExit(record)}: ${line}` : describeExit(record);
      };
      if (record.outcome === 'errored') this.log.warn(`health check could not run: ${record.reason ?? 'unknown'}`);
      if (record.outcome !== 'aborted') {
        this.host.checkEnded({ outcome: record.outcome, durationMs: record.durationMs });
        this.host.bus.publish(exitEvent(record), this.source);
      }
      this.push({ kind: 'checkDone', check: id });
    });
  }

  /** `health.http` / `health.tcp`: published exactly like an exec check's exit. */
  private startBuiltin(id: number, check: BuiltinCheck): void {
    this.check = check;
    const startedAt = performance.now();
    void check.result.then((result) => {
      if (this.check === check) this.check = null;
      this.lastCheck = () => result.reason ?? result.outcome;
      if (result.outcome !== 'succeeded' && result.outcome !== 'aborted')
        this.log.debug(`health check failed: ${result.reason ?? result.outcome}`);
      if (result.outcome !== 'aborted') {
        this.host.checkEnded({ outcome: result.outcome, durationMs: performance.now() - startedAt });
        this.host.bus.publish(result.outcome === 'succeeded' ? 'exitSuccess' : 'exitFailed', this.source);
      }
      this.push({ kind: 'checkDone', check: id });
    });
  }

  lastDetail(): string {
    return this.lastCheck();
  }

  stop(): void {
    this.check?.stop();
    this.check = null;
  }
}
