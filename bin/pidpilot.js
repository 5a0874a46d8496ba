#!/usr/bin/env node
// The compiled CLI: plain JavaScript from dist/, no TypeScript loader at start-up.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err) => {
    process.stderr.write(`pidpilot: fatal: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
