/**
 * Whatever the input, the pipeline (render → parse → validate) returns a Config or
 * throws ConfigErrors (or UsageError): never a crash, never another exception.
 * A Config it returns always satisfies the normalized invariants.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import JSON5 from 'json5';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigErrors, UsageError } from '../../../src/config/errors.js';
import { loadConfigText } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/types.js';
import { MAX_DURATION_MS } from '../../../src/config/validate/scalars.js';

const dir = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.json5'))
  .map((f) => readFileSync(dir + f, 'utf8'));
const fixtureValues = fixtures.map((t) => JSON5.parse(t) as unknown);

const ENV = { CONSUL: 'consul', PORT: '8080', EMPTY: '' };

/** A usable wait: finite, not negative, and within the bound every duration field has (10 years). */
function isDuration(n: unknown): boolean {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= MAX_DURATION_MS;
}

/** The invariants every consumer of a Config relies on. */
function checkInvariants(cfg: Config): void {
  expect(typeof cfg.file).toBe('string');
  expect(isDuration(cfg.stopTimeout)).toBe(true);
  const names = new Set<string>();
  for (const j of cfg.jobs) {
    // A second job of one name is `name#k` (docs/containerpilot.md#duplicate-job-names).
    if (j.duplicateOf) expect(j.name).toBe(`${j.duplicateOf.name}#${j.name.split('#')[1]}`);
    expect(j.name).toMatch(j.duplicateOf ? /^[A-Za-z0-9_-]+#[2-9][0-9]*$/ : /^[A-Za-z0-9_-]+$/);
    expect(names.has(j.name)).toBe(false);
    names.add(j.name);
    if (j.exec) {
      expect(j.exec.length).toBeGreaterThan(0);
      expect(j.exec.every((a) => typeof a === 'string')).toBe(true);
    }
    expect(j.restarts === Infinity || (Number.isInteger(j.restarts) && j.restarts >= 0)).toBe(true);
    expect(isDuration(j.stopTimeout)).toBe(true);
    if (j.timeout !== undefined) expect(j.timeout).toBeGreaterThanOrEqual(1);
    if (j.when.kind === 'interval') expect(j.when.interval).toBeGreaterThanOrEqual(1);
    if (j.health) {
      expect(j.health.interval).toBeGreaterThanOrEqual(1);
      expect(j.health.ttl).toBeGreaterThanOrEqual(1);
      expect(j.health.timeout).toBeGreaterThanOrEqual(1);
    }
    if (j.port !== undefined) {
      expect(j.port).toBeGreaterThanOrEqual(1);
      expect(j.port).toBeLessThanOrEqual(65535);
      expect(j.health).toBeDefined();
      expect(j.duplicateOf?.name ?? j.name).toMatch(/^[a-z][a-zA-Z0-9-]+$/); // the name it registers under
    }
    expect(j.restartBackoff.factor).toBeGreaterThanOrEqual(1);
    expect(j.restartBackoff.initial).toBeLessThanOrEqual(j.restartBackoff.max);
    expect(j.interfaces.length).toBeGreaterThan(0);
  }
  if (cfg.main !== undefined) expect(names.has(cfg.main)).toBe(true);
  for (const w of cfg.watches) expect(w.interval).toBeGreaterThanOrEqual(1);
}

function runPipeline(text: string): void {
  let cfg: Config;
  try {
    cfg = loadConfigText(text, ENV, 'f.json5');
  } catch (err) {
    if (err instanceof UsageError) return;
    if (!(err instanceof ConfigErrors)) throw err;
    expect(err.errors.length).toBeGreaterThan(0);
    for (const e of err.errors) {
      expect(e.file).toBe('f.json5');
      expect(typeof e.message).toBe('string');
      expect(e.message.length).toBeGreaterThan(0);
      if (e.line !== undefined) expect(e.line).toBeGreaterThanOrEqual(1);
    }
    return;
  }
  checkInvariants(cfg);
}

// ---------------------------------------------------------------------------
// Arbitraries

/** Values that stress every reader: wrong types, edge numbers, near-miss words. */
const weird = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1,
    1.5,
    65536,
    1e21,
    '',
    ' ',
    '0',
    '5',
    '-5',
    '1.5',
    '5s',
    '-1s',
    '0.5ms',
    '1ns',
    'unlimited',
    'never',
    'unlimted',
    'SIGHUP',
    'SIGUSR2',
    'healthy',
    'exitSuccess',
    'stopping',
    'eth0',
    'inet6',
    'static:1.2.3.4',
    '10.0.0.0/8',
    'passing',
    'warning',
    'DEBUG',
    'json',
    'TERM',
    'SIGSTOP',
    'counter',
    'histogram',
    'https://c:1',
    'tcp://x',
    '{{ .X }}',
    'a',
    'app',
    'my_app',
    'watch.app',
    [],
    {},
    [1, 0],
    ['x'],
    { raw: true },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

const KEYS = [
  'consul',
  'logging',
  'jobs',
  'watches',
  'control',
  'telemetry',
  'stopTimeout',
  'state',
  'main',
  'name',
  'exec',
  'when',
  'timeout',
  'restarts',
  'restartBackoff',
  'stopSignal',
  'health',
  'port',
  'initial_status',
  'tags',
  'meta',
  'interfaces',
  'source',
  'once',
  'each',
  'interval',
  'ttl',
  'raw',
  'level',
  'format',
  'output',
  'address',
  'scheme',
  'token',
  'tls',
  'verify',
  'metrics',
  'type',
  'help',
  'buckets',
  'factor',
  'max',
  'initial',
  'resetAfter',
  'enableTagOverride',
  'deregisterCriticalServiceAfter',
  'socket',
  'dir',
  'keepRuns',
  'helth',
  '__proto__',
];

/** Config-shaped objects built from the known field names and weird values. */
const { node: shaped } = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    weird,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('node'), { maxKeys: 5 }),
  ),
}));

