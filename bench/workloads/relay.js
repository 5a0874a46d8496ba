// (2) Log relay: a job `cat lines.txt` (1,000,000 lines of 60 bytes, as fast as cat can
// write them into its stdout pipe), pidpilot relaying each line into its log
// (`logging.output: "/dev/null"`: what is measured is the relay and formatting, not a disk).
//
// lines/s = 1e6 / (T(job cats lines.txt) − T(job cats an empty file)), T = pidpilot's whole
// wall time (spawn → reaped); the subtraction removes start-up, one spawn and shutdown, so
// what is left is the time the 1e6 lines add. Runs alternate between the two configs.
//
// Baseline: `cat lines.txt > /dev/null` the same way: T(cat lines.txt) − T(cat empty).
// Informational: `cat lines.txt | cat > /dev/null` (the data crossing one pipe, which any
// relay must do at least once), via sh, minus the same with the empty file.
//
// Completeness check (not timed): one run per format logging into a file, counting the
// job's lines that arrived. pidpilot must not lose lines when the job exits before its
// pipe has been drained.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, runCommand, runPidpilot, stats, tmpDir, writeConfig } from '../lib.js';

export const LINES = 1_000_000;
const WIDTH = 60; // bytes per line, '\n' included

function generate() {
  const file = join(tmpDir(), 'lines.txt');
  const pad = 'x'.repeat(WIDTH - 9);
  const parts = [];
  const chunk = 50_000;
  for (let i = 0; i < LINES; i += chunk) {
    let s = '';
    for (let j = i; j < Math.min(LINES, i + chunk); j++) s += String(j).padStart(7, '0') + ' ' + pad + '\n';
    parts.push(s);
  }
  writeFileSync(file, parts.join(''));
  const empty = join(tmpDir(), 'empty.txt');
  writeFileSync(empty, '');
  if (statSync(file).size !== LINES * WIDTH) throw new Error('lines.txt has the wrong size');
  return { file, empty };
}

function relayConfig(name, format, data, output = '/dev/null') {
  return writeConfig(name, {
    logging: { level: 'INFO', format, output },
    jobs: [{ name: 'relay', exec: ['cat', data] }],
  });
}

async function pidpilotRate(format, data, runs) {
  const full = relayConfig(`relay-${format}.json5`, format, data.file);
  const empty = relayConfig(`relay-${format}-empty.json5`, format, data.empty);
  const tf = [];
  const te = [];
  for (let i = 0; i <= runs; i++) {
    const a = await runPidpilot(full);
    const b = await runPidpilot(empty);
    if (i > 0) {
      tf.push(a);
      te.push(b);
    }
  }
  const base = median(te);
  return { rates: tf.map((t) => LINES / ((t - base) / 1000)), ms: stats(tf), emptyMs: stats(te) };
}

/** Lines of the job that reached the log (one run into a file). */
async function completeness(format, data) {
  const out = join(tmpDir(), `relay-${format}.out`);
  rmSync(out, { force: true });
  await runPidpilot(relayConfig(`relay-${format}-file.json5`, format, data.file, out));
  const text = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  const re = format === 'json' ? /"msg":"\d{7} x+"/g : / relay \d{7} x+$/gm;
  return (text.match(re) ?? []).length;
}

async function catRate(data, runs) {
  const devnull = openSync('/dev/null', 'w');
  try {
    const tf = [];
    const te = [];
    for (let i = 0; i <= runs; i++) {
      const a = (await runCommand(['cat', data.file], { stdout: devnull })).ms;
      const b = (await runCommand(['cat', data.empty], { stdout: devnull })).ms;
      if (i > 0) {
        tf.push(a);
        te.push(b);
      }
    }
    const base = median(te);
    return tf.map((t) => LINES / ((t - base) / 1000));
  } finally {
    closeSync(devnull);
  }
}

async function catPipeRate(data, runs) {
  const tf = [];
  const te = [];
  for (let i = 0; i <= runs; i++) {
    const a = (await runCommand(['sh', '-c', `cat '${data.file}' | cat > /dev/null`])).ms;
    const b = (await runCommand(['sh', '-c', `cat '${data.empty}' | cat > /dev/null`])).ms;
    if (i > 0) {
      tf.push(a);
      te.push(b);
    }
  }
  const base = median(te);
  return tf.map((t) => LINES / ((t - base) / 1000));
}

export async function logRelay({ runs }) {
  const data = generate();
  const res = {
    cat: stats(await catRate(data, runs)),
    catPipe: stats(await catPipeRate(data, runs)),
  };
  for (const format of ['default', 'json']) {
    const r = await pidpilotRate(format, data, runs);
    res[format] = { ...stats(r.rates), ms: r.ms, emptyMs: r.emptyMs, delivered: await completeness(format, data) };
  }
  return res;
}
