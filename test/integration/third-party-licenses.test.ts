/**
 * dist/THIRD_PARTY_LICENSES (scripts/third-party-licenses.mjs, written by the build) has the
 * notice of every npm package bundled into dist/: checked against a bundle of the CLI made
 * here, independently, with every library inlined (what the build splits into dist/vendor/
 * included), and against the package list the build itself recorded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const notices = readFileSync(join(ROOT, 'dist', 'THIRD_PARTY_LICENSES'), 'utf8');
const hasSection = (name: string): boolean =>
  new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}@\\S+ \\(`, 'm').test(notices);

describe('THIRD_PARTY_LICENSES', () => {
  it('has a section, with a license text, for every package the build bundled', () => {
    const recorded = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundled-packages.json'), 'utf8')) as string[];
    expect(recorded).toContain('pino');
    for (const name of recorded) expect(hasSection(name), name).toBe(true);
    expect(notices).toMatch(/Permission is hereby granted|Apache License/);
  });

  it('covers every package a fresh bundle of the CLI pulls from node_modules', async () => {
    const r = await build({
      entryPoints: [join(ROOT, 'src/cli/main.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      write: false,
      metafile: true,
      logLevel: 'silent',
      outfile: 'out.cjs',
      define: { 'import.meta.url': '""' },
      // As the build does (scripts/bundle.mjs, slimStartUp): pino's transports are never bundled.
      plugins: [
        {
          name: 'no-transport',
          setup: (b) =>
            b.onResolve({ filter: /^\.\/(lib\/)?transport$/ }, () => ({ path: 'transport', external: true })),
        },
      ],
    });
    const names = new Set<string>();
    for (const input of Object.keys(r.metafile.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) names.add(m[1]!);
    }
    expect(names.size).toBeGreaterThan(3);
    for (const name of names) expect(hasSection(name), name).toBe(true);
  }, 60_000);
});
