/**
 * Validation of the bodies of ContainerPilot's mutating endpoints. Everything is
 * checked before anything is applied: a request with one bad entry changes nothing.
 * ContainerPilot answered 422 (Unprocessable Entity) to bodies it could not use.
 */
import { parseDuration } from '../config/duration.js';
import { entryProblem } from './env-limits.js';
import { HttpError } from './http.js';
import type { EnvChanges, MetricRecorder } from './target.js';

/** POSIX's portable environment names (letters, digits, `_`, not starting with a digit). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{"K": "v"}` sets, `{"K": ""}` or `{"K": null}` unsets (docs/control-api.md). */
export function envChanges(body: unknown): EnvChanges {
  if (!isPlainObject(body))
    throw new HttpError(422, 'expected a JSON object of environment variables, like {"KEY": "value"}');
  // No prototype: a key like "__proto__" must be data, never a prototype change.
  const changes = Object.create(null) as Record<string, string | null>;
  const badNames: string[] = [];
  const badValues: string[] = [];
  const tooBig: string[] = [];
  for (const [name, value] of Object.entries(body)) {
    if (!ENV_NAME.test(name)) badNames.push(name);
    else if (value === null || value === '') changes[name] = null;
    else if (typeof value !== 'string' || value.includes('\0')) badValues.push(name);
    else {
      const problem = entryProblem(name, value);
      if (problem === null) changes[name] = value;
      else tooBig.push(problem);
    }
  }
  if (tooBig.length > 0) throw new HttpError(422, `${tooBig.join('; ')}: nothing was changed`);
  if (badNames.length > 0) {
    throw new HttpError(
      422,
      `invalid environment variable name${badNames.length === 1 ? '' : 's'}: ${badNames.map((n) => JSON.stringify(n)).join(', ')} (use letters, digits and _, not starting with a digit)`,
      { names: badNames },
    );
  }
  if (badValues.length > 0) {
    throw new HttpError(
      422,
      `values must be strings (or null/"" to unset), without NUL bytes: ${badValues.join(', ')}`,
      { names: badValues },
    );
  }
  return changes;
}

/** `{"metric": 1.5}` (numbers or numeric strings, as `-putmetric K=V` sends them), resolved to exposed names. */
export function metricValues(body: unknown, metrics: MetricRecorder | null): Array<[string, number]> {
  if (!isPlainObject(body)) throw new HttpError(422, 'expected a JSON object of metric values, like {"my_metric": 1}');
  const values: Array<[string, number]> = [];
  const unknown: string[] = [];
  const notNumbers: string[] = [];
  const decreasing: string[] = [];
  for (const [key, raw] of Object.entries(body)) {
    const metric = metrics?.resolve(key);
    if (metric === undefined) {
      unknown.push(key);
      continue;
    }
    const value =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw.trim()) : NaN;
    if (!Number.isFinite(value)) notNumbers.push(key);
    else if (metric.type === 'counter' && value < 0) decreasing.push(key);
    else values.push([metric.name, value]);
  }
  if (unknown.length > 0) {
    const why = metrics === null ? 'telemetry is not configured' : 'not declared under telemetry.metrics';
    throw new HttpError(422, `unknown metric${unknown.length === 1 ? '' : 's'} (${why}): ${unknown.join(', ')}`, {
      metrics: unknown,
    });
  }
  if (notNumbers.length > 0)
    throw new HttpError(422, `metric values must be finite numbers: ${notNumbers.join(', ')}`, { metrics: notNumbers });
  if (decreasing.length > 0)
    throw new HttpError(422, `a counter only goes up: negative value for ${decreasing.join(', ')}`, {
      metrics: decreasing,
    });
  return values;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** The stop timeout from `?timeout=` or the body's `timeout` (a Go duration, or whole seconds as in the config file). */
/** `{"replicas": N}` of `scale`: N a whole number (its range is the job's, checked by the supervisor). */
export function replicasOf(body: unknown): number {
  const n = isPlainObject(body) ? body.replicas : undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new HttpError(
      422,
      `expected a JSON object like {"replicas": 3}, with a whole number; got ${JSON.stringify(body) ?? 'no body'}`,
    );
  return n;
}

export function stopTimeout(query: URLSearchParams, body: unknown): number | undefined {
  let raw: unknown = query.get('timeout') ?? undefined;
  if (raw === undefined && isPlainObject(body)) raw = body.timeout;
  if (raw === undefined) {
    if (body !== undefined && !isPlainObject(body))
      throw new HttpError(400, 'expected a JSON object like {"timeout": "5s"}');
    return undefined;
  }
  const parsed = parseDuration(raw);
  if (!parsed.ok) throw new HttpError(400, `invalid timeout: ${parsed.reason}`);
  // Node runs a timer over 2^31-1 ms after 1 ms: a huge timeout would kill at once.
  if (parsed.ms < 0 || parsed.ms > MAX_TIMER_MS)
    throw new HttpError(400, `invalid timeout: must be between 0s and ${(MAX_TIMER_MS / 86_400_000) | 0} days`);
  return parsed.ms;
}
