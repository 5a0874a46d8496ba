// Bundles the CLI into one file, dist/pidpilot.mjs, which is what bin/pidpilot.js runs.
// Why: loading ~60 small ES modules costs Node 120-200 ms at start-up on these machines;
// one bundled file loads in about a third of that, and a PID 1 should start fast.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/pidpilot.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The CommonJS dependencies (pino, json5, sonic-boom) call require() for Node built-ins.
  banner: { js: "import { createRequire as __pidpilotCreateRequire } from 'node:module';\nconst require = __pidpilotCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
