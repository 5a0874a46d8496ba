// Bundles the CLI into one CommonJS file, dist/pidpilot.cjs, which is what bin/pidpilot.js
// runs. Why, measured on these machines (bench/, startup): loading ~60 small ES modules
// cost 120-200 ms before the first job could start; one file cuts most of that, and
// CommonJS + minified syntax skips Node's ESM loader and shortens compilation further.
// Then it writes dist/pidpilot.cjs.cache, V8's code cache of the bundle (see
// bin/pidpilot.js): the bytecode of every function one short real run compiles.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import vm from 'node:vm';
import { build } from 'esbuild';
import { writeThirdPartyLicenses } from './third-party-licenses.mjs';

const OUT = 'dist/pidpilot.cjs';
/** How dist/pidpilot.cjs begins (and `})` ends it): Node's CommonJS wrapper, as bin/pidpilot.js calls it. */
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {';

/** Whether V8, as bin/pidpilot.js compiles the bundle (same wrapper, same flags), rejects its code cache. */
function codeCacheRejected(bundle, cache) {
  const script = new vm.Script(readFileSync(bundle, 'latin1'), {
    filename: resolve(bundle),
    cachedData: readFileSync(cache),
  });
  return script.cachedDataRejected === true;
}

/** Libraries the CLI import()s only when configured (see below). */
const LAZY = ['prom-client'];
/**
 * Every library kept out of the bundle, each bundled alone into dist/vendor/<name>.cjs: LAZY;
 * required on first use through src/vendored.ts: re2js (Go's regexp, for regexReplaceAll),
 * execa (the portable spawner, src/process/spawn-portable.ts: ~190 KB, loaded only without
 * the native addon), croner (cron schedules, src/config/cron.ts: loaded only for a `when.cron`);
 * node-gyp-build, for scripts/install.cjs.
 */
const VENDORED = [...LAZY, 're2js', 'execa', 'croner', 'node-gyp-build'];

/** Leaves `names` out of the bundle, required at run time from dist/vendor/<name>.cjs. */
function vendored(names) {
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[-/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'vendored',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: `./vendor/${args.path}.cjs`, external: true }));
    },
  };
}

// What pidpilot's dependencies load at start-up and pidpilot never uses, replaced in the
// bundle by stubs (each Node built-in not loaded is one less module compiled before the
// first job; bench/README.md has the figures):
//   - pino's transports (lib/transport.js: thread-stream, worker_threads, node:module):
//     pidpilot gives pino its own destination (src/log/logger.ts), never a transport;
//   - worker_threads in pino's tools: only `isMainThread`, read when pino would build its
//     own SonicBoom; pidpilot runs on the main thread;
//   - assert in sonic-boom: one argument check, kept as a plain throw;
//   - node:diagnostics_channel in pino's tools: one tracing channel around each line's
//     serialization, for subscribers in the same process; pidpilot runs no code of anyone
//     else's, so there are none (its module and channels: 0.2M–1.1M instructions before the first job).
const STUBS = {
  'pino-transport':
    "module.exports = function transport() { throw new Error('pino transports are not part of the pidpilot bundle'); };",
  'main-thread': 'exports.isMainThread = true;',
  assert: 'module.exports = function assert(ok, message) { if (!ok) throw new Error(message); };',
  'no-diagnostics-channel': 'exports.tracingChannel = function tracingChannel() { return { hasSubscribers: false }; };',
};
const stubFor = (request, importer) => {
  if (/[\\/]node_modules[\\/]pino[\\/]/.test(importer)) {
    if (request === './transport' || request === './lib/transport') return 'pino-transport';
    if (request === 'worker_threads') return 'main-thread';
    if (request === 'node:diagnostics_channel') return 'no-diagnostics-channel';
  }
  if (/[\\/]node_modules[\\/]sonic-boom[\\/]/.test(importer) && request === 'assert') return 'assert';
  return undefined;
};
const slimStartUp = {
  name: 'slim-start-up',
  setup(b) {
    b.onResolve({ filter: /^(\.\/(lib\/)?transport|worker_threads|assert|node:diagnostics_channel)$/ }, (args) => {
      const stub = stubFor(args.path, args.importer);
      return stub ? { path: stub, namespace: 'stub' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({ contents: STUBS[args.path], loader: 'js' }));
  },
};

// The template engine is evaluated on first use (src/config/template-engine.ts says why): this
// module's static import becomes a require() inside templateEngine(), which esbuild bundles as
// a lazy initialisation of the engine's modules, not as a separate file.
const lazyTemplateEngine = {
  name: 'lazy-template-engine',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]config[\\/]template-engine\.ts$/ }, (args) => ({
      contents:
        "let engine; export function templateEngine() { return (engine ??= require('@pidpilot/go-template')); }",
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

// pino and the supervisor's pino logger are evaluated when the log is first written, after the
// first jobs have started (src/log/deferred-logger.ts says why): src/log/load-logger.ts's static
// import becomes a require() inside loggerModule(), as for the template engine above.
const lazyLogger = {
  name: 'lazy-logger',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]log[\\/]load-logger\.ts$/ }, (args) => ({
      contents: "let logger; export function loggerModule() { return (logger ??= require('./logger.ts')); }",
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/** What every output shares: one minified CommonJS file per entry, for Node 20+. */
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  // Non-ASCII characters escaped: bin/pidpilot.js reads the bundle as latin1, without decoding UTF-8.
  charset: 'ascii',
  logLevel: 'warning',
  metafile: true,
};

const cli = await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: OUT,
  // Short names: V8's code cache holds every compiled function's name and its scopes'
  // variable names, and deserialises them at each start: 3.1M fewer instructions to the
  // first job (bench/README.md, start-up, fifth round). A stack trace of an internal error
  // then names minified functions; dist/pidpilot.cjs.map (written by the build, not
  // published: package.json `files`) maps its line:column back to src/ for the same version.
  // (keepNames would keep the names, but its __name calls cost more than the cut.)
  minifyIdentifiers: true,
  sourcemap: 'external',
  // The sources are ES modules: give them their import.meta.url in CommonJS,
  // and the version (src/version.ts), so that start-up reads no package.json for it.
  define: {
    'import.meta.url': '__pidpilot_import_meta.url',
    // src/builtins.ts: the bundle's own require, not one made by node:module's createRequire.
    __PIDPILOT_REQUIRE__: 'require',
    __PIDPILOT_VERSION__: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version),
  },
  // The file is the function Node's CommonJS loader would wrap it in (bin/pidpilot.js
  // compiles it with vm.Script, as it is): made here, not by joining strings at each start,
  // because V8 copies a joined source into one flat string before it compiles it, 375 KB of
  // fresh memory, whose page faults cost more than the copy here (bench/README.md, start-up).
  // The URL is made on first use: pathToFileURL at every start cost ≈ 0.xM instructions before the first job.
  banner: {
    js: `${WRAPPER}const __pidpilot_import_meta = { get url() { return require('node:url').pathToFileURL(__filename).href; } };`,
  },
  footer: { js: '})' },
  // Loaded (import()) only when configured — prom-client when `telemetry` is set — so it is
  // bundled apart, into dist/vendor/ (below), and required from there on first use: the
  // default path does not even parse it. (Consul is spoken over node:http: discovery/consul/http.ts.)
  // import() of what is not bundled (node:http, the vendored libraries) becomes a require():
  // no ESM loader at run time, and bin/pidpilot.js can compile the bundle with vm.Script
  // and its code cache (a script compiled from a code cache loses its import() callback).
  supported: { 'dynamic-import': false },
  plugins: [vendored(LAZY), slimStartUp, lazyTemplateEngine, lazyLogger],
});

