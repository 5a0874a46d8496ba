import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigErrors, editDistance, nearest, UsageError } from '../../../src/config/errors.js';
import { childPath, parentPath } from '../../../src/config/paths.js';

describe('editDistance (optimal string alignment)', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['health', 'health', 0],
    ['helth', 'health', 1],
    ['tll', 'ttl', 1], // one transposition, not two substitutions
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3],
  ])('%j ↔ %j = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('nearest', () => {
  const jobFields = [
    'name',
    'exec',
    'health',
    'port',
    'restarts',
    'initial_status',
    'interfaces',
    'tags',
    'timeout',
    'stopTimeout',
  ];
  it.each([
    ['helth', 'health'],
    ['restart', 'restarts'],
    ['initialStatus', 'initial_status'], // case and separators do not count
    ['INITIAL-STATUS', 'initial_status'],
    ['stoptimeout', 'stopTimeout'],
    ['interface', 'interfaces'],
    ['tag', 'tags'],
    ['exe', 'exec'],
    ['stop', 'stopTimeout'], // a truncated name
  ])('%j → %j', (typo, want) => expect(nearest(typo, jobFields)).toBe(want));

  it('offers nothing when nothing is close', () => {
    expect(nearest('zzzzzz', jobFields)).toBeUndefined();
    expect(nearest('abc', ['xyz'])).toBeUndefined();
    expect(nearest('x', [])).toBeUndefined();
  });

  it('never suggests the name itself', () => {
    expect(nearest('tags', ['tags'])).toBeUndefined();
  });
});

describe('ConfigError', () => {
  it('prints file:line:col: path: message', () => {
    const e = new ConfigError({
      file: 'pidpilot.json5',
      line: 12,
      column: 5,
      path: 'jobs[2].health.interval',
      message: 'expected a duration like "5s" or a number of seconds, got "five"',
    });
    expect(e.toString()).toBe(
      'pidpilot.json5:12:5: jobs[2].health.interval: expected a duration like "5s" or a number of seconds, got "five"',
    );
    expect(String(e)).toBe(e.toString());
  });

  it('leaves out what it does not know', () => {
    expect(new ConfigError({ file: 'f.json5', path: '', message: 'empty' }).toString()).toBe('f.json5: empty');
    expect(new ConfigError({ file: 'f.json5', line: 3, path: 'x', message: 'm' }).toString()).toBe('f.json5:3: x: m');
  });

  it('marks positions in rendered output', () => {
    const e = new ConfigError({ file: 'f.json5', line: 3, column: 1, path: 'x', message: 'm', rendered: true });
    expect(e.toString()).toBe('f.json5 (rendered):3:1: x: m');
  });

  it('serializes only what is set', () => {
    const e = new ConfigError({ file: 'f', path: 'a', message: 'm', suggestion: 'b', expected: 'x' });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      file: 'f',
      path: 'a',
      message: 'm',
      suggestion: 'b',
      expected: 'x',
    });
  });
});

describe('ConfigErrors', () => {
  it('carries every error and lists them one per line', () => {
    const a = new ConfigError({ file: 'f', line: 1, column: 2, path: 'a', message: 'first' });
    const b = new ConfigError({ file: 'f', line: 3, column: 4, path: 'b', message: 'second' });
    const err = new ConfigErrors([a, b]);
    expect(err).toBeInstanceOf(Error);
    expect(err.errors).toEqual([a, b]);
    expect(err.message).toBe('f:1:2: a: first\nf:3:4: b: second');
    expect(err.toJSON()).toEqual({
      errors: [
        { file: 'f', line: 1, column: 2, path: 'a', message: 'first' },
        { file: 'f', line: 3, column: 4, path: 'b', message: 'second' },
      ],
    });
  });

  it('UsageError is a distinct Error', () => {
    const u = new UsageError('no config');
    expect(u).toBeInstanceOf(Error);
    expect(u).not.toBeInstanceOf(ConfigErrors);
    expect(u.name).toBe('UsageError');
  });
});

describe('paths', () => {
  it('builds user-facing paths', () => {
    expect(childPath('', 'jobs')).toBe('jobs');
    expect(childPath('jobs', 2)).toBe('jobs[2]');
    expect(childPath('jobs[2]', 'health')).toBe('jobs[2].health');
    expect(childPath('jobs[0].meta', 'a-b')).toBe('jobs[0].meta["a-b"]');
    expect(childPath('', 'with space')).toBe('["with space"]');
  });

  it.each([
    ['jobs[2].health.interval', 'jobs[2].health'],
    ['jobs[2].health', 'jobs[2]'],
    ['jobs[2]', 'jobs'],
    ['jobs', ''],
    ['', ''],
    ['jobs[0].meta["a.b"]', 'jobs[0].meta'],
    ['jobs[0].meta["x[1]"]', 'jobs[0].meta'],
    ['["a\\"]b"]', ''],
    ['[3]', ''],
  ])('parent of %j is %j', (p, parent) => expect(parentPath(p)).toBe(parent));
});
