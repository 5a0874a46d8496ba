/** Shared by the config tests: run text through parse + validate (no template, no files). */
import { expect } from 'vitest';
import { type ConfigError, ConfigErrors } from '../../../src/config/errors.js';
import { parseJson5 } from '../../../src/config/parse.js';
import type { Config, JobConfig } from '../../../src/config/types.js';
import { validateConfig } from '../../../src/config/validate/config.js';

export const FILE = 'pidpilot.json5';

export function check(text: string): Config {
  const { value, positions } = parseJson5(text, FILE);
  return validateConfig(value, { file: FILE, positions });
}

/** The errors `text` produces; fails the test when it is valid or throws anything else. */
export function errorsOf(text: string): readonly ConfigError[] {
  try {
    check(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    return (err as ConfigErrors).errors;
  }
  throw new Error(`expected configuration errors, but this is valid:\n${text}`);
}

/** The only error `text` produces. */
export function errorOf(text: string): ConfigError {
  const errs = errorsOf(text);
  expect(errs.map(String)).toHaveLength(1);
  return errs[0];
}

/** A config with one job made of `body` (JSON5 members), the job on line 2. */
export function oneJob(body: string): string {
  return `{ jobs: [\n  { ${body} }\n] }`;
}

export function job(body: string): JobConfig {
  const cfg = check(oneJob(body));
  expect(cfg.jobs).toHaveLength(1);
  return cfg.jobs[0];
}

/** Line and column of the first occurrence of `needle` in `text` (1-based), for asserting positions. */
export function posOf(text: string, needle: string, nth = 0): { line: number; column: number } {
  let idx = -1;
  for (let i = 0; i <= nth; i++) {
    idx = text.indexOf(needle, idx + 1);
    if (idx < 0) throw new Error(`${needle} not found`);
  }
  const before = text.slice(0, idx);
  const line = before.split('\n').length;
  const column = idx - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

export interface Expect {
  path: string;
  /** Text whose first character the error must point at (first occurrence, or the `nth`). */
  at?: string;
  nth?: number;
  /** Characters to skip after the start of `at` (to point inside it). */
  skip?: number;
  message: string | RegExp;
  suggestion?: string;
}

/** Asserts that `text` fails with exactly this one error (path, position, message, suggestion). */
export function expectError(text: string, want: Expect): ConfigError {
  const e = errorOf(text);
  expectMatches(e, text, want);
  return e;
}

export function expectMatches(e: ConfigError, text: string, want: Expect): void {
  expect(e.path).toBe(want.path);
  expect(e.file).toBe(FILE);
  if (want.at !== undefined) {
    const p = posOf(text, want.at, want.nth);
    p.column += want.skip ?? 0;
    expect({ line: e.line, column: e.column }).toEqual(p);
  }
  if (typeof want.message === 'string') expect(e.message).toBe(want.message);
  else expect(e.message).toMatch(want.message);
  expect(e.suggestion).toBe(want.suggestion);
}
