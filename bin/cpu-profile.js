// PIDPILOT_CPU_PROF=FILE: a V8 CPU profile of this pidpilot process, from the first line of
// bin/pidpilot.js to its exit, written to FILE (open it in Chrome DevTools → Performance, or
// any .cpuprofile viewer). `node --cpu-prof` cannot do this: pidpilot leaves through
// `_exit` (src/process/exit.ts) so that a stuck log reader never holds PID 1, and V8 writes
// --cpu-prof's file only from a normal exit. Here the profile is written synchronously by
// whichever comes first: exitNow or a normal 'exit' (see atExit in bin/pidpilot.js).
// PIDPILOT_CPU_PROF_INTERVAL_US sets the sampling interval (default 100 µs).
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');

/** Starts profiling; `atExit(fn)` must run fn when pidpilot leaves, however it leaves. */
exports.startCpuProfile = function startCpuProfile(file, atExit) {
  const session = new Session();
  session.connect();
  // The in-thread inspector session answers synchronously: the profiler runs when post returns.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.PIDPILOT_CPU_PROF_INTERVAL_US) || 100 });
  session.post('Profiler.start');
  let written = false;
  const flush = () => {
    if (written) return;
    written = true;
    session.post('Profiler.stop', (err, result) => {
      try {
        if (err) throw err;
        writeFileSync(file, JSON.stringify(sourceNames(result.profile)));
      } catch (e) {
        process.stderr.write(`pidpilot: PIDPILOT_CPU_PROF: cannot write ${file}: ${e && e.message ? e.message : e}\n`);
      }
    });
  };
  atExit(flush);
};

/**
 * The bundle's function names are minified (scripts/bundle.mjs): each frame of
 * dist/pidpilot.cjs gets its name in src/ back from dist/pidpilot.cjs.map, written by the
 * build (not published: an installed pidpilot's profile keeps the short names).
 */
function sourceNames(profile) {
  const bundle = require('node:path').join(__dirname, '..', 'dist', 'pidpilot.cjs');
  let map;
  let lines;
  try {
    map = new (require('node:module').SourceMap)(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
    lines = readFileSync(bundle, 'latin1').split('\n');
  } catch {
    return profile;
  }
  for (const { callFrame: f } of profile.nodes) {
    if (!f.functionName || !f.url.endsWith('pidpilot.cjs') || f.lineNumber < 0) continue;
    // V8 places a function at its parameters or body; its name is the identifier just before,
    // and the map names it there when esbuild renamed it. A frame whose name is not found so
    // keeps it.
    const line = lines[f.lineNumber] ?? '';
    const at = identifierBefore(line, f.functionName, f.columnNumber);
    const entry = at < 0 ? null : map.findEntry(f.lineNumber, at);
    if (entry?.name && entry.generatedColumn === at) f.functionName = entry.name;
  }
  return profile;
}

/** Where `name` stands as a whole identifier last, at most 64 characters before `column`; -1 if not. */
function identifierBefore(line, name, column) {
  const word = /[\w$]/;
  for (
    let at = line.lastIndexOf(name, column);
    at >= 0 && at >= column - 64;
    at = at > 0 ? line.lastIndexOf(name, at - 1) : -1
  ) {
    if (!word.test(line[at - 1] ?? '') && !word.test(line[at + name.length] ?? '')) return at;
  }
  return -1;
}
