/**
 * regexReplaceAll on re2js: loaded only when a template calls it, linear whatever the pattern,
 * and a render's regex work bounded.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError } from '../src/index.js';

const loaded = (): boolean =>
  Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/re2js/'));

describe('regexReplaceAll engine', () => {
  it('re2js is loaded on the first regex call, not before', () => {
    expect(renderTemplate('{{ .A | default "x" }} {{ replaceAll "a" "b" "aa" }}', {})).toBe('x bb');
    expect(loaded()).toBe(false);
    expect(renderTemplate('{{ regexReplaceAll "a+" "b" "caat" }}', {})).toBe('cbt');
    expect(loaded()).toBe(true);
  });

  it.each([
    ['(a|a)*b', 'a'.repeat(41)],
    ['(x+x+)+y', 'x'.repeat(41)],
    ['a*a*a*a*a*a*a*b', 'a'.repeat(2000)],
  ])('%s over a text that does not match is the text, as in Go', (pattern, text) => {
    expect(renderTemplate(`{{ regexReplaceAll "${pattern}" "x" .T }}`, { T: text })).toBe(text);
    expect(
      renderTemplate(`{{ regexReplaceAll "${pattern}" "x" .T }}`, { T: `${text}${pattern.endsWith('y') ? 'y' : 'b'}` }),
    ).toBe('x');
  });

  it('quadratic repeated searches are refused with a clear error, and the budget spans the render', () => {
    expect(() => renderTemplate('{{ regexReplaceAll "a*c|a" "x" .T }}', { T: 'a'.repeat(50_000) })).toThrow(
      /error calling regexReplaceAll: too much search work \(a text of 50000 characters/,
    );
    // Each call is small; together they are not.
    const many = `{{ range loop 10000 }}{{ regexReplaceAll "a*c|a" "x" "${'a'.repeat(300)}" }}{{ end }}`;
    expect(() => renderTemplate(many, {})).toThrow(TemplateError);
    expect(() => renderTemplate(many, {})).toThrow(/too much search work/);
    // A single ordinary call is well within it.
    expect(renderTemplate(`{{ regexReplaceAll "[0-9]" "N" "${'1'.repeat(2000)}" }}`, {})).toBe('N'.repeat(2000));
  });
});
