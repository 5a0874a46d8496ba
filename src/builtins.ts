/**
 * Node built-ins required on first use instead of imported: each `import` of one loads it when
 * the bundle starts, before the first job, whether or not this run needs it. node:net brings
 * all of node:stream with it (bench/README.md, "start-up": loading each costs about a tenth of
 * `node -e 0`). node:crypto is not needed at all: src/state/sha256.ts. Type-only imports are free.
 */
import { createRequire } from 'node:module';

/**
 * Set by scripts/bundle.mjs (esbuild `define`) to the CommonJS bundle's own `require`; elsewhere
 * (the ES modules of src/, an ES-module bundle of them) undefined, and a `require` is created.
 * node:module's createRequire costs ≈ 0.4M instructions, before the first job (bench/README.md).
 */
declare const __PIDPILOT_REQUIRE__: NodeJS.Require | undefined;

let created: NodeJS.Require | undefined;
const load = (id: string): unknown =>
  (typeof __PIDPILOT_REQUIRE__ === 'function' ? __PIDPILOT_REQUIRE__ : (created ??= createRequire(import.meta.url)))(
    id,
  );
let netModule: typeof import('node:net') | undefined;
let streamModule: typeof import('node:stream') | undefined;

/** node:net: sockets over the jobs' pipes, health checks, the control socket, address checks. */
export function net(): typeof import('node:net') {
  netModule ??= load('node:net') as typeof import('node:net');
  return netModule;
}

/** node:stream. */
export function stream(): typeof import('node:stream') {
  streamModule ??= load('node:stream') as typeof import('node:stream');
  return streamModule;
}

/** node:v8: it loads node:stream, so not before the first job has its pipes. */
export function v8(): typeof import('node:v8') {
  return load('node:v8') as typeof import('node:v8');
}
