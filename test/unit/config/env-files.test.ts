/** Env files (src/config/env-files.ts) through loadConfig on real files. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateEnv } from '../../../src/config/env-files.js';
import { ConfigErrors } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pidpilot-envfile-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dir(name: string): string {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

describe('envFile', () => {
  it('folds files into each job: pidpilot env < top-level envFile < job envFile < job env; lists in order', () => {
    const d = dir('prec');
    writeFileSync(join(d, 'common.env'), 'A=common\nB=common\nC=common\nD=common\n# a comment\nQUOTED="two words"\n');
    writeFileSync(join(d, 'more.env'), 'D=more\n');
    mkdirSync(join(d, 'web'));
    writeFileSync(join(d, 'web', 'web.env'), 'export B=web\nC=web\n');
    const file = join(d, 'pidpilot.json5');
    writeFileSync(
      file,
      `{ envFile: ["common.env", "more.env"], jobs: [
        { name: "web", exec: "true", envFile: "web/web.env", env: { C: "env" } },
        { name: "other", exec: "true" },
      ] }`,
    );
    const c = loadConfig(file, { A: 'process' });
    expect(c.jobs[0]!.env).toEqual({ A: 'common', B: 'web', C: 'env', D: 'more', QUOTED: 'two words' });
    expect(c.jobs[1]!.env).toEqual({ A: 'common', B: 'common', C: 'common', D: 'more', QUOTED: 'two words' });
    expect(c.envFile).toEqual(['common.env', 'more.env']);
  });

  it('a missing or unreadable env file is a config error naming the field', () => {
    const d = dir('missing');
    const file = join(d, 'pidpilot.json5');
    writeFileSync(file, '{ jobs: [ { name: "web", exec: "true", envFile: "nope.env" } ] }');
    let err: unknown;
    try {
      loadConfig(file, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigErrors);
    expect((err as ConfigErrors).errors.map((e) => e.toString())).toEqual([
      expect.stringMatching(/jobs\[0\]\.envFile: cannot read the env file "nope.env": no such file/),
    ]);
  });

  it('is validated: a number is not a file name', () => {
    const d = dir('bad');
    const file = join(d, 'pidpilot.json5');
    writeFileSync(file, '{ envFile: 3, jobs: [] }');
    expect(() => loadConfig(file, {})).toThrow(ConfigErrors);
  });
});

describe('.env for templates', () => {
  it('next to the config, in local mode, under the process environment', () => {
    const d = dir('dotenv');
    writeFileSync(join(d, '.env'), 'PORT=3000\nNAME=from-dotenv\n');
    const file = join(d, 'pidpilot.json5');
    writeFileSync(file, '{ jobs: [ { name: "web", exec: "serve {{ .PORT }} {{ .NAME }}" } ] }');
    expect(loadConfig(file, { NAME: 'from-process' }).jobs[0]!.exec).toEqual(['serve', '3000', 'from-process']);
    // Only for rendering: the jobs' environment does not get it.
    expect(loadConfig(file, {}).jobs[0]!.env).toEqual({});
  });

  it('PIDPILOT_DOTENV=0 turns it off; PIDPILOT_DOTENV=FILE reads that file; not by default as PID 1', () => {
    const d = dir('dotenv2');
    writeFileSync(join(d, '.env'), 'X=default\n');
    writeFileSync(join(d, 'other.env'), 'X=other\n');
    const file = join(d, 'pidpilot.json5');
    expect(templateEnv(file, { PIDPILOT_DOTENV: '0' }).X).toBeUndefined();
    expect(templateEnv(file, { PIDPILOT_DOTENV: join(d, 'other.env') }).X).toBe('other');
    expect(templateEnv(file, {}, { pid1: true }).X).toBeUndefined();
    expect(templateEnv(file, { PIDPILOT_DOTENV: join(d, 'other.env') }, { pid1: true }).X).toBe('other');
    expect(templateEnv(file, {}, { pid1: false }).X).toBe('default');
    // No .env is nothing; a named file that is missing is an error.
    expect(templateEnv(join(tmp, 'none', 'p.json5'), {}, { pid1: false })).toEqual({});
    expect(() => templateEnv(file, { PIDPILOT_DOTENV: join(d, 'absent.env') })).toThrow(ConfigErrors);
  });
});
