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
  // The bundle is already the function Node's CommonJS loader would wrap it in
  // (scripts/bundle.mjs: a source joined here would be copied again by V8), and ASCII
  // (esbuild escapes the rest: `charset: 'ascii'`), so it is read as latin1, the same text
  // without UTF-8 decoding (1.6M instructions for 490 KB). Both files are read into one
  // buffer, the bundle first (V8 copies it into a string), then the cache over it: each page
  // of fresh memory costs a page fault, ≈ 11 µs each on the bench's VM (bench/README.md,
  // start-up, page faults).
  // Room for both (375 and 500 KB today): only the pages read into are touched.
  const buf = Buffer.allocUnsafeSlow(4 << 20);
  let n = readInto(file, buf);
  const source = n >= 0 ? buf.toString('latin1', 0, n) : readFileSync(file, 'latin1');
  let cachedData;
  if (process.env.PIDPILOT_CODE_CACHE !== '0') {
    try {
      n = readInto(`${file}.cache`, buf);
      cachedData = n >= 0 ? buf.subarray(0, n) : readFileSync(`${file}.cache`);
    } catch {
      // not built: compile from source
    }
  }
  const script = new vm.Script(source, { filename: file, cachedData });
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

/** Reads the file at `path` into `buf` from its start: its length, or -1 if it does not fit. */
function readInto(path, buf) {
  const { closeSync, openSync, readSync } = require('node:fs');
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = readSync(fd, buf, n, buf.length - n, n);
    return n < buf.length ? n : -1;
  } finally {
    closeSync(fd);
  }
}
