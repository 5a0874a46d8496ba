/**
 * The directory of pidpilot's own package.json, found by walking up from this module.
 * The same code runs from src/ (tests), dist/<folder>/ (compiled) and the single-file
 * bundle dist/pidpilot.cjs, so paths to package files cannot be fixed relative offsets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'pidpilot')
      return dir;
    if (dirname(dir) === dir) throw new Error(`pidpilot: cannot find its package.json above ${start}`);
  }
}

// The bundle (CommonJS) has its __filename; the ES modules of src/ their import.meta.url (in the
// bundle, that URL is made only when something asks for it: scripts/bundle.mjs).
export const PACKAGE_ROOT: string = findPackageRoot(
  dirname(typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url)),
);
