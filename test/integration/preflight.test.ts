/**
 * `validate` and start-up share their checks (issue 14): what `validate` accepts gets past
 * start-up, and what start-up refuses (exit 2) `validate` refuses with the same words, and
 * nothing is started or logged as started first.
 */
import { describe, expect, it } from 'vitest';
import { useHarness } from './support.js';

const h = useHarness();

describe('validate and start-up agree', () => {
  it.each([
    [
      'a consul port out of range',
      '{ consul: "127.0.0.1:99999", jobs: [{ name: "a", exec: "true" }] }',
      {},
      /consul: invalid consul setting: consul address "127\.0\.0\.1:99999": port must be 1-65535/,
    ],
    [
      'a consul address that is not host:port',
      '{ consul: "[::1", jobs: [{ name: "a", exec: "true" }] }',
      {},
      /consul: invalid consul setting: consul address "\[::1" is not host:port/,
    ],
    [
      'a missing tls.cafile',
      '{ consul: { address: "127.0.0.1:8500", scheme: "https", tls: { cafile: "/nonexistent/ca.pem" } }, jobs: [{ name: "a", exec: "true" }] }',
      {},
      /consul tls\.cafile \/nonexistent\/ca\.pem: ENOENT/,
    ],
    [
      'a bad CONSUL_HTTP_ADDR',
      '{ consul: {}, jobs: [{ name: "a", exec: "true" }] }',
      { CONSUL_HTTP_ADDR: 'host:0' },
      /CONSUL_HTTP_ADDR "host:0": port must be 1-65535/,
    ],
    [
      'an env value with a NUL byte',
      '{ jobs: [{ name: "a", exec: "true", env: { X: "a\\u0000b" } }] }',
      {},
      /jobs\[0\]\.env\.X: an environment value cannot contain a NUL byte/,
    ],
  ] as [string, string, Record<string, string>, RegExp][])('%s', async (_what, text, env, message) => {
    const file = h().writeConfig(text);
    const v = await h().cli(['validate', '-config', file], { env });
    expect(v.code, v.stderr).toBe(2);
    expect(v.stderr).toMatch(message);
    const run = await h().cli(['-config', file], { env });
    expect(run.code, run.p.transcript()).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.p.transcript()).not.toMatch(/started/);
  });

  it('an env file value with a NUL byte is refused by both too', async () => {
    const envFile = h().path('vars.env');
    (await import('node:fs')).writeFileSync(envFile, 'X=a\0b\n');
    const file = h().writeConfig(`{ jobs: [{ name: "a", exec: "true", envFile: ${JSON.stringify(envFile)} }] }`);
    const v = await h().cli(['validate', '-config', file]);
    const run = await h().cli(['-config', file]);
    expect([v.code, run.code]).toEqual([2, 2]);
    for (const out of [v.stderr, run.stderr]) expect(out).toMatch(/jobs\[0\]\.env\.X: .*NUL byte|vars\.env/);
    expect(run.p.transcript()).not.toMatch(/started/);
  });
});
