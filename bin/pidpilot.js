#!/usr/bin/env node
// The compiled CLI: one bundled CommonJS file (see scripts/bundle.mjs), no TypeScript
// loader and no module graph to walk at start-up. (bin/package.json makes this file
// CommonJS, so Node's ESM loader is never started.)
//
// The bundle is compiled with V8's code cache, dist/pidpilot.cjs.cache, which the build
// writes after one real run (scripts/bundle.mjs): it holds the bytecode of every function
// that run compiled, so start-up neither parses the bundle nor compiles those functions
// again (Node 20 has no compile cache of its own; ≥ 22.1's module.enableCompileCache is
// the same idea, kept on disk at run time). V8 checks the cache against the source and its
// own version and flags: a cache from another Node is rejected and the bundle compiles from
// source as without it. PIDPILOT_CODE_CACHE=0 ignores the cache.
'use strict';
// Start-up profiling (bin/cpu-profile.js); nothing is loaded for it unless asked.
if (process.env.PIDPILOT_CPU_PROF) require('./cpu-profile.js').startCpuProfile(process.env.PIDPILOT_CPU_PROF, atExit);
const { main } = loadBundle();

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (err) => {
    process.stderr.write(`pidpilot: fatal: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);

/** Runs `fn` when pidpilot leaves: by exitNow (src/process/exit.ts, which calls the hooks under this key before `_exit`) or by an ordinary exit. */
function atExit(fn) {
  (globalThis[Symbol.for('pidpilot.atExitNow')] ??= []).push(fn);
  process.on('exit', fn);
}

function loadBundle() {
  const { readFileSync, writeFileSync } = require('node:fs');
  const { dirname, join } = require('node:path');
  const vm = require('node:vm');
  const file = join(__dirname, '..', 'dist', 'pidpilot.cjs');
  if (process.env.PIDPILOT_CODE_CACHE === '0') return require(file);
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // not built: compile from source
  }
  // The same wrapper as Node's CommonJS loader, and a `require` that resolves from dist/
  // (the bundle requires ./vendor/*.cjs). The bundle is ASCII (esbuild escapes the rest:
  // `charset: 'ascii'`, scripts/bundle.mjs), so it is read as latin1, the same text without
  // UTF-8 decoding (1.6M instructions for 490 KB).
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'latin1')}\n})`,
    {
      filename: file,
      cachedData,
    },
  );
  // Build only (scripts/bundle.mjs): write the cache when this run leaves, with every
  // function it compiled (exitNow calls this hook; an ordinary exit fires 'exit').
  const out = process.env.PIDPILOT_WRITE_CODE_CACHE;
  if (out) {
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      // V8 rejects a cache made under other flags than those it is read under, and the run
      // changes some (src/cli/run-supervisor.ts: lightStartBurst, lightShutdown): their
      // defaults back first, or every start would compile the bundle from source. The build
      // checks that the cache it wrote is accepted (scripts/bundle.mjs).
      require('node:v8').setFlagsFromString('--turbofan');
      require('node:v8').setFlagsFromString('--semi-space-growth-factor=2');
      require('node:v8').setFlagsFromString('--parallel-scavenge');
      writeFileSync(out, script.createCachedData());
    };
    atExit(write);
  }
  // The bundle's `require`: this file's own, with the bundle's one relative path (./vendor/*.cjs)
  // taken from dist/. Not node:module's createRequire(file), whose module object and lookup
  // paths cost ≈ 1M instructions before the first job (bench/README.md, start-up, fourth round).
  const dir = dirname(file);
  const bundleRequire = (id) => require(id.startsWith('./') ? join(dir, id) : id);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, bundleRequire, module, file, dir);
  return module.exports;
}
