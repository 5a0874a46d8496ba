/**
 * Templates cannot freeze the CLI (nor PID 1 on -reload, which renders the same way): Go's
 * regexp is linear, and a render's regex work, output and loops are bounded. Each config here
 * made `validate` run for minutes before re2js; now it answers (waitExit is bounded), with the
 * result Go gives or a clear error.
 */
import { describe, expect, it } from 'vitest';
import { useHarness } from './support.js';

const h = useHarness();

/** A config whose one job's env holds `expr` rendered (in a JSON5 single-quoted string, so the template's quotes stay as they are). */
function withEnv(expr: string): string {
  return `{ jobs: [{ name: "a", exec: "true", env: { X: '${expr}' } }] }\n`;
}

describe('catastrophic regular expressions (issue 14)', () => {
  it.each([
    ['(a|a)*b', 'a'.repeat(41)],
    ['(x+x+)+y', 'x'.repeat(41)],
    ['a*a*a*a*a*a*a*b', 'a'.repeat(5000)],
  ])('regexReplaceAll "%s" over a long text answers at once, as Go', async (pattern, text) => {
    const file = h().writeConfig(withEnv(`{{ regexReplaceAll "${pattern}" "x" "${text}" }}`));
    const validate = await h().cli(['validate', '-config', file]);
    expect(validate.code, validate.stderr).toBe(0);
    const render = await h().cli(['render', '-config', file]);
    expect(render.code, render.stderr).toBe(0);
    // No match: the text comes back unchanged.
    expect(render.stdout).toContain(`X: '${text}'`);
  });

  it('a pattern whose repeated searches are quadratic is refused, with the function named', async () => {
    const file = h().writeConfig(withEnv('{{ regexReplaceAll "a*c|a" "x" .BIG }}'));
    const { code, stderr } = await h().cli(['validate', '-config', file], { env: { BIG: 'a'.repeat(100_000) } });
    expect(code).toBe(2);
    expect(stderr).toMatch(/error calling regexReplaceAll: too much search work/);
  });

  it('the regex budget is for the whole render, not per call', async () => {
    const file = h().writeConfig(
      withEnv(`{{ range loop 100000 }}{{ regexReplaceAll "a*c|a" "x" "${'a'.repeat(1000)}" }}{{ end }}`),
    );
    const { code, stderr } = await h().cli(['validate', '-config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/too much search work/);
  });

  it('a render that grows without bound stops at the output limit', async () => {
    const file = h().writeConfig(withEnv('{{ range loop 1000000 }}{{ range loop 1000000 }}xxxxxxxx{{ end }}{{ end }}'));
    const { code, stderr } = await h().cli(['validate', '-config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /rendered output is larger than|exceeded \d+ steps|more than the limit of 1000000 for all loops/,
    );
  });
});
