/** Layered configuration through the CLI: validate, render, run, and a client with the same layers. */
import { describe, expect, it } from 'vitest';
import { useHarness } from './support.js';

const h = useHarness();

describe('several -config layers', () => {
  it('validate names the layer and line; render merges; the supervisor runs the merge and status finds it', async () => {
    const arg = h().uniqueArg();
    const base = h().writeConfig(
      `{
  jobs: [
    { name: "web", exec: ["sleep", "${arg}"] },
    { name: "extra", exec: ["sleep", "${arg}"] },
  ],
}
`,
      'base.json5',
    );
    const bad = h().writeConfig('{\n  jobs: [\n    { name: "web", restarts: "often" },\n  ],\n}\n', 'bad.json5');
    const v = await h().cli(['validate', '-config', base, '-config', bad]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain(`${bad}:3:`);
    expect(v.stderr).toMatch(/jobs\[0\]\.restarts/);

    const local = h().writeConfig(
      '{\n  jobs: [\n    { name: "extra", override: "remove" },\n    { name: "api", exec: ["sleep", "' +
        arg +
        '"] },\n  ],\n}\n',
      'local.json5',
    );
    const layers = ['-config', base, '-config', local];
    const r = await h().cli(['render', ...layers]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/"api"/);
    expect(r.stdout).not.toMatch(/"extra"/);

    const env = { PIDPILOT_CONTROL_SOCKET: undefined };
    const p = h().start(layers, { env });
    await p.waitForLine(/2 jobs from .*base\.json5 \+ .*local\.json5/);
    const status = await h().cli(['status', '--json', ...layers], { env });
    expect(status.code, status.stderr).toBe(0);
    expect(
      JSON.parse(status.stdout)
        .jobs.map((j: { name: string }) => j.name)
        .sort(),
    ).toEqual(['api', 'web']);
    // The base alone is another project: nothing runs there.
    const other = await h().cli(['status', '-config', base], { env });
    expect(other.code).not.toBe(0);
    p.signal('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
