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
    // V8 places a function at its parameters or body; its name is the nearest occurrence
    // before that on the line (the first line is offset by bin/pidpilot.js's wrapper).
    const line = lines[f.lineNumber] ?? '';
    const column = f.columnNumber - (f.lineNumber === 0 ? WRAPPER.length : 0);
    const at = line.lastIndexOf(f.functionName, column);
    const name = at < 0 ? undefined : map.findEntry(f.lineNumber, at).name;
    if (name) f.functionName = name;
  }
  return profile;
}

/** What bin/pidpilot.js puts before the bundle's first line. */
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';