/** A fixture with one value somewhere replaced by something weird. */
const mutatedValue = fc
  .tuple(fc.constantFrom(...fixtureValues), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), shaped)
  .map(([base, steps, replacement]) => {
    const root = structuredClone(base) as Record<string, unknown>;
    let cur: unknown = root;
    let parent: Record<string | number, unknown> | undefined;
    let key: string | number | undefined;
    for (const step of steps) {
      if (typeof cur !== 'object' || cur === null) break;
      const keys = Array.isArray(cur) ? cur.map((_, i) => i) : Object.keys(cur);
      if (keys.length === 0) break;
      parent = cur as Record<string | number, unknown>;
      key = keys[step % keys.length];
      cur = parent[key];
    }
    if (parent && key !== undefined) parent[key] = replacement;
    return JSON5.stringify(root, null, 2);
  });

/** A fixture's text with a slice cut out, something pasted in, or both. */
const mutatedText = fc
  .tuple(fc.constantFrom(...fixtures), fc.nat(), fc.nat({ max: 40 }), fc.string({ maxLength: 12 }))
  .map(([text, at, cut, paste]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + paste + text.slice(i + cut);
  });

const jsonish = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON5.stringify(v)),
  shaped.map((v) => JSON5.stringify(v) ?? ''),
);

describe('the load pipeline never fails in an unexpected way (property)', () => {
  beforeAll(() => void vi.spyOn(console, 'warn').mockImplementation(() => {}));
  afterAll(() => vi.restoreAllMocks());

  it('random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), runPipeline), { numRuns: 400 });
  });

  it('random text built from JSON5 and template characters', () => {
    const chars = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ':',
      ',',
      '"',
      "'",
      ' ',
      '\n',
      'a',
      '1',
      '.',
      '-',
      '/',
      '*',
      '{{',
      '}}',
      '|',
      '$',
      'jobs',
      'name',
    );
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 40 }).map((a) => a.join('')),
        runPipeline,
      ),
      { numRuns: 800 },
    );
  });

  it('random JSON / JSON5 values', () => {
    fc.assert(fc.property(jsonish, runPipeline), { numRuns: 500 });
  });

  it('config-shaped objects', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...KEYS), shaped, { maxKeys: 6 }), (obj) =>
        runPipeline(JSON5.stringify(obj)),
      ),
      { numRuns: 600 },
    );
  });

  it('valid configs with a value replaced', () => {
    fc.assert(fc.property(mutatedValue, runPipeline), { numRuns: 600 });
  });

  it('valid configs with text cut and pasted', () => {
    fc.assert(fc.property(mutatedText, runPipeline), { numRuns: 500 });
  });
});
