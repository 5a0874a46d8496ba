/**
 * The control socket in use, for the supervisor and its clients alike: `control.socket`
 * from the file, else `$PIDPILOT_CONTROL_SOCKET`, else the default of `resolveControlSocket`
 * (ContainerPilot's `/var/run/containerpilot.socket` as root). The variable lets several
 * supervisors run side by side as root (CI, tests) without each file naming a socket.
 */
import path from 'node:path';
import type { Config } from '../config/types.js';
import { resolveControlSocket } from '../state/dir.js';

export const CONTROL_SOCKET_ENV = 'PIDPILOT_CONTROL_SOCKET';

export function controlSocketPath(
  config: Pick<Config, 'state' | 'control'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const fromEnv = env[CONTROL_SOCKET_ENV];
  if (!config.control.socket && fromEnv) return path.resolve(fromEnv);
  return resolveControlSocket(config);
}
