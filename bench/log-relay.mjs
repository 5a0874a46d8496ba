#!/usr/bin/env node
// Job-output relay throughput: a child writes N lines as fast as it can, the relay logs
// them (each format) into a file or /dev/null; reports lines/s. For comparison, the same
// data piped through `cat` to /dev/null.
//
//   node bench/log-relay.mjs [--lines 1000000] [--width 60] [--out /dev/null|file] [--runs 3] [--formats default,text,json]
//
// Runs the TypeScript sources directly: src/log is transpiled (no type check) into a temp
// directory first, so no build is needed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const LINES = Number(args.lines ?? 1_000_000);
const WIDTH = Number(args.width ?? 60);
const OUT = args.out ?? '/dev/null';
const RUNS = Number(args.runs ?? 3);
const FORMATS = (args.formats ?? 'default,text,json').split(',');
// 'node': a Node generator (the default); 'cat': cat of a prepared file (the fastest
// producer there is); 'seq': `seq LINES` (short lines, --width does not apply).
const PRODUCER = args.producer ?? 'node';

async function loadLog() {
  const require = createRequire(join(root, 'package.json'));
  const ts = require('typescript');
  const dir = mkdtempSync(join(tmpdir(), 'pidpilot-log-bench-'));
  const bare = { pino: require.resolve('pino'), 'sonic-boom': require.resolve('sonic-boom') };
  for (const f of readdirSync(join(root, 'src/log')).filter((n) => n.endsWith('.ts'))) {
    let js = ts.transpileModule(readFileSync(join(root, 'src/log', f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    for (const [name, path] of Object.entries(bare))
      js = js.replaceAll(`from '${name}'`, `from '${pathToFileURL(path)}'`);
    writeFileSync(join(dir, f.replace(/\.ts$/, '.js')), js);
  }
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return import(pathToFileURL(join(dir, 'index.js')).href);
}

// The producer: writes LINES numbered lines of WIDTH bytes (with '\n') as fast as it can.
const producer = `
const fs = require('fs');
const n = ${LINES}, w = ${WIDTH};
const pad = 'x'.repeat(w);
let buf = '';
for (let i = 0; i < n; i++) {
  const s = String(i);
  buf += s + ' ' + pad.slice(s.length + 2) + '\\n';
  if (buf.length >= 1 << 20) { fs.writeSync(1, buf); buf = ''; }
}
if (buf) fs.writeSync(1, buf);
`;

async function relayOnce(log, format, dataFile) {
  if (OUT !== '/dev/null') rmSync(OUT, { force: true });
  const { lineWriter, sink } = log.createLogger({ level: 'info', format, output: OUT });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const stdio = ['ignore', 'pipe', 'inherit'];
  const child =
    PRODUCER === 'cat'
      ? spawn('cat', [dataFile], { stdio })
      : PRODUCER === 'seq'
        ? spawn('seq', [String(LINES)], { stdio })
        : spawn(process.execPath, ['-e', producer], { stdio });
  await log.relayLines(child.stdout, { job: 'bench', stream: 'stdout', writer: lineWriter });
  await sink.flush();
  const ns = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  await sink.close();
  return { ns, cpuMs: (cpu.user + cpu.system) / 1000, maxQueued: sink.maxQueued };
}

function producerAlone() {
  const t0 = process.hrtime.bigint();
  spawnSync('sh', ['-c', `"${process.execPath}" -e "$P" | cat > /dev/null`], { env: { ...process.env, P: producer } });
  return Number(process.hrtime.bigint() - t0);
}

function catOnce(file) {
  const t0 = process.hrtime.bigint();
  spawnSync('sh', ['-c', `cat "${file}" | cat > /dev/null`]);
  return Number(process.hrtime.bigint() - t0);
}

const rate = (ns) => Math.round(LINES / (ns / 1e9)).toLocaleString('en-US');
const log = await loadLog();
console.log(`${LINES} lines of ${WIDTH} bytes -> ${OUT}, node ${process.version}, best of ${RUNS}`);
const dataFile = join(tmpdir(), `pidpilot-bench-data-${process.pid}`);
spawnSync('sh', ['-c', `"${process.execPath}" -e "$P" > "${dataFile}"`], { env: { ...process.env, P: producer } });
let best = Infinity;
for (let i = 0; i < RUNS; i++) best = Math.min(best, catOnce(dataFile));
console.log(`cat data | cat > /dev/null:         ${rate(best)} lines/s  (${(best / 1e6).toFixed(0)} ms)`);
best = Infinity;
for (let i = 0; i < RUNS; i++) best = Math.min(best, producerAlone());
console.log(`node producer | cat > /dev/null:     ${rate(best)} lines/s  (${(best / 1e6).toFixed(0)} ms)`);
for (const format of FORMATS) {
  let b = { ns: Infinity };
  for (let i = 0; i < RUNS; i++) {
    const r = await relayOnce(log, format, dataFile);
    if (r.ns < b.ns) b = r;
  }
  console.log(
    `${PRODUCER} -> relay (${format.padEnd(7)}) -> sink: ${rate(b.ns)} lines/s  (${(b.ns / 1e6).toFixed(0)} ms; supervisor CPU ${b.cpuMs.toFixed(0)} ms; max queued ${b.maxQueued} B)`,
  );
}
rmSync(dataFile, { force: true });
if (OUT !== '/dev/null') rmSync(OUT, { force: true });
