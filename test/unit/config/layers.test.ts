/** Layered configuration (src/config/layers.ts) through loadConfig on real files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import JSON5 from 'json5';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigErrors } from '../../../src/config/errors.js';
import { MAX_DEPTH } from '../../../src/config/json5.js';
import { loadConfig, renderConfigFile } from '../../../src/config/load.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pidpilot-layers-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** How the loader names a file in messages. */
const shown = (p: string) => {
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') ? p : rel;
};

function errorsOf(paths: string[]) {
  try {
    loadConfig(paths, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    return (err as ConfigErrors).errors.map((e) => ({ file: e.file, line: e.line, path: e.path, message: e.message }));
  }
  throw new Error('expected ConfigErrors');
}

const BASE = `{
  logging: { level: "INFO", format: "text" },
  stopTimeout: "5s",
  jobs: [
    { name: "db", exec: "postgres", env: { A: "1", B: "2" }, restarts: "unlimited" },
    { name: "web", exec: ["node", "server.js"], port: 8080,
      health: { exec: "curl -f localhost:8080", interval: 5, ttl: 10 } },
    { name: "worker", exec: "worker --queue", when: { source: "db", once: "healthy" } },
  ],
  watches: [ { name: "redis", interval: 5 } ],
}
`;

describe('layers', () => {
  it('a later layer adds jobs, overrides fields of a same-name job, merges env, replaces or removes a job whole', () => {
    const base = write('base.json5', BASE);
    const local = write(
      'local.json5',
      `{
  logging: { level: "DEBUG" },
  jobs: [
    { name: "db", exec: "postgres -d", env: { B: "two", C: "3" } },
    { name: "worker", override: "replace", exec: "worker --local" },
    { name: "web", override: "remove" },
    { name: "mail", exec: "mailpit" },
  ],
}
`,
    );
    const c = loadConfig([base, local], {});
    expect(c.files).toEqual([base, local]);
    expect(c.file).toBe(base);
    expect(c.logging).toMatchObject({ level: 'debug', format: 'text' });
    expect(c.jobs.map((j) => j.name)).toEqual(['db', 'worker', 'mail']);
    const db = c.jobs[0]!;
    expect(db.exec).toEqual(['postgres', '-d']);
    expect(db.env).toEqual({ A: '1', B: 'two', C: '3' });
    expect(db.restarts).toBe(Infinity);
    // Replaced whole: the base's `when` is gone with it.
    expect(c.jobs[1]).toMatchObject({ exec: ['worker', '--local'], when: { kind: 'startup' } });
    expect(c.watches.map((w) => w.name)).toEqual(['redis']);
  });

  it('names the layer and line of every error, also after entries moved', () => {
    const base = write('base2.json5', BASE.replace('restarts: "unlimited"', 'restarts: "sometimes"'));
    const local = write(
      'local2.json5',
      `{
  jobs: [
    { name: "web", override: "remove" },
    { name: "db", stopTimeout: "ten" },
    { name: "mail", exec: "mailpit",
      timeout: "forever" },
    { name: "ghost", override: "remove" },
  ],
  watches: [ { name: "redis", interval: "soon" } ],
}
`,
    );
    const errors = errorsOf([base, local]);
    const find = (path: string) => errors.find((e) => e.path === path);
    expect(find('jobs[0].restarts')).toMatchObject({ file: shown(base), line: 5 });
    expect(find('jobs[0].stopTimeout')).toMatchObject({ file: shown(local), line: 4 });
    // `mail` is jobs[3] in the second layer and jobs[2] once `web` is removed.
    expect(find('jobs[2].timeout')).toMatchObject({ file: shown(local), line: 6 });
    expect(find('watches[0].interval')).toMatchObject({ file: shown(local), line: 9 });
    expect(find('jobs[3].override')).toMatchObject({
      file: shown(local),
      line: 7,
      message: expect.stringMatching(/no earlier layer has a job named "ghost"/),
    });
    expect(errors).toHaveLength(5);
  });

  it('an unknown override value is an error in its layer, with the choices', () => {
    const base = write('base3.json5', BASE);
    const local = write('local3.json5', '{\n  jobs: [\n    { name: "db", override: "replcae" },\n  ],\n}\n');
    expect(errorsOf([base, local])).toEqual([
      expect.objectContaining({
        file: shown(local),
        line: 3,
        path: 'jobs[0].override',
        message: expect.stringMatching(/did you mean "replace"/),
      }),
    ]);
  });

  it('syntax errors of several layers are all reported, each in its file', () => {
    const a = write('bad-a.json5', '{ jobs: [ }');
    const b = write('bad-b.json5', '{\n  jobs: [,]\n}');
    const files = errorsOf([a, b]).map((e) => e.file);
    expect(files).toEqual([shown(a), shown(b)]);
  });

  it('a layer nested past the limit is a syntax error in that layer', () => {
    const a = write('ok-a.json5', BASE);
    const b = write('deep-b.json5', `{\n  jobs: ${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}\n}`);
    const errors = errorsOf([a, b]);
    expect(errors).toEqual([
      {
        file: shown(b),
        line: 2,
        path: '',
        message: `syntax error: nesting deeper than ${MAX_DEPTH} levels of objects and arrays`,
      },
    ]);
  });

  it('render shows the merged result, which loads to the same configuration', () => {
    const base = write('base4.json5', BASE);
    const local = write(
      'local4.json5',
      '{ jobs: [ { name: "db", env: { C: "{{ .X }}" } }, { name: "web", override: "replace", exec: "true" } ] }',
    );
    const text = renderConfigFile([base, local], { X: 'rendered' });
    const merged = JSON5.parse(text) as { jobs: { name: string; env?: object; override?: string }[] };
    expect(merged.jobs[0]!.env).toEqual({ A: '1', B: '2', C: 'rendered' });
    expect(merged.jobs[1]).toEqual({ name: 'web', exec: 'true' });
    const again = write('merged4.json5', text);
    const { file: _f, files: _fs, ...fromMerged } = loadConfig(again, {});
    const { file: _g, files: _gs, ...fromLayers } = loadConfig([base, local], { X: 'rendered' });
    expect(fromMerged).toEqual(fromLayers);
  });
});

describe('layers: only a layering problem', () => {
  it('removing a job no earlier layer has is the one error', () => {
    const base = write('base5.json5', BASE);
    const local = write('local5.json5', '{\n  jobs: [ { name: "nope", override: "remove" } ],\n}\n');
    expect(errorsOf([base, local])).toEqual([
      expect.objectContaining({ file: shown(local), line: 2, path: 'jobs[0].override' }),
    ]);
  });
});
