/**
 * Who may do what on the dashboard. Reading is open to whoever reaches the port, which is
 * why it listens on loopback unless told otherwise. The start/stop/restart buttons:
 * - work on loopback, or beyond it only with `--allow-actions` or a token;
 * - need the page's own random header (`x-pidpilot-csrf`), which another site's page
 *   cannot send (a custom header makes the browser ask first, and nobody answers yes);
 * - with a token, need `x-pidpilot-token` equal to it (compared in constant time).
 * On loopback the Host header must name loopback too, so a DNS name rebound to 127.0.0.1
 * cannot make the browser read the page as another site.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface AccessOptions {
  listen: string;
  allowActions: boolean;
  token?: string;
}

export function isLoopback(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Access {
  /** Sent in the page; the page sends it back on every action. */
  readonly csrf = randomBytes(18).toString('base64url');
  readonly loopback: boolean;

  constructor(private readonly opts: AccessOptions) {
    this.loopback = isLoopback(opts.listen);
  }

  /** `off`, `on`, or `token` (on, and the page must ask for the token). */
  get actions(): 'off' | 'on' | 'token' {
    if (this.opts.token) return 'token';
    return this.loopback || this.opts.allowActions ? 'on' : 'off';
  }

  /** Null when the request may be served; else why not (403). */
  hostProblem(req: IncomingMessage): string | null {
    if (!this.loopback) return null;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    return isLoopback(host) ? null : `this dashboard answers only to a loopback host name, not "${host}"`;
  }

  /** Null when an action may be done; else why not (403). */
  actionProblem(req: IncomingMessage): string | null {
    const mode = this.actions;
    if (mode === 'off')
      return 'actions are off on a dashboard served beyond loopback: start pidpilot ui with --allow-actions or --token';
    if (!sameSecret(String(req.headers['x-pidpilot-csrf'] ?? ''), this.csrf))
      return 'this action did not come from the dashboard page (reload it)';
    if (mode === 'token' && !sameSecret(String(req.headers['x-pidpilot-token'] ?? ''), this.opts.token!))
      return 'wrong or missing token';
    return null;
  }
}
