#!/usr/bin/env node
// npm's install script for pidpilot (package.json "install").
//
// The native addon (native/*.c) ships prebuilt for linux-x64 and linux-arm64 with glibc and
// linux-x64 with musl (prebuilds/, loaded through node-gyp-build): when the fitting one loads
// here, nothing is compiled and no compiler is needed. Otherwise (another arch, a glibc older
// than the prebuilt binary needs, or `npm install --build-from-source`) it is compiled with
// node-gyp into build/Release, which is then loaded first.
//
// A failed compile never fails the install: pidpilot runs without the addon, through its
// fallback spawner (node:child_process), and says so in a warning when it starts.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

/** node-gyp-build: bundled in the package (dist/vendor/); in a checkout not built yet, its node_modules. */
function nodeGypBuild() {
  try {
    return require('../dist/vendor/node-gyp-build.cjs');
  } catch {
    return require('node-gyp-build');
  }
}

/** The addon node-gyp-build picks here (compiled or prebuilt) loads in this Node. */
function addonLoads() {
  try {
    require(nodeGypBuild().resolve(root));
    return true;
  } catch {
    return false;
  }
}

/** node-gyp: the one npm bundles (npm tells its scripts where), else one on the PATH. */
function nodeGyp() {
  const bundled = process.env.npm_config_node_gyp;
  return bundled && existsSync(bundled) ? [process.execPath, bundled] : ['node-gyp'];
}

/**
 * Compiles with node-gyp; returns why it failed, or null. Node's own headers are used when
 * this Node ships them (<prefix>/include/node: Node's binary builds, the node images, Debian's
 * nodejs), so that node-gyp downloads nothing.
 */
function compile() {
  const [cmd, ...args] = nodeGyp();
  args.push('rebuild');
  const prefix = path.join(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'common.gypi'))) {
    args.push(`--nodedir=${prefix}`);
  }
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) return `${cmd} could not run (${r.error.code || r.error.message})`;
  if (r.status !== 0) return `node-gyp ${r.signal ? `was killed by ${r.signal}` : `exited ${r.status}`}`;
  return null;
}

const fromSource = process.env.npm_config_build_from_source === 'true';
if (fromSource || !addonLoads()) {
  const failed = compile();
  if (failed !== null) {
    const why = fromSource
      ? '--build-from-source was asked for'
      : `no prebuilt one loads on ${process.platform}-${process.arch}`;
    const meanwhile = addonLoads()
      ? 'pidpilot uses the prebuilt one'
      : 'pidpilot works without it, through its fallback spawner (node:child_process), and warns when it starts';
    process.stderr.write(
      `pidpilot: could not compile its native addon (${why}; ${failed}). ${meanwhile}; ` +
        'to compile it later, install python3, make and a C compiler, then run `npm rebuild pidpilot`.\n',
    );
  }
}
