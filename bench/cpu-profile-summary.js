#!/usr/bin/env node
// Summarises a .cpuprofile (e.g. one written by PIDPILOT_CPU_PROF=FILE, see bin/cpu-profile.js):
// self time per function and per file, total (inclusive) time per function, heaviest first, and the time up to a marker function.
//
//   node bench/cpu-profile-summary.js FILE [--top N] [--until FUNCTION_NAME]
//
// --until: only samples taken before the first sample whose stack contains FUNCTION_NAME
// (e.g. --until spawnNative: what happens before the first job is started).
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const file = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
if (!file) {
  process.stderr.write('usage: node bench/cpu-profile-summary.js FILE [--top N] [--until FUNCTION_NAME]\n');
  process.exit(2);
}
const opt = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const top = Number(opt('top') ?? 25);
const until = opt('until');

const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const short = (url) =>
  url
    ? url
        .replace(/^file:\/\//, '')
        .replace(/^.*node_modules\//, 'node_modules/')
        .replace(/^.*\/(dist|bin)\//, '$1/')
    : '(native/V8)';
const onStack = (id, name) => {
  for (let x = id; x !== undefined; x = parent.get(x)) if (byId.get(x).callFrame.functionName === name) return true;
  return false;
};

// timeDeltas[i] is the time before sample i; attribute it to that sample.
let end = profile.samples.length;
if (until) {
  const i = profile.samples.findIndex((id) => onStack(id, until));
  if (i < 0) process.stderr.write(`note: no sample has ${until} on its stack; the whole profile is summarised\n`);
  else end = i;
}
const selfFn = new Map();
const totalFn = new Map();
const selfFile = new Map();
let total = 0;
for (let i = 0; i < end; i++) {
  const us = profile.timeDeltas[i] ?? 0;
  total += us;
  const f = byId.get(profile.samples[i]).callFrame;
  const fn = `${f.functionName || '(anonymous)'} ${short(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  selfFn.set(fn, (selfFn.get(fn) ?? 0) + us);
  selfFile.set(short(f.url), (selfFile.get(short(f.url)) ?? 0) + us);
  // Inclusive: every distinct function on the stack, once per sample.
  const seen = new Set();
  for (let x = profile.samples[i]; x !== undefined; x = parent.get(x)) {
    const g = byId.get(x).callFrame;
    if (!g.url) continue;
    const k = `${g.functionName || '(anonymous)'} ${short(g.url)}:${g.lineNumber + 1}`;
    if (seen.has(k)) continue;
    seen.add(k);
    totalFn.set(k, (totalFn.get(k) ?? 0) + us);
  }
}
const ms = (us) => (us / 1000).toFixed(1).padStart(7);
const list = (m) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, v]) => `${ms(v)} ms  ${k}`)
    .join('\n');
console.log(
  `${ms(total)} ms sampled${until ? ` before the first ${until}` : ''}\n\nself time by file:\n${list(selfFile)}\n\nself time by function:\n${list(selfFn)}\n\ntotal time (self + callees) by function:\n${list(totalFn)}`,
);
