// `npm run prebuild`: compiles the native addon (native/*.c) for the platforms pidpilot ships
// prebuilt, into prebuilds/<platform>-<arch>/ where node-gyp-build finds them, so installing
// pidpilot there needs no compiler (the prebuilds are committed; CI checks they are current).
//
// Built against Node-API only (the node-api-headers package: no Node source download) plus
// libuv's headers (the addon watches pidfds and signals in libuv's loop; libuv 1.x keeps its
// ABI), taken from the running Node's include/node. N-API is ABI-stable across Node versions:
// one binary per platform serves Node 20, 22, 24 …
//
// Cross compilers (Debian): gcc-aarch64-linux-gnu, musl-tools.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** What is built: the file name carries node-gyp-build's tags (napi; libc for Linux). */
export const TARGETS = [
  { dir: 'linux-x64', file: 'node.napi.glibc.node', cc: 'gcc', apt: 'gcc', glibcBase: 'GLIBC_2.2.5' },
  {
    dir: 'linux-arm64',
    file: 'node.napi.glibc.node',
    cc: 'aarch64-linux-gnu-gcc',
    apt: 'gcc-aarch64-linux-gnu',
    glibcBase: 'GLIBC_2.17',
  },
  { dir: 'linux-x64', file: 'node.napi.musl.node', cc: 'musl-gcc', apt: 'musl-tools' },
];

/**
 * For the glibc builds: bind pthread_sigmask to its first version (in libpthread before glibc
 * 2.32, in libc since, which keeps it as a compat symbol) rather than GLIBC_2.32, so that the
 * prebuilt addon loads on glibc >= 2.28 (Debian 11, Ubuntu 20.04, RHEL 8), as Node's own
 * binaries do. A libc too old to load it makes the install compile it instead.
 */
function glibcCompatHeader(dir, base) {
  const file = join(dir, `glibc-compat-${base}.h`);
  writeFileSync(file, `__asm__(".symver pthread_sigmask,pthread_sigmask@${base}");\n`);
  return file;
}

const SOURCES = ['native/spawn.c', 'native/reaper.c', 'native/notify.c', 'native/pipes.c', 'native/memory.c'];

/** Flags as binding.gyp's, plus what node-gyp adds for a shared module; stripped: it ships. */
const CFLAGS = [
  '-std=gnu11',
  '-Wall',
  '-Wextra',
  '-O2',
  '-fPIC',
  '-pthread',
  '-fvisibility=hidden',
  '-DNAPI_VERSION=8',
  '-DNODE_GYP_MODULE_NAME=pidpilot_spawn',
  '-D_FILE_OFFSET_BITS=64',
];
const LDFLAGS = ['-shared', '-s', '-Wl,-z,noexecstack'];

/** sha256 of every file in native/: prebuilds/SOURCES.sha256 records what they were built from. */
export function sourceDigests(dir = root) {
  return readdirSync(join(dir, 'native'))
    .sort()
    .map(
      (name) =>
        `${createHash('sha256')
          .update(readFileSync(join(dir, 'native', name)))
          .digest('hex')}  native/${name}\n`,
    )
    .join('');
}

function fail(message) {
  process.stderr.write(`prebuild: ${message}\n`);
  process.exit(1);
}

/** A directory holding only uv.h and uv/ from the running Node's headers (not its node_api.h). */
function uvIncludeDir() {
  const nodeInclude = join(dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(join(nodeInclude, 'uv.h'))) {
    fail(
      `libuv's headers are not at ${nodeInclude}/uv.h (Node's own include dir, shipped with Node's binary builds and Debian's nodejs)`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'pidpilot-uv-'));
  symlinkSync(join(nodeInclude, 'uv.h'), join(dir, 'uv.h'));
  symlinkSync(join(nodeInclude, 'uv'), join(dir, 'uv'));
  return dir;
}

function main() {
  const napiInclude = join(dirname(require.resolve('node-api-headers/package.json')), 'include');
  const uvDir = uvIncludeDir();
  try {
    for (const t of TARGETS) {
      const which = spawnSync('sh', ['-c', `command -v ${t.cc}`], { encoding: 'utf8' });
      if (which.status !== 0) fail(`${t.cc} is missing (Debian: apt-get install ${t.apt})`);
      const out = join(root, 'prebuilds', t.dir, t.file);
      mkdirSync(dirname(out), { recursive: true });
      const compat = t.glibcBase ? ['-include', glibcCompatHeader(uvDir, t.glibcBase)] : [];
      const args = [
        ...CFLAGS,
        ...compat,
        `-I${napiInclude}`,
        `-I${uvDir}`,
        ...SOURCES.map((s) => join(root, s)),
        ...LDFLAGS,
        '-o',
        out,
      ];
      const r = spawnSync(t.cc, args, { stdio: 'inherit' });
      if (r.status !== 0) fail(`${t.cc} failed building ${t.dir}/${t.file}`);
      process.stdout.write(`prebuilds/${t.dir}/${t.file}\n`);
    }
  } finally {
    rmSync(uvDir, { recursive: true, force: true });
  }
  writeFileSync(join(root, 'prebuilds', 'SOURCES.sha256'), sourceDigests());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
