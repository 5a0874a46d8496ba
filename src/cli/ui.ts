/**
 * `pidpilot ui [-port N] [-listen ADDR] [-allow-actions] [-token TOKEN]`: serves the live
 * dashboard (src/dashboard/) of the supervisor behind the control socket. It runs as
 * whoever may use that socket; the supervisor itself opens no port for it. Runs until
 * interrupted (SIGINT, SIGTERM).
 */

import { DEFAULT_DASHBOARD_LISTEN, DEFAULT_DASHBOARD_PORT } from '../config/validate/dashboard.js';
import { DashboardServer } from '../dashboard/server.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { ControlClient, fail, runClient } from './client.js';

export function portFlag(raw: unknown): number {
  if (raw === undefined) return DEFAULT_DASHBOARD_PORT;
  const text = String(raw);
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65535)
    throw new UsageError(`-port takes a TCP port (0-65535), got "${text}"`);
  return Number(text);
}

export function ui(args: ParsedArgs): Promise<number> {
  return runClient(async () => {
    const port = portFlag(args.flags.port);
    const listen =
      typeof args.flags.listen === 'string' && args.flags.listen !== '' ? args.flags.listen : DEFAULT_DASHBOARD_LISTEN;
    const token = typeof args.flags.token === 'string' && args.flags.token !== '' ? args.flags.token : undefined;
    const client = ControlClient.fromArgs(args);
    // A first answer, so a wrong socket is an error now rather than a page that never fills.
    await client.call('GET', '/v3/ping');
    const server = new DashboardServer(client, {
      port,
      listen,
      allowActions: args.flags['allow-actions'] === true,
      token,
    });
    let url: string;
    try {
      url = await server.listen();
    } catch (err) {
      fail(`cannot serve the dashboard on ${listen}:${port}: ${(err as Error).message}`);
    }
    const actions = { on: 'on', token: 'need the token', off: 'off (not on loopback: use --allow-actions or --token)' }[
      server.actions
    ];
    process.stdout.write(
      `pidpilot dashboard on ${url} for the supervisor on ${client.socketPath}; actions ${actions}; Ctrl-C stops it\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  });
}
