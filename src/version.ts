import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './package-root.js';

/** Set by scripts/bundle.mjs (esbuild `define`): the bundle does not read package.json at start-up. */
declare const __PIDPILOT_VERSION__: string | undefined;

/** The package version: written into the bundle at build time, else (src/, tests) read once from package.json. */
export const VERSION: string =
  typeof __PIDPILOT_VERSION__ === 'string'
    ? __PIDPILOT_VERSION__
    : (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
