// Bundles the CLI into one CommonJS file, dist/pidpilot.cjs, which is what bin/pidpilot.js
// runs. Why, measured on these machines (bench/, startup): loading ~60 small ES modules
// cost 120-200 ms before the first job could start; one file cuts most of that, and
// CommonJS + minified syntax skips Node's ESM loader and shortens compilation further.
import { cpSync } from 'node:fs';
import { build } from 'esbuild';

/** Libraries the CLI import()s only when configured (see below). */
const LAZY = ['consul', 'prom-client'];
/**
 * Every library kept out of the bundle, each bundled alone into dist/vendor/<name>.cjs: LAZY;
 * re2js (Go's regexp, for regexReplaceAll), required on first use through src/vendored.ts;
 * node-gyp-build, for scripts/install.cjs.
 */
const VENDORED = [...LAZY, 're2js', 'node-gyp-build'];

/** Leaves `names` out of the bundle, required at run time from dist/vendor/<name>.cjs. */
function vendored(names) {
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[-/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'vendored',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: `./vendor/${args.path}.cjs`, external: true }));
    },
  };
}

/** What every output shares: one minified CommonJS file per entry, for Node 20+. */
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', minifySyntax: true, minifyWhitespace: true, legalComments: 'none', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/pidpilot.cjs',
  // Identifiers stay readable in stack traces of internal errors.
  minifyIdentifiers: false,
  // The sources are ES modules: give them their import.meta.url in CommonJS.
  define: { 'import.meta.url': '__pidpilot_import_meta_url' },
  banner: { js: "const __pidpilot_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  // Loaded (import()) only when configured — the Consul client when a `consul` is set,
  // prom-client when `telemetry` is — so each is bundled apart, into dist/vendor/ (below),
  // and required from there on first use: the default path does not even parse them.
  plugins: [vendored(LAZY)],
});

// The vendored libraries, one file each: with them, the installed package has no dependency
// at all (nothing more to fetch, an offline or registry-less `npm install` of the tarball
// works, and the image copies one folder). A new runtime dependency goes in the bundle or here.
await build({
  ...common,
  entryPoints: Object.fromEntries(VENDORED.map((name) => [name, name])),
  outdir: 'dist/vendor',
  outExtension: { '.js': '.cjs' },
});

// The dashboard page's files (pidpilot ui) are read at run time from the package.
cpSync('src/dashboard/assets', 'dist/dashboard-assets', { recursive: true });