// The vendored libraries, one file each: with them, the installed package has no dependency
// at all (nothing more to fetch, an offline or registry-less `npm install` of the tarball
// works, and the image copies one folder). A new runtime dependency goes in the bundle or here.
const vendor = await build({
  ...common,
  entryPoints: Object.fromEntries(VENDORED.map((name) => [name, name])),
  outdir: 'dist/vendor',
  outExtension: { '.js': '.cjs' },
});

// The notices of what was bundled (legalComments is 'none': the minified files carry none).
// dist/bundled-packages.json lists the packages, for the test that checks each has a notice.
const bundled = writeThirdPartyLicenses([cli.metafile, vendor.metafile], 'dist/THIRD_PARTY_LICENSES');
writeFileSync('dist/bundled-packages.json', `${JSON.stringify(bundled)}\n`);

// The dashboard page's files (pidpilot ui) are read at run time from the package.
cpSync('src/dashboard/assets', 'dist/dashboard-assets', { recursive: true });

// The code cache: one run of the built CLI with a one-job configuration (its own state dir
// and control socket), which writes the cache as it leaves. The cache is an optimisation
// only: if this run fails the build goes on without it, and says why.
const cache = `${OUT}.cache`;
rmSync(cache, { force: true });
const dir = mkdtempSync(join(tmpdir(), 'pidpilot-code-cache-'));
try {
  // JSON5 as people write it (comments, bare and quoted keys, single quotes, a trailing comma)
  // and the default places (in a runtime dir of the run's own): the functions of those paths
  // are compiled by this run, so they come from the cache rather than being compiled at each
  // start (bench/README.md has the figures).
  const config = join(dir, 'pidpilot.json5');
  writeFileSync(
    config,
    `// the build's warm-up run
{
  logging: { level: 'INFO', format: 'default', output: '/dev/null' },
  "jobs": [{ name: 'warm-up', exec: ["/bin/true"], },],
}
`,
  );
  const env = { ...process.env, PIDPILOT_WRITE_CODE_CACHE: cache, XDG_RUNTIME_DIR: dir };
  delete env.PIDPILOT_CPU_PROF;
  const r = spawnSync(process.execPath, ['bin/pidpilot.js', '-config', config], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0)
    process.stderr.write(
      `bundle: no code cache (the warm-up run exited ${r.status ?? r.signal ?? r.error}): start-up compiles from source\n${r.stderr ?? ''}`,
    );
  else if (codeCacheRejected(OUT, cache))
    throw new Error(
      'bundle: V8 rejects the code cache the warm-up run wrote (were V8 flags left changed when it was written? bin/pidpilot.js puts back those the run changes): every start would compile the bundle from source',
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
