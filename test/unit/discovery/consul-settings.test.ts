import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConsulSettings } from '../../../src/discovery/consul/settings.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('resolveConsulSettings', () => {
  it('defaults to 127.0.0.1:8500 over http', () => {
    expect(resolveConsulSettings({}, {})).toMatchObject({
      host: '127.0.0.1',
      port: 8500,
      secure: false,
      url: 'http://127.0.0.1:8500',
      tls: { verify: true },
    });
  });

  it.each([
    [
      'file address',
      { address: 'consul:8501', scheme: 'http' as const },
      { CONSUL_HTTP_ADDR: 'other:1' },
      'http://consul:8501',
    ],
    ['env address', {}, { CONSUL_HTTP_ADDR: 'consul.local:8600' }, 'http://consul.local:8600'],
    ['env address with https://', {}, { CONSUL_HTTP_ADDR: 'https://consul.local:8501' }, 'https://consul.local:8501'],
    ['CONSUL_HTTP_SSL', {}, { CONSUL_HTTP_ADDR: 'c:1', CONSUL_HTTP_SSL: 'true' }, 'https://c:1'],
    [
      'file scheme wins over CONSUL_HTTP_SSL',
      { scheme: 'http' as const },
      { CONSUL_HTTP_SSL: '1' },
      'http://127.0.0.1:8500',
    ],
    ['host without port', { address: 'consul' }, {}, 'http://consul:8500'],
    ['IPv6', { address: '[::1]:8500' }, {}, 'http://[::1]:8500'],
  ])('%s', (_t, config, env, url) => {
    expect(resolveConsulSettings(config, env).url).toBe(url);
  });

  it('the file token wins over CONSUL_HTTP_TOKEN, which fills a missing one', () => {
    expect(resolveConsulSettings({ token: 'file' }, { CONSUL_HTTP_TOKEN: 'env' }).token).toBe('file');
    expect(resolveConsulSettings({}, { CONSUL_HTTP_TOKEN: 'env' }).token).toBe('env');
    expect(resolveConsulSettings({}, { CONSUL_HTTP_TOKEN: '' }).token).toBeUndefined();
  });

  it('TLS from the environment: CA file and dir, client pair, server name, verify', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-tls-'));
    const cadir = mkdtempSync(join(tmpdir(), 'pp-cadir-'));
    writeFileSync(join(dir, 'ca.pem'), PEM);
    writeFileSync(join(cadir, 'a.pem'), PEM);
    writeFileSync(join(cadir, 'notes.txt'), 'not a certificate');
    writeFileSync(join(dir, 'c.pem'), 'cert');
    writeFileSync(join(dir, 'c.key'), 'key');
    const s = resolveConsulSettings(
      {},
      {
        CONSUL_CACERT: join(dir, 'ca.pem'),
        CONSUL_CAPATH: cadir,
        CONSUL_CLIENT_CERT: join(dir, 'c.pem'),
        CONSUL_CLIENT_KEY: join(dir, 'c.key'),
        CONSUL_TLS_SERVER_NAME: 'consul.example',
        CONSUL_HTTP_SSL_VERIFY: 'false',
      },
    );
    expect(s.tls.ca).toHaveLength(2);
    expect(s.tls.cert?.toString()).toBe('cert');
    expect(s.tls.key?.toString()).toBe('key');
    expect(s.tls.servername).toBe('consul.example');
    expect(s.tls.verify).toBe(false);
    expect(resolveConsulSettings({ tls: { verify: true } }, { CONSUL_HTTP_SSL_VERIFY: 'false' }).tls.verify).toBe(true);
  });

  it.each([
    [{ address: 'consul:99999' }, {}, /port must be 1-65535/],
    [{ address: 'unix:///tmp/consul.sock' }, {}, /only host:port/],
    [{}, { CONSUL_HTTP_SSL: 'yes' }, /CONSUL_HTTP_SSL="yes" is not a boolean/],
    [{ tls: { cafile: '/nonexistent/ca.pem' } }, {}, /consul tls\.cafile \/nonexistent\/ca\.pem: ENOENT/],
    [{ tls: { clientcert: '/x' } }, {}, /clientcert and clientkey go together/],
  ])('rejects %j %j', (config, env, error) => {
    expect(() => resolveConsulSettings(config, env)).toThrow(error);
  });
});
