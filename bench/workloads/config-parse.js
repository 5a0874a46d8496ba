// (8) Configuration parsing: peak memory and CPU time to parse a file at the 1 MiB limit,
// as multiples of the file's size (issue 14, defect 10: ≤ 20× whatever the file holds).
//
// Each shape is written twice at exactly MAX bytes: as JSON5 (what pidpilot reads) and, as
// the baseline, the nearest JSON file of the same size parsed with JSON.parse (the shapes with
// no JSON form — comments, hex, Infinity/NaN, line continuations — get their JSON look-alike:
// whitespace, decimals, plain escapes). Every parse runs in a fresh `node --expose-gc
// --trace-gc` (config-parse-child.js), after the file is read and the heap collected, and
// reports:
//   heap  the peak heap used during the parse, less the heap used before it (V8's
//         figure before each GC of the parse, and the heap used at its end);
//   rss   the peak resident set during the parse (VmHWM after resetting it with clear_refs)
//         less the resident set before it: what the process really asked of the machine;
//   cpu   the parse's user + system CPU time (the machine is shared: CPU time, not wall);
//   lin   CPU time at MAX over CPU time at MAX/4: 4 is linear.
// Parsers: `pidpilot` (parseJson5 of src/config/parse.ts, bundled for the run), the json5
// package (what pidpilot used before its own parser), JSON.parse (the baseline).
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleModule } from '../../scripts/bundle-module.mjs';
import { BENCH_ENV, ROOT, stats, tmpDir, track } from '../lib.js';

/** pidpilot's limit on a configuration file (src/config/load.ts MAX_CONFIG_BYTES). */
export const MAX = 1024 * 1024;
/** Depth of the `nesting` shape, the outer array included: the parser's limit (src/config/json5.ts MAX_DEPTH). */
const DEPTH = 1000;

/** `unit(i)` repeated between `open` and `close` up to `size` bytes, padded with spaces to exactly `size`. */
function fill(size, open, unit, close) {
  const parts = [open];
  let n = Buffer.byteLength(open) + Buffer.byteLength(close);
  for (let i = 0; ; i++) {
    const u = unit(i);
    const b = Buffer.byteLength(u);
    if (n + b > size) break;
    parts.push(u);
    n += b;
  }
  parts.push(close, ' '.repeat(size - n));
  return parts.join('');
}

const fixture = readFileSync(join(ROOT, 'test', 'fixtures', 'configs', 'everything.json5'), 'utf8');
/** The fixture's value as indented JSON (set by configParse, through the json5 package). */
let fixtureJson;

/**
 * name → (size) → { json5, json }. The JSON5 unit of each shape is chosen so that a parser
 * that builds a value (or a string) piece by piece, or recurses, pays the most for it.
 */
const SHAPES = {
  // One string value the size of the file.
  string: (s) => ({ json5: fill(s, '{s:"', () => 'a', '"}'), json: fill(s, '{"s":"', () => 'a', '"}') }),
  // The same with two-byte characters (a JS string of the two-byte kind).
  'string, non-ASCII': (s) => ({ json5: fill(s, "{s:'", () => 'é', "'}"), json: fill(s, '{"s":"', () => 'é', '"}') }),
  // A string that is all escapes: every JSON5 kind, line continuations included.
  escapes: (s) => ({
    json5: fill(s, '{s:"', () => "\\n\\t\\x41\\u00e9\\'\\0\\\n\\v", '"}'),
    json: fill(s, '{"s":"', () => '\\n\\t\\u0041\\u00e9\\"\\\\', '"}'),
  }),
  // As many members as fit, with short unquoted names.
  'many tiny keys': (s) => ({
    json5: fill(s, '{', (i) => `_${i.toString(36)}:0,`, '}'),
    json: fill(s, '{', (i) => `"_${i.toString(36)}":0,`, '"":0}'),
  }),
  // As many values as fit: one-digit numbers, empty objects.
  'many tiny values': (s) => ({ json5: fill(s, '[', () => '0,', ']'), json: fill(s, '[', () => '0,', '0]') }),
  'many empty objects': (s) => ({ json5: fill(s, '[', () => '{},', ']'), json: fill(s, '[', () => '{},', '{}]') }),
  // Arrays nested at the depth limit, side by side.
  nesting: (s) => {
    const unit = () => `${'['.repeat(DEPTH - 1)}${']'.repeat(DEPTH - 1)},`;
    return { json5: fill(s, '[', unit, ']'), json: fill(s, '[', unit, '[]]') };
  },
  // One bracket nest as deep as the file allows: far past the limit (an error now, and for
  // JSON.parse a stack overflow), but a file under the size limit all the same.
  'nesting past the limit': (s) => ({
    json5: `${'['.repeat(s / 2)}${']'.repeat(s / 2)}`,
    json: `${'['.repeat(s / 2)}${']'.repeat(s / 2)}`,
  }),
  // Half the file line comments, half one block comment, then a small value.
  comments: (s) => {
    const half = Math.floor(s / 2);
    const lines = fill(half, '', () => '// a comment line\n', '');
    return {
      json5: fill(s, `${lines}/*`, () => 'x', '*/{a:1}'),
      json: fill(s, '{"a":1}', () => ' ', ''),
    };
  },
  // Numbers in every JSON5 form: hex, Infinity, NaN, signs, leading and trailing dots, exponents.
  numbers: (s) => ({
    json5: fill(s, '[', () => '0x1F,Infinity,-Infinity,NaN,+.5,5.,-0xaB,1e3,', '0]'),
    json: fill(s, '[', () => '31,1e308,-1e308,0,0.5,5,-171,1000,', '0]'),
  }),
  // A real ContainerPilot-style configuration (test/fixtures/configs/everything.json5, with
  // its comments) repeated in an array to the size limit.
  'real config × N': (s) => ({
    json5: fill(s, '[', () => `${fixture},\n`, ']'),
    json: fill(s, '[', () => `${fixtureJson},\n`, '{}]'),
  }),
};

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'config-parse-child.js');

