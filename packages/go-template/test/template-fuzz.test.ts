/**
 * Templates built from the expensive parts (nested loops, regexes, printf widths, growing
 * strings): rendering returns a bounded string or throws a TemplateError with a message, and
 * each render's cost is bounded by the documented budgets (the whole property runs within the
 * test's timeout however the actions combine).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError } from '../src/index.js';

const MAX_OUTPUT = 1024 * 1024;

const regex = fc
  .array(
    fc.constantFrom('a', 'b', '(', ')', '|', '*', '+', '?', '.', '[', ']', '^', '$', '{2}', '\\\\w', 'x*', '(a|a)*'),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));
const text = fc.oneof(
  fc.constantFrom('.BIG', '.A', '"aaaa"', '(printf "%0500d" 1)'),
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
);
const count = fc.constantFrom('3', '1000', '100000', '1000000', '-1', '"x"');

const action: fc.Arbitrary<string> = fc.letrec<{ a: string }>((tie) => ({
  a: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text.map((t) => `{{ ${t} }}`),
    fc.tuple(regex, text).map(([r, t]) => `{{ regexReplaceAll ${JSON.stringify(r)} "xy" ${t} }}`),
    fc.constantFrom(
      '{{ printf "%99999999d" 1 }}',
      '{{ printf "%.*f" 1000 1.5 }}',
      '{{ printf "%v %q" . .A }}',
      '{{ repeat }}',
      '{{ len .BIG }}',
    ),
    fc.tuple(count, tie('a')).map(([n, body]) => `{{ range loop ${n} }}${body}{{ end }}`),
    fc.tuple(tie('a'), tie('a')).map(([x, y]) => x + y),
  ),
})).a;

describe('templates fuzzed from expensive parts (property)', () => {
  it('render a bounded string or fail with a TemplateError', () => {
    fc.assert(
      fc.property(action, (template) => {
        try {
          const out = renderTemplate(template, { A: 'a', BIG: 'a'.repeat(20_000) }, 'f', { maxOutput: MAX_OUTPUT });
          expect(out.length).toBeLessThanOrEqual(MAX_OUTPUT);
        } catch (err) {
          expect(err).toBeInstanceOf(TemplateError);
          expect((err as Error).message).toMatch(/^f:\d+:\d+: ./);
        }
      }),
      { numRuns: 300 },
    );
  });
});
