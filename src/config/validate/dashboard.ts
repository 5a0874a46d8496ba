/**
 * The `dashboard` section: the supervisor serves the live page of `pidpilot ui` itself.
 * Off unless the section is there (`dashboard: {}` turns it on with the defaults: port
 * 8090 on 127.0.0.1). Beyond loopback the buttons need `allowActions` or a `token`.
 */
import * as builtins from '../../builtins.js';
import type { DashboardConfig } from '../types.js';
import { field, type Reader, readObject } from './core.js';
import { bool, int, str } from './scalars.js';

export const DEFAULT_DASHBOARD_PORT = 8090;
export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1';

const address: Reader<string> = (v, at) => {
  const s = str({ nonEmpty: true })(v, at);
  if (s === undefined) return undefined;
  if (s !== 'localhost' && builtins.net().isIP(s) === 0) {
    at.expected('an IP address to listen on (127.0.0.1, ::1, 0.0.0.0 …) or "localhost"', v);
    return undefined;
  }
  return s;
};

export const DASHBOARD_FIELDS = {
  port: field(int({ min: 1, max: 65535, what: 'a port number from 1 to 65535' })),
  listen: field(address),
  allowActions: field(bool),
  token: field(str({ nonEmpty: true })),
};

export const readDashboard: Reader<DashboardConfig> = (v, at) => {
  const f = readObject(v, at, DASHBOARD_FIELDS);
  if (!f) return undefined;
  const out: DashboardConfig = {
    port: f.port ?? DEFAULT_DASHBOARD_PORT,
    listen: f.listen ?? DEFAULT_DASHBOARD_LISTEN,
    allowActions: f.allowActions ?? false,
  };
  if (f.token !== undefined) out.token = f.token;
  return out;
};