function runChild(parser, file, parseModule) {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(process.execPath, ['--expose-gc', '--trace-gc', CHILD, parser, file], {
        env: { ...BENCH_ENV, PIDPILOT_PARSE_MODULE: parseModule },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const result = /^RESULT (.*)$/m.exec(out);
      if (code !== 0 || !result) return reject(new Error(`${parser} ${file}: exit ${code}\n${err}${out.slice(-2000)}`));
      const r = JSON.parse(result[1]);
      // The GC lines between the 2nd and 3rd explicit GC ("testing") are the parse's.
      const gcs = out.split('\n').filter((l) => / (Scavenge|Mark-Compact|Mark-sweep|Minor)/.test(l));
      const marks = gcs.flatMap((l, i) => (l.includes('testing') ? [i] : []));
      if (marks.length < 3) return reject(new Error(`${parser} ${file}: expected 3 explicit GCs in\n${out}`));
      let peak = r.heapEnd;
      for (const l of gcs.slice(marks[1] + 1, marks[2])) {
        const m = /: \S+(?: \S+)? ([\d.]+) \([\d.]+\) ->/.exec(l);
        if (m) peak = Math.max(peak, Number(m[1]) * 2 ** 20);
      }
      resolve({ heap: peak - r.heap0, rss: r.hwm - r.rss0, cpu: r.cpuMs, error: r.error });
    });
  });
}

export const PARSERS = ['pidpilot', 'json5', 'json'];

/**
 * For each shape: { bytes, pidpilot|json5|json: { heap, rss, cpu (stats, multiples of the
 * size for heap and rss), lin (CPU at MAX / CPU at MAX/4), error } }.
 */
export async function configParse({ runs, parsers = PARSERS }) {
  const dir = tmpDir();
  fixtureJson = JSON.stringify((await import('json5')).default.parse(fixture), null, 2);
  const parseModule = await bundleModule(join(ROOT, 'src', 'config', 'parse.ts'));
  const out = {};
  try {
    for (const [name, make] of Object.entries(SHAPES)) {
      const files = {};
      for (const [size, tag] of [
        [MAX, 'full'],
        [MAX / 4, 'quarter'],
      ]) {
        const texts = make(size);
        for (const kind of ['json5', 'json']) {
          if (Buffer.byteLength(texts[kind]) !== size)
            throw new Error(`${name} ${kind}: ${Buffer.byteLength(texts[kind])} bytes, not ${size}`);
          const file = join(dir, `${name.replace(/\W+/g, '-')}-${tag}.${kind}`);
          writeFileSync(file, texts[kind]);
          files[`${kind}-${tag}`] = file;
        }
      }
      const res = { bytes: MAX };
      for (const parser of parsers) {
        const kind = parser === 'json' ? 'json' : 'json5';
        const full = [];
        const quarter = [];
        // Alternate the sizes, so both see the same machine.
        for (let i = 0; i < runs; i++) {
          full.push(await runChild(parser, files[`${kind}-full`], parseModule));
          quarter.push(await runChild(parser, files[`${kind}-quarter`], parseModule));
        }
        const cpu = stats(full.map((r) => r.cpu));
        res[parser] = {
          heap: stats(full.map((r) => r.heap / MAX)),
          rss: stats(full.map((r) => r.rss / MAX)),
          cpu,
          lin: cpu.median / stats(quarter.map((r) => r.cpu)).median,
          error: full[0].error,
        };
      }
      out[name] = res;
    }
  } finally {
    rmSync(dirname(parseModule), { recursive: true, force: true });
  }
  return out;
}
