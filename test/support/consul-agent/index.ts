/**
 * The Consul that integration tests run against: the Consul test agent (agent.ts), or a real
 * `consul agent -dev` when `CONSUL_BIN` points at a consul binary (real.ts). Tests talk to
 * either through Consul's HTTP API only, so the same assertions hold for both; what only the
 * test agent can do (count requests, serve HTTPS with a test certificate, reap critical
 * services in milliseconds) is behind `testAgent`, null for a real Consul.
 */
import { ConsulTestAgent } from './agent.js';
import { httpCall } from './http.js';
import { startRealConsul } from './real.js';

export interface ConsulUnderTest {
  /** `127.0.0.1:PORT` */
  readonly address: string;
  readonly url: string;
  /** The test agent, or null when this is a real Consul. */
  readonly testAgent: ConsulTestAgent | null;
  /** Close the port; `start()` opens it again (a real Consul loses its state doing so). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Restart, forgetting every registration. */
  restart(): Promise<void>;
  close(): Promise<void>;
  /** An HTTP call to the agent (with the ACL token, if one is required). */
  call(
    method: 'GET' | 'PUT',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown; headers: Headers }>;
}

export interface ConsulOptions {
  /** Require this ACL token. */
  token?: string;
}

export async function startConsul(options: ConsulOptions = {}): Promise<ConsulUnderTest> {
  const bin = process.env.CONSUL_BIN;
  if (bin) return startRealConsul(bin, options);
  const agent = await ConsulTestAgent.start({ token: options.token });
  return {
    get address() {
      return agent.address;
    },
    get url() {
      return agent.url;
    },
    testAgent: agent,
    stop: () => agent.stop(),
    start: () => agent.start(),
    restart: () => agent.restart(),
    close: () => agent.close(),
    call: (method, path, body) => httpCall(agent.url, options.token, method, path, body),
  };
}
