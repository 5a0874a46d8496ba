#!/usr/bin/env node
// The compiled CLI: one bundled JavaScript file (see scripts/bundle.mjs), no TypeScript
// loader and no module graph to walk at start-up.
import { main } from '../dist/pidpilot.mjs';

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err) => {
    process.stderr.write(`pidpilot: fatal: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
