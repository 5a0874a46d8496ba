/**
 * Every `json5` block of README.md and docs/*.md is a configuration that validates as written
 * (rendered as a template, parsed, validated), so no snippet can rot. A block that is a
 * fragment (`telemetry: { … }`) is checked inside `{ … }`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../src/config/load.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const files = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const snippets = files.flatMap((file) => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/^```json5\n([\s\S]*?)^```/gm)].map((m) => {
    const line = text.slice(0, m.index).split('\n').length;
    return { where: `${file}:${line}`, body: m[1]! };
  });
});

describe('configuration snippets in the docs', () => {
  it('there are some (the extraction works)', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(3);
  });

  it.each(snippets)('$where validates', ({ where, body }) => {
    const whole = body.trimStart().startsWith('{') ? body : `{\n${body}}\n`;
    expect(() => loadConfigText(whole, {}, where)).not.toThrow();
  });
});
