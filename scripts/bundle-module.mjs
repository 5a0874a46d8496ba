// Bundles one TypeScript (or JS) entry of the sources into a single ES module that plain
// `node` can import, for the tools that need pidpilot's modules without the CLI: the
// benchmarks (bench/spawn-hop.mjs, bench/import-cost.js) and the reaper's stress fixture.
// The build itself emits only the CLI bundle (scripts/bundle.mjs); tsc only typechecks.
// The output goes under node_modules/.cache/ inside the package, so the bundled code still
// finds pidpilot's package.json, and the native addon, by walking up (src/package-root.ts).
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A fresh directory for bundles, inside the package (see above). */
export function bundleDir(prefix = 'pidpilot-dev-') {
  const parent = join(ROOT, 'node_modules', '.cache');
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, prefix));
}

/**
 * This repository's own workspace packages (@pidpilot/*, packages/): their entry is TypeScript,
 * which plain `node` cannot load from node_modules, so they are bundled like src/.
 */
const workspacePackages = {
  name: 'workspace-packages',
  setup(b) {
    b.onResolve({ filter: /^@pidpilot\/[^/]+$/ }, (args) => {
      const dir = join(ROOT, 'packages', args.path.slice('@pidpilot/'.length));
      const entry = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).exports?.['.'];
      return typeof entry === 'string' ? { path: join(dir, entry) } : undefined;
    });
  },
};

/** Bundles `entry` (a path) to `<dir>/<name>.mjs`; returns the output path. */
export async function bundleModule(entry, dir = bundleDir()) {
  const outfile = join(dir, `${basename(entry).replace(/\.[cm]?[jt]s$/, '')}.mjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    // The libraries stay in node_modules, as for the tests; CommonJS ones need a require.
    packages: 'external',
    plugins: [workspacePackages],
  });
  return outfile;
}
