/** Finding, reading, rendering and loading the file; fingerprints. Real temp files and env objects. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigErrors, UsageError } from '../../../src/config/errors.js';
import {
  configFingerprint,
  findConfigPath,
  loadConfig,
  loadConfigText,
  renderConfigFile,
} from '../../../src/config/load.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pidpilot-config-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

function loadErrors(path: string, env: Record<string, string | undefined> = {}) {
  try {
    loadConfig(path, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigErrors);
    return (err as ConfigErrors).errors;
  }
  throw new Error('expected ConfigErrors');
}

describe('findConfigPath', () => {
  it('-config wins, then PIDPILOT, then CONTAINERPILOT', () => {
    const env = { PIDPILOT: '/p.json5', CONTAINERPILOT: '/c.json5' };
    expect(findConfigPath({ flag: '/f.json5', env, cwd: tmp })).toBe('/f.json5');
    expect(findConfigPath({ flag: undefined, env, cwd: tmp })).toBe('/p.json5');
    expect(findConfigPath({ env: { CONTAINERPILOT: '/c.json5' }, cwd: tmp })).toBe('/c.json5');
  });

  it('ignores empty values', () => {
    expect(findConfigPath({ flag: '', env: { PIDPILOT: '', CONTAINERPILOT: '/c.json5' }, cwd: tmp })).toBe('/c.json5');
  });

  it('resolves relative paths against cwd', () => {
    expect(findConfigPath({ flag: 'etc/x.json5', env: {}, cwd: '/srv' })).toBe('/srv/etc/x.json5');
    expect(findConfigPath({ env: { CONTAINERPILOT: 'cp.json5' }, cwd: '/srv' })).toBe('/srv/cp.json5');
  });

  it('falls back to ./pidpilot.json5 when it exists', () => {
    const dir = join(tmp, 'with-local');
    mkdirSync(dir);
    writeFileSync(join(dir, 'pidpilot.json5'), '{}');
    expect(findConfigPath({ env: {}, cwd: dir })).toBe(join(dir, 'pidpilot.json5'));
  });

  it('otherwise is a usage error', () => {
    const dir = join(tmp, 'empty-dir');
    mkdirSync(dir);
    expect(() => findConfigPath({ env: {}, cwd: dir })).toThrow(UsageError);
    expect(() => findConfigPath({ env: {}, cwd: dir })).toThrow(
      /-config PATH.*PIDPILOT.*CONTAINERPILOT.*pidpilot\.json5/,
    );
  });
});

describe('loadConfig', () => {
  it('renders against the given environment, parses and validates', () => {
    const p = write(
      'templated.json5',
      '{\n  consul: "{{ .CONSUL | default "localhost" }}:8500",\n  jobs: [{ name: "app", exec: "/bin/app {{ .ARG }}" }],\n}\n',
    );
    const cfg = loadConfig(p, { CONSUL: 'consul.svc', ARG: '--fast' });
    expect(cfg.file).toBe(p);
    expect(cfg.consul).toEqual({ address: 'consul.svc:8500', scheme: 'http' });
    expect(cfg.jobs[0].exec).toEqual(['/bin/app', '--fast']);
    // an unset variable renders empty
    expect(loadConfig(p, {}).consul?.address).toBe('localhost:8500');
    expect(loadConfig(p, {}).jobs[0].exec).toEqual(['/bin/app']);
  });

  it('a missing file or a directory is a config error naming the file', () => {
    const missing = join(tmp, 'nope.json5');
    const [e] = loadErrors(missing);
    expect(e.toString()).toBe(`${missing}: cannot read the configuration file: no such file`);
    expect(loadErrors(tmp)[0].message).toBe('cannot read the configuration file: is a directory');
  });

  it('names files under the working directory relatively', () => {
    const rel = 'test/fixtures/configs/periodic.json5';
    expect(loadConfig(rel, {}).file).toBe(join(process.cwd(), rel));
    const bad = join('test', 'unit', 'config', `bad-${process.pid}.json5`);
    writeFileSync(bad, '{ x: 1 }');
    try {
      expect(loadErrors(bad)[0].toString()).toBe(`${bad}:1:3: x: unknown field \`x\``);
    } finally {
      rmSync(bad);
    }
  });

  it('a template error is a config error with its position', () => {
    const p = write('bad-template.json5', '{\n  jobs: [{ name: "{{ .X | nosuchfunc }}" }],\n}\n');
    const errs = loadErrors(p);
    expect(errs).toHaveLength(1);
    expect(errs[0].line).toBe(2);
    expect(errs[0].column).toBeGreaterThan(0);
    expect(errs[0].message).toMatch(/^template: .*nosuchfunc/);
    expect(errs[0].toString()).toMatch(new RegExp(`^${p}:2:\\d+: template: `));
  });

  it('a syntax error in the rendered text has its position', () => {
    const p = write('bad-syntax.json5', '{\n  jobs: [{ name: "{{ .N }}" }\n}\n');
    const [e] = loadErrors(p, { N: 'a' });
    expect(e.toString()).toBe(`${p}:3:1: syntax error: invalid character '}'`);
  });

  it('validation errors point into the source when rendering kept the lines', () => {
    const p = write('positions.json5', '{\n  jobs: [{ name: "{{ .N }}", restarts: "sometimes" }],\n}\n');
    const [e] = loadErrors(p, { N: 'a-much-longer-name' });
    expect(e.path).toBe('jobs[0].restarts');
    expect(e.line).toBe(2);
    expect(e.rendered).toBeUndefined();
  });

  it('says so when rendering moved the lines', () => {
    const text =
      '{\n  jobs: [\n{{ range $i := loop 3 }}    { name: "j{{ $i }}" },\n{{ end }}    { name: "x", restarts: "bad" },\n  ],\n}\n';
    const p = write('moved.json5', text);
    const [e] = loadErrors(p);
    expect(e.path).toBe('jobs[3].restarts');
    expect(e.rendered).toBe(true);
    expect(e.toString()).toMatch(new RegExp(`^${p} \\(rendered\\):6:\\d+: jobs\\[3\\]\\.restarts: `));
    expect(renderConfigFile(p, {}).split('\n')[5]).toContain('restarts: "bad"');
  });

  it('an empty file is a clear error', () => {
    expect(loadErrors(write('empty.json5', ''))[0].message).toMatch(/^the configuration is empty/);
    expect(loadErrors(write('blank.json5', '{{ if .NOPE }}{ jobs: [] }{{ end }}\n'))[0].message).toMatch(
      /^the configuration is empty/,
    );
  });

  it('every fixture loads through the whole pipeline', () => {
    const dir = fileURLToPath(new URL('../../fixtures/configs/', import.meta.url));
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json5'))) {
      const cfg = loadConfig(join(dir, f), { CONSUL: 'consul.service.consul' });
      for (const j of cfg.jobs) expect(j.exec?.join(' ') ?? '').not.toContain('{{');
    }
  });
});

describe('renderConfigFile', () => {
  it('returns the rendered text exactly', () => {
    const p = write('render.json5', '{ a: "{{ .A }}" } // {{ .B | default "b" }}\n');
    expect(renderConfigFile(p, { A: 'x' })).toBe('{ a: "x" } // b\n');
  });

  it('reports template errors as config errors', () => {
    const p = write('render-bad.json5', '{{ if }}');
    expect(() => renderConfigFile(p, {})).toThrow(ConfigErrors);
  });
});

describe('loadConfigText', () => {
  it('is the pipeline without the file', () => {
    expect(loadConfigText('{ jobs: [{ name: "{{ .N }}" }] }', { N: 'x' }, 'inline.json5').jobs[0].name).toBe('x');
  });
});

describe('configFingerprint', () => {
  const load = (text: string) => loadConfigText(text, {}, 'f.json5').jobs[0];

  it('is the same for the same definition, whatever the key order or spelling', () => {
    const a = load(
      '{ jobs: [{ name: "a", exec: "x  y", restarts: "unlimited", health: { exec: "c", interval: 5, ttl: 10 } }] }',
    );
    const b = load(
      '{ jobs: [{ health: { ttl: "10s", interval: "5s", exec: ["c"] }, restarts: "unlimited", exec: ["x", "y"], name: "a" }] }',
    );
    expect(configFingerprint(a)).toBe(configFingerprint(b));
  });

  it('changes when anything changes', () => {
    const base = configFingerprint(load('{ jobs: [{ name: "a", exec: "x", restarts: "unlimited" }] }'));
    expect(configFingerprint(load('{ jobs: [{ name: "a", exec: "x", restarts: 0 }] }'))).not.toBe(base);
    expect(configFingerprint(load('{ jobs: [{ name: "a", exec: "x y", restarts: "unlimited" }] }'))).not.toBe(base);
    expect(
      configFingerprint(load('{ jobs: [{ name: "a", exec: "x", restarts: "unlimited", stopSignal: "INT" }] }')),
    ).not.toBe(base);
  });

  it('tells unlimited restarts from a count', () => {
    const unlimited = load('{ jobs: [{ name: "a", restarts: "unlimited" }] }');
    expect(configFingerprint(unlimited)).toContain('"restarts":"Infinity"');
    expect(JSON.parse(configFingerprint(unlimited))).toMatchObject({ name: 'a', restarts: 'Infinity' });
  });
});
