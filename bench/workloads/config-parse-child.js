// One measurement of bench/workloads/config-parse.js, in a fresh node process:
//
//   node --expose-gc --trace-gc config-parse-child.js PARSER FILE
//
// PARSER is `pidpilot` (parseJson5 of the bundled src/config/parse.ts, path in
// PIDPILOT_PARSE_MODULE), `json5` (the json5 package's parse) or `json` (JSON.parse). The
// file is read and the heap collected first; then the parse runs once. Prints one JSON line
// (prefixed RESULT) with:
//   heap0   heap used before the parse (after two full GCs), bytes
//   heapEnd heap used right after the parse, before any GC, bytes
//   rss0    VmRSS before the parse, after resetting the peak (clear_refs 5), bytes
//   hwm     VmHWM after the parse: the peak resident set during it, bytes
//   cpuMs   user + system CPU time of the parse
//   error   the message when the parse threw
// The peak heap is max(heapEnd, the "used before" figure of every GC that --trace-gc prints
// during the parse): the parent works it out from this output. V8 prints the GC lines through
// its own buffered stdout, so they are told apart by the explicit GCs around the parse (the
// lines marked "testing"), not by their order against our writes.
import { readFileSync, writeFileSync } from 'node:fs';

const [parser, file] = process.argv.slice(2);
const text = readFileSync(file, 'utf8');
let parse;
if (parser === 'pidpilot') {
  const { parseJson5 } = await import(process.env.PIDPILOT_PARSE_MODULE);
  parse = (t) => parseJson5(t, 'bench.json5').value;
} else if (parser === 'json5') {
  parse = (await import('json5')).default.parse;
} else if (parser === 'json') parse = JSON.parse;
else throw new Error(`unknown parser ${parser}`);

const status = (field) =>
  Number(/(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8').split(`${field}:`)[1])[1]) * 1024;
// Warm the parser's code on a tiny input, so the figures are those of the parse, not of compiling it.
parse('{"a": [1, "x"]}');
globalThis.gc();
globalThis.gc();
writeFileSync('/proc/self/clear_refs', '5'); // resets VmHWM to the current VmRSS
const rss0 = status('VmRSS');
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
let value;
let error;
try {
  value = parse(text);
} catch (err) {
  error = String(err.message ?? err).slice(0, 200);
}
const cpu = process.cpuUsage(cpu0);
const heapEnd = process.memoryUsage().heapUsed;
const hwm = status('VmHWM');
globalThis.kept = value;
globalThis.gc(); // closes the parse's stretch of --trace-gc lines
process.stdout.write(
  `RESULT ${JSON.stringify({ heap0, heapEnd, rss0, hwm, cpuMs: (cpu.user + cpu.system) / 1000, error })}\n`,
);
