/**
 * Running the project's image under podman, for the container tests: rootful, runc (crun
 * refuses hybrid cgroup hosts), no network, and explicit ulimits (podman's defaults exceed
 * what root may set on some hosts). Nothing is pulled: the base image is made from this
 * machine's Node (base-image.sh), unless PIDPILOT_TEST_NODE_IMAGE names one to use instead.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../integration/support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const NPM_CLI = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
/** Every name this suite gives an image or container starts with it. */
export const PREFIX = 'pidpilot-test';

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Why the container tests cannot run here, or null when they can. */
export function missing(): string | null {
  if (process.platform !== 'linux') return 'they need Linux';
  if (process.getuid?.() !== 0) return 'they need root (rootful podman)';
  const tools = ['podman', 'runc', ...(process.env.PIDPILOT_TEST_NODE_IMAGE ? [] : ['busybox'])].filter((t) => !has(t));
  if (tools.length > 0)
    return `${tools.join(', ')} missing (Debian: apt-get install podman runc busybox-static; npm test's pretest installs them)`;
  return null;
}

/** The hard limit `name` in /proc/self/limits (e.g. 'Max open files'), as podman's --ulimit wants it. */
function hardLimit(name: string): string {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  return hard === undefined || hard === 'unlimited' ? '-1' : hard;
}

/** --ulimit flags root may set here: nofile at our hard limit, nproc at 32768 (or lower if capped). */
export function ulimits(): string[] {
  const nofile = hardLimit('Max open files');
  const procHard = hardLimit('Max processes');
  const nproc = procHard === '-1' ? '32768' : String(Math.min(32768, Number(procHard)));
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
}

export function podman(args: string[], timeoutMs = 120_000): SpawnSyncReturns<string> {
  return spawnSync('podman', ['--runtime', 'runc', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** podman, failing with its output unless it exits 0; returns its stdout. */
export function podmanOk(args: string[], timeoutMs?: number): string {
  const r = podman(args, timeoutMs);
  if (r.status !== 0)
    throw new Error(`podman ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * The local base image: made once per Node binary (the tag names its version and a digest of
 * its path, size and mtime) and kept as the cache; older ones of ours are removed.
 */
function baseImage(): string {
  const given = process.env.PIDPILOT_TEST_NODE_IMAGE;
  if (given) return given;
  const st = statSync(process.execPath);
  const key = `${process.versions.node}-${Buffer.from(`${process.execPath}:${st.size}:${st.mtimeMs}`).toString('base64url').slice(-12).toLowerCase()}`;
  const image = `localhost/${PREFIX}-base:${key}`;
  if (podman(['image', 'exists', image]).status === 0) return image;
  for (const old of podmanOk([
    'images',
    '--format',
    '{{.Repository}}:{{.Tag}}',
    '--filter',
    `reference=localhost/${PREFIX}-base`,
  ])
    .split('\n')
    .filter(Boolean)) {
    podman(['rmi', '-f', old]);
  }
  const r = spawnSync('bash', [join(HERE, 'base-image.sh'), image], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`base-image.sh failed:\n${r.stdout}\n${r.stderr}`);
  return image;
}

/**
 * Builds docker/Dockerfile as a user would: `npm pack` of the current build (no rebuild under
 * the other tests' feet), then `podman build` of a context holding that tarball and examples/.
 * Returns the image name; removeImage() deletes it. --layers=false: no intermediate image of
 * ours is left behind (the build takes seconds; only the base image is worth keeping).
 */
export function buildImage(tag: string): string {
  const context = mkdtempSync(join(tmpdir(), `${PREFIX}-context-`));
  try {
    const pack = spawnSync(process.execPath, [NPM_CLI, 'pack', '--ignore-scripts', '--pack-destination', context], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (pack.status !== 0) throw new Error(`npm pack failed:\n${pack.stderr}`);
    cpSync(join(ROOT, 'examples'), join(context, 'examples'), { recursive: true });
    copyFileSync(join(ROOT, 'docker', 'Dockerfile'), join(context, 'Dockerfile'));
    const image = `localhost/${PREFIX}:${tag}`;
    podmanOk(
      [
        'build',
        '--layers=false',
        '--network=none',
        ...ulimits(),
        '--format',
        'docker',
        '--build-arg',
        `NODE_IMAGE=${baseImage()}`,
        '-t',
        image,
        context,
      ],
      600_000,
    );
    return image;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export function removeImage(image: string): void {
  podman(['rmi', '-f', image]);
}

/** Runs the image with the suite's flags; `args` go to podman run before the image, `cmd` after it. */
export function runFlags(args: string[]): string[] {
  return ['run', '--network=none', ...ulimits(), ...args];
}
