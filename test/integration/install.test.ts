/**
 * Installing pidpilot as a user does: `npm install` of the packed tarball, into a fresh
 * project, offline with an empty npm cache (the package has no dependencies: everything it
 * runs is bundled), on a PATH that has node, npm and sh but no compiler, make or python.
 * The native addon then comes from prebuilds/; where none fits, the install still succeeds
 * and pidpilot runs with its fallback spawner, saying so.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support.js';

const NPM_CLI = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const TIMEOUT = 180_000;

let tmp: string;
let tarball: string;
let pathDir: string;

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    timeout: TIMEOUT,
    env: {
      HOME: join(tmp, 'home'),
      PATH: pathDir,
      npm_config_cache: join(tmp, 'npm-cache'),
      npm_config_update_notifier: 'false',
      ...env,
    },
  });
}

/** A new project that installs the tarball; returns its directory and npm's result. */
function installInto(name: string, env: Record<string, string> = {}): { app: string; r: SpawnSyncReturns<string> } {
  const app = join(tmp, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name, private: true }));
  const r = run(
    join(pathDir, 'npm'),
    ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', tarball],
    app,
    env,
  );
  return { app, r };
}

function writeConfig(): string {
  const config = join(tmp, `job-${Math.random().toString(36).slice(2)}.json5`);
  // regexReplaceAll loads re2js, which the package carries in dist/vendor/ (no node_modules).
  writeFileSync(
    config,
    `{ jobs: [ { name: 'hello', exec: ['/bin/sh', '-c', 'echo {{ regexReplaceAll "r[a-z]*g" "running" "installed and rng" }}'], logging: { raw: true } } ] }\n`,
  );
  return config;
}

describe('npm install of the packed tarball, without a compiler', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'pidpilot.cjs')))
      throw new Error('dist/pidpilot.cjs is missing: run `npm run build` first');
    if (!existsSync(NPM_CLI)) throw new Error(`npm's CLI is not at ${NPM_CLI}`);
    tmp = mkdtempSync(join(tmpdir(), 'pidpilot-install-'));
    mkdirSync(join(tmp, 'home'));
    // node, npm and sh only: no gcc, cc, make or python3 to compile with.
    pathDir = join(tmp, 'bin');
    mkdirSync(pathDir);
    symlinkSync(process.execPath, join(pathDir, 'node'));
    symlinkSync(NPM_CLI, join(pathDir, 'npm'));
    symlinkSync('/bin/sh', join(pathDir, 'sh'));
    // The package as published, from the current build (--ignore-scripts: no rebuild under other tests' feet).
    const pack = spawnSync(
      process.execPath,
      [NPM_CLI, 'pack', '--ignore-scripts', '--json', '--pack-destination', tmp],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: TIMEOUT,
      },
    );
    expect(pack.status, pack.stderr).toBe(0);
    tarball = join(tmp, (JSON.parse(pack.stdout) as [{ filename: string }])[0].filename);
  }, TIMEOUT);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships what runs: the bundle, its vendored libraries, the prebuilds, the schema; not the per-module dist/', () => {
    const listing = run('tar', ['-tzf', tarball], tmp, { PATH: '/usr/bin:/bin' });
    expect(listing.status, listing.stderr).toBe(0);
    const files = listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    for (const f of [
      'LICENSE',
      'bin/pidpilot.js',
      'bin/cpu-profile.js',
      'dist/pidpilot.cjs',
      'dist/pidpilot.cjs.cache',
      'dist/THIRD_PARTY_LICENSES',
      'dist/vendor/prom-client.cjs',
      'dist/vendor/node-gyp-build.cjs',
      'dist/vendor/re2js.cjs',
      'dist/vendor/execa.cjs',
      'dist/vendor/croner.cjs',
      'prebuilds/linux-x64/node.napi.glibc.node',
      'prebuilds/linux-arm64/node.napi.glibc.node',
      'prebuilds/linux-x64/node.napi.musl.node',
      'schema/pidpilot.schema.json',
      'binding.gyp',
      'native/spawn.c',
      'scripts/install.cjs',
    ]) {
      expect(files).toContain(f);
    }
    const shipped = ['dist/vendor/', 'dist/dashboard-assets/'];
    expect(
      files.filter(
        (f) =>
          f.startsWith('dist/') &&
          !shipped.some((d) => f.startsWith(d)) &&
          f !== 'dist/pidpilot.cjs' &&
          f !== 'dist/pidpilot.cjs.cache' &&
          f !== 'dist/THIRD_PARTY_LICENSES',
      ),
    ).toEqual([]);
  });

  it('has no compiler on the PATH it installs with', () => {
    for (const tool of ['gcc', 'cc', 'make', 'python3']) {
      expect(run('sh', ['-c', `command -v ${tool}`], tmp).status, `${tool} is reachable`).not.toBe(0);
    }
  });

  it(
    'installs offline with an empty cache, compiles nothing, and runs with the prebuilt native spawner',
    () => {
      const { app, r } = installInto('app-prebuilt');
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).not.toContain('could not compile');
      // No dependency was installed: there is none.
      expect(readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.'))).toEqual(['pidpilot']);
      expect(existsSync(join(app, 'node_modules', 'pidpilot', 'build'))).toBe(false);
      // PIDPILOT_SPAWN=native: pidpilot refuses to run at all if the addon does not load.
      const started = run(join(app, 'node_modules', '.bin', 'pidpilot'), ['-config', writeConfig()], app, {
        PIDPILOT_SPAWN: 'native',
      });
      expect(started.status, started.stdout + started.stderr).toBe(0);
      expect(started.stdout.split('\n')).toContain('installed and running');
      expect(started.stdout + started.stderr).not.toContain('node:child_process');
    },
    TIMEOUT,
  );

  it(
    'where no prebuilt addon fits and nothing can compile, still installs, and runs with the fallback spawner, saying so',
    () => {
      // node-gyp-build's override (<PACKAGE>_PREBUILD): look for the addon in an empty folder, as on an unsupported platform.
      const nowhere = join(tmp, 'no-prebuilds');
      mkdirSync(nowhere);
      const { app, r } = installInto('app-fallback', { PIDPILOT_PREBUILD: nowhere });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(
        /pidpilot: could not compile its native addon \(no prebuilt one loads on linux-\w+; .*\)\. pidpilot works without it, through its fallback spawner/,
      );
      const started = run(join(app, 'node_modules', '.bin', 'pidpilot'), ['-config', writeConfig()], app, {
        PIDPILOT_PREBUILD: nowhere,
      });
      expect(started.status, started.stdout + started.stderr).toBe(0);
      expect(started.stdout.split('\n')).toContain('installed and running');
      expect(started.stdout + started.stderr).toMatch(
        /native spawn addon is not built .* processes are spawned through execa/,
      );
    },
    TIMEOUT,
  );
});
