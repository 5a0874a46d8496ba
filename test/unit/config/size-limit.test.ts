/** The configuration's size limit: a clear error, and nothing larger is ever read into memory. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigText, MAX_CONFIG_BYTES, renderConfigFile } from '../../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'pidpilot-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid config of exactly `bytes` bytes (one long env value). */
function configOf(bytes: number): string {
  const head = '{ jobs: [{ name: "a", exec: "true", env: { X: "';
  const tail = '" } }] }\n';
  return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
}

describe('configuration size limit (1 MiB)', () => {
  it('a file of exactly 1 MiB loads; one byte more is an error that says the limit', () => {
    const ok = join(dir, 'ok.json5');
    writeFileSync(ok, configOf(MAX_CONFIG_BYTES));
    expect(loadConfig(ok, {}).jobs).toHaveLength(1);
    const big = join(dir, 'big.json5');
    writeFileSync(big, configOf(MAX_CONFIG_BYTES + 1));
    expect(() => loadConfig(big, {})).toThrow(
      /the configuration file is larger than the limit of 1 MiB \(1048576 bytes\): 1048577 bytes/,
    );
    expect(() => renderConfigFile(big, {})).toThrow(/larger than the limit of 1 MiB/);
    expect(() => loadConfigText(configOf(MAX_CONFIG_BYTES + 1), {}, 'f.json5')).toThrow(/larger than the limit/);
  });

  it('a device that never ends is read no further than the limit', () => {
    expect(() => loadConfig('/dev/zero', {})).toThrow(/the configuration file is larger than the limit of 1 MiB/);
  });

  it('a template that renders past the limit is an error too', () => {
    const text = '{ jobs: [{ name: "a", exec: "true", env: { X: "{{ range loop 200000 }}xxxxxxxx{{ end }}" } }] }';
    expect(() => loadConfigText(text, {}, 'f.json5')).toThrow(/rendered output is larger than 1048576 characters/);
    // Multi-byte characters count as bytes.
    const wide = `{ jobs: [{ name: "a", exec: "true", env: { X: "{{ range loop 600000 }}é{{ end }}" } }] }`;
    expect(() => loadConfigText(wide, {}, 'f.json5')).toThrow(
      /the rendered configuration is larger than the limit of 1 MiB/,
    );
  });
});
