/**
 * Where pidpilot keeps its state (SPEC §7) and its control socket (SPEC §9).
 * Both defaults depend on what this process may write: as root in a container,
 * `/var/run`; as a user on a laptop, `$XDG_RUNTIME_DIR` or the working directory.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/types.js';

export interface DirOptions {
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** Overridable for tests: whether this process may create entries in `dir`. */
  writable?: (dir: string) => boolean;
}

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `state.dir`, else `/var/run/pidpilot` when `/var/run` is writable, else `$XDG_RUNTIME_DIR/pidpilot`, else `./.pidpilot`. */
export function resolveStateDir(config: Pick<Config, 'state'>, opts: DirOptions = {}): string {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const writable = opts.writable ?? canWrite;
  if (config.state.dir) return path.resolve(cwd, config.state.dir);
  if (writable('/var/run')) return '/var/run/pidpilot';
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg) && writable(xdg)) return path.join(xdg, 'pidpilot');
  return path.join(cwd, '.pidpilot');
}

/** `control.socket`, else ContainerPilot's `/var/run/containerpilot.socket` when `/var/run` is writable, else `<state dir>/control.sock`. */
export function resolveControlSocket(config: Pick<Config, 'state' | 'control'>, opts: DirOptions = {}): string {
  const cwd = opts.cwd ?? process.cwd();
  const writable = opts.writable ?? canWrite;
  if (config.control.socket) return path.resolve(cwd, config.control.socket);
  if (writable('/var/run')) return '/var/run/containerpilot.socket';
  return path.join(resolveStateDir(config, opts), 'control.sock');
}
