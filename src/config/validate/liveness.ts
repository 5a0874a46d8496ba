/**
 * The liveness, readiness and teardown fields of a job (issue 17), none of which
 * ContainerPilot had:
 *   health.failureThreshold / successThreshold / startPeriod / onUnhealthy,
 *   restartLimit {burst, interval}, notify, watchdog, notifyTimeout, cleanup, cleanupTimeout.
 * The defaults keep ContainerPilot's behaviour: one failure turns a job unhealthy, one pass
 * healthy again, and nothing else happens.
 */
import type { HealthLiveness, JobLiveness, RestartLimit } from '../types.js';
import { type At, type FieldsOf, field, type Reader, readObject } from './core.js';
import { setup } from './lifecycle.js';
import { bool, duration, int, oneOf } from './scalars.js';

const SECOND = 1000;
export const DEFAULT_CLEANUP_TIMEOUT = 10 * SECOND;
export const ON_UNHEALTHY = ['none', 'restart', 'stop'] as const;

const threshold = int({ min: 1, max: 1000, what: 'a whole number from 1 to 1000' });

/** Added to HEALTH_FIELDS (validate/job.ts). */
export const HEALTH_LIVENESS_FIELDS = {
  failureThreshold: field(threshold),
  successThreshold: field(threshold),
  startPeriod: field(duration()),
  onUnhealthy: field(oneOf(ON_UNHEALTHY)),
};

export function healthLiveness(f: FieldsOf<typeof HEALTH_LIVENESS_FIELDS>): HealthLiveness {
  return {
    failureThreshold: f.failureThreshold ?? 1,
    successThreshold: f.successThreshold ?? 1,
    startPeriod: f.startPeriod ?? 0,
    onUnhealthy: f.onUnhealthy ?? 'none',
  };
}

export const RESTART_LIMIT_FIELDS = {
  burst: field(int({ min: 1, max: 1_000_000, what: 'a whole number ≥ 1' }), true),
  interval: field(duration({ minMs: 1 }), true),
};

const restartLimit: Reader<RestartLimit> = (v, at) => {
  const f = readObject(v, at, RESTART_LIMIT_FIELDS, 'an object like { burst: 5, interval: "1m" }');
  return f && f.burst !== undefined && f.interval !== undefined ? { burst: f.burst, interval: f.interval } : undefined;
};

/** Added to JOB_FIELDS (validate/job.ts). */
export const JOB_LIVENESS_FIELDS = {
  restartLimit: field(restartLimit),
  notify: field(bool),
  watchdog: field(duration({ minMs: 1 })),
  notifyTimeout: field(duration({ minMs: 1 })),
  cleanup: field(setup),
  cleanupTimeout: field(duration({ minMs: 1 })),
};

/**
 * The job's liveness settings, after the rules between fields: a watchdog is fed through
 * sd_notify, so it needs `notify`; `notify` and a restart on unhealthy need a process.
 */
export function jobLiveness(
  f: FieldsOf<typeof JOB_LIVENESS_FIELDS>,
  job: { exec: boolean; health?: HealthLiveness },
  at: At,
): JobLiveness | undefined {
  let ok = true;
  if (f.watchdog !== undefined && f.notify !== true) {
    at.child('watchdog').error(
      '`watchdog` needs `notify: true`: the job feeds the watchdog by sending WATCHDOG=1 to $NOTIFY_SOCKET',
      {
        expected: 'notify: true',
      },
    );
    ok = false;
  }
  if (f.notifyTimeout !== undefined && f.notify !== true) {
    at.child('notifyTimeout').error('`notifyTimeout` needs `notify: true`: it bounds the wait for READY=1', {
      expected: 'notify: true',
    });
    ok = false;
  }
  if (f.notify === true && !job.exec) {
    at.child('notify').error("`notify` needs `exec`: readiness comes from the job's process", {
      expected: 'a job with exec',
    });
    ok = false;
  }
  if (job.health?.onUnhealthy === 'restart' && !job.exec) {
    at.child('health')
      .child('onUnhealthy')
      .error('`onUnhealthy: "restart"` needs `exec`: there is no process to restart', {
        expected: '"none" or "stop"',
      });
    ok = false;
  }
  if (!ok) return undefined;
  const out: JobLiveness = {
    notify: f.notify ?? false,
    cleanup: f.cleanup ?? [],
    cleanupTimeout: f.cleanupTimeout ?? DEFAULT_CLEANUP_TIMEOUT,
  };
  if (f.restartLimit !== undefined) out.restartLimit = f.restartLimit;
  if (f.watchdog !== undefined) out.watchdog = f.watchdog;
  if (f.notifyTimeout !== undefined) out.notifyTimeout = f.notifyTimeout;
  return out;
}
