/**
 * Event codes and the event record. Codes keep ContainerPilot's names so `when`
 * clauses from ContainerPilot files mean the same thing here.
 */
export const EVENT_CODES = [
  'startup',
  'shutdown',
  'exitSuccess',
  'exitFailed',
  'healthy',
  'unhealthy',
  'stopping',
  'stopped',
  'changed',
  'enterMaintenance',
  'exitMaintenance',
  'timerExpired',
  // pidpilot additions
  'ready',
  'failed',
  'cleanupSuccess',
  'cleanupFailed',
] as const;

export type EventCode = (typeof EVENT_CODES)[number] | 'signal';

/** Sources of the signal events a job can be triggered by. */
export const SIGNAL_SOURCES = ['SIGHUP', 'SIGUSR2'] as const;

export interface BusEvent {
  /** Global sequence number, starting at 1. */
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly code: EventCode;
  readonly source: string;
}

/** Source used for events published by the supervisor itself (startup, shutdown, maintenance). */
export const GLOBAL_SOURCE = 'global';

export function isEventCode(s: string): s is EventCode {
  return (EVENT_CODES as readonly string[]).includes(s) || s === 'signal';
}
