/**
 * Requires, synchronously, a library kept out of the bundle so that only the configurations
 * that use it pay for loading it: from dist/vendor/<name>.cjs beside the bundle (where
 * scripts/bundle.mjs puts it: the published package has no dependencies), else — running from
 * src/ (tests) or the per-module dist/ — from node_modules.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export function requireVendored<T>(name: string): T {
  const require = createRequire(import.meta.url);
  const vendored = fileURLToPath(new URL(`./vendor/${name}.cjs`, import.meta.url));
  return (existsSync(vendored) ? require(vendored) : require(name)) as T;
}
