#!/usr/bin/env node
// Diagnostic (not part of `npm run bench`): what each of pidpilot's heavy imports costs on its own —
// load time and resident memory — each measured in a fresh `node` process, against a bare one.
//
//   node bench/import-cost.js [runs=5]
//
// Columns: import ms (median), VmRSS, RssAnon (heap, compiled code), RssFile (node binary and
// libraries paged in), V8 heap used after a full GC — all after the import has finished.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundleDir, bundleModule } from '../scripts/bundle-module.mjs';
import { BENCH_ENV, median, ROOT, table } from './lib.js';

const runs = Number(process.argv[2] ?? 5);
// Each module with everything it imports from src/, bundled alone (libraries stay apart).
const bundles = bundleDir('pidpilot-import-cost-');
process.on('exit', () => rmSync(bundles, { recursive: true, force: true }));
const mod = async (p) => pathToFileURL(await bundleModule(join(ROOT, 'src', p), mkdtempSync(join(bundles, 'm-')))).href;
// The bundle is a function expression (scripts/bundle.mjs): a small loader evaluates it with its
// code cache, as bin/pidpilot.js does, without running pidpilot.
function bundleLoader() {
  const file = join(ROOT, 'dist', 'pidpilot.cjs');
  const loader = join(mkdtempSync(join(bundles, 'l-')), 'load-bundle.cjs');
  writeFileSync(
    loader,
    `const fs = require('node:fs'), path = require('node:path'), vm = require('node:vm');
const file = ${JSON.stringify(file)}, dir = path.dirname(file), bundle = { exports: {} };
new vm.Script(fs.readFileSync(file, 'latin1'), { filename: file, cachedData: fs.readFileSync(file + '.cache') })
  .runInThisContext()(bundle.exports, (id) => require(id.startsWith('./') ? path.join(dir, id) : id), bundle, file, dir);
`,
  );
  return pathToFileURL(loader).href;
}
const targets = [
  ['(bare node)', null],
  ['pino', 'pino'],
  ['thread-stream (pulled in by pino)', 'thread-stream'],
  ['json5', 'json5'],
  ['sonic-boom', 'sonic-boom'],
  ['node:net', 'node:net'],
  ['node:worker_threads', 'node:worker_threads'],
  ['src/log/logger.ts', await mod('log/logger.ts')],
  ['src/config/load.ts', await mod('config/load.ts')],
  ['src/supervisor.ts', await mod('supervisor.ts')],
  ['src/process/native.ts', await mod('process/native.ts')],
  ['src/cli/run-supervisor.ts (all of it, libraries not bundled)', await mod('cli/run-supervisor.ts')],
  ['dist/pidpilot.cjs (the bundle bin/ runs, with its code cache)', bundleLoader()],
];

const probe = (spec) => `
const fs = require('fs');
const t0 = performance.now();
const p = ${spec ? `import(${JSON.stringify(spec)})` : 'Promise.resolve()'};
p.then(() => {
  const ms = performance.now() - t0;
  globalThis.gc();
  const st = {};
  for (const l of fs.readFileSync('/proc/self/status', 'utf8').split('\\n')) {
    const m = /^(\\w+):\\s+(\\d+) kB$/.exec(l);
    if (m) st[m[1]] = Number(m[2]) / 1024;
  }
  fs.writeSync(1, JSON.stringify({ ms, rss: st.VmRSS, anon: st.RssAnon, file: st.RssFile, heap: process.memoryUsage().heapUsed / 1048576 }));
});`;

const rows = [];
let bare;
for (const [name, spec] of targets) {
  const r = [];
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ['--expose-gc', '-e', probe(spec)], {
      cwd: ROOT,
      encoding: 'utf8',
      env: BENCH_ENV,
    });
    if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`);
    r.push(JSON.parse(out.stdout));
  }
  const m = Object.fromEntries(['ms', 'rss', 'anon', 'file', 'heap'].map((k) => [k, median(r.map((x) => x[k]))]));
  bare ??= m;
  const d = (k) => (spec ? ` (+${(m[k] - bare[k]).toFixed(1)})` : '');
  rows.push([
    name,
    spec ? m.ms.toFixed(1) : '—',
    `${m.rss.toFixed(1)}${d('rss')}`,
    `${m.anon.toFixed(1)}${d('anon')}`,
    `${m.file.toFixed(1)}${d('file')}`,
    `${m.heap.toFixed(1)}${d('heap')}`,
  ]);
}
console.log(`node ${process.version}, median of ${runs} fresh processes each; MB unless noted`);
console.log(table(['import', 'ms', 'VmRSS', 'RssAnon', 'RssFile', 'heapUsed'], rows));
