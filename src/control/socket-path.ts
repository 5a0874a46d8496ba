/**
 * The control socket in use, for the supervisor and its clients alike: `control.socket`
 * from the file, else `$PIDPILOT_CONTROL_SOCKET`, else the default of `resolveControlSocket`
 * (ContainerPilot's `/var/run/containerpilot.socket` as PID 1, else the project's own
 * directory, see src/state/dir.ts). The variable lets several supervisors run side by side
 * as root (CI, tests) without each file naming a socket.
 */
import { resolve as resolvePath } from 'node:path';
import type { Config } from '../config/types.js';
import { findControlSocket, resolveControlSocket } from '../state/dir.js';

export const CONTROL_SOCKET_ENV = 'PIDPILOT_CONTROL_SOCKET';

type SocketConfig = Pick<Config, 'state' | 'control' | 'file'> & { files?: readonly string[] };

/** The socket the supervisor binds. */
export function controlSocketPath(
  config: SocketConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const fromEnv = env[CONTROL_SOCKET_ENV];
  if (!config.control.socket && fromEnv) return resolvePath(fromEnv);
  return resolveControlSocket(config, { env });
}

/** The socket a client talks to: the same, except that it also finds a supervisor that is PID 1 of this container. */
export function clientSocketPath(
  config: SocketConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const fromEnv = env[CONTROL_SOCKET_ENV];
  if (!config.control.socket && fromEnv) return resolvePath(fromEnv);
  return findControlSocket(config, { env });
}
