#!/usr/bin/env node
// The compiled CLI: one bundled CommonJS file (see scripts/bundle.mjs), no TypeScript
// loader and no module graph to walk at start-up. (bin/package.json makes this file
// CommonJS, so Node's ESM loader is never started.)
'use strict';
const { main } = require('../dist/pidpilot.cjs');

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err) => {
    process.stderr.write(`pidpilot: fatal: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
