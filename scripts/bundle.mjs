// Bundles the CLI into one CommonJS file, dist/pidpilot.cjs, which is what bin/pidpilot.js
// runs. Why, measured on these machines (bench/, startup): loading ~60 small ES modules
// cost 120-200 ms before the first job could start; one file cuts most of that, and
// CommonJS + minified syntax skips Node's ESM loader and shortens compilation further.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/pidpilot.cjs',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  // Identifiers stay readable in stack traces of internal errors.
  minifyIdentifiers: false,
  // The sources are ES modules: give them their import.meta.url in CommonJS.
  define: { 'import.meta.url': '__pidpilot_import_meta_url' },
  banner: { js: "const __pidpilot_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  // Loaded (import()) only when configured — the Consul client when a `consul` is set,
  // prom-client when `telemetry` is — so they stay out of the bundle: the default path does
  // not even parse them; they are required from node_modules on use.
  // re2js (Go's regexp, for regexReplaceAll) is required through createRequire in
  // src/config/template/regexp.ts, which esbuild does not follow: it stays out the same way.
  external: ['consul', 'prom-client', 're2js'],
  legalComments: 'none',
  logLevel: 'warning',
});
