/**
 * A real Consul for the integration tests, when `CONSUL_BIN` is set: `consul agent -dev` on
 * free ports of 127.0.0.1 (HTTP, server RPC, Serf LAN/WAN; DNS and gRPC off), with ACLs
 * enabled (default deny) and the given token as the initial management token when the test
 * wants one. `start()` waits until the agent has a leader (`/v1/status/leader`). A dev agent
 * keeps its state in memory, so `stop()`/`start()` and `restart()` all forget registrations.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { httpCall } from './http.js';
import type { ConsulOptions, ConsulUnderTest } from './index.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const LEADER_WAIT_MS = 30_000;

export async function startRealConsul(bin: string, options: ConsulOptions): Promise<ConsulUnderTest> {
  const [http, server, serfLan, serfWan] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${http}`;
  const args = [
    'agent',
    '-dev',
    '-bind=127.0.0.1',
    '-client=127.0.0.1',
    `-http-port=${http}`,
    `-server-port=${server}`,
    `-serf-lan-port=${serfLan}`,
    `-serf-wan-port=${serfWan}`,
    '-dns-port=-1',
    '-grpc-port=-1',
    '-log-level=warn',
  ];
  if (options.token !== undefined) {
    args.push(
      '-hcl',
      `acl { enabled = true\n default_policy = "deny"\n tokens { initial_management = "${options.token}" } }`,
    );
  }
  let child: ChildProcess | null = null;
  let output = '';

  const start = async (): Promise<void> => {
    if (child) return;
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    c.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    c.once('exit', () => {
      if (child === c) child = null;
    });
    const deadline = Date.now() + LEADER_WAIT_MS;
    for (;;) {
      if (child !== c) throw new Error(`consul agent -dev exited during start:\n${output}`);
      try {
        const r = await httpCall(url, options.token, 'GET', '/v1/status/leader');
        if (r.status === 200 && typeof r.json === 'string' && r.json !== '') return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`consul agent -dev has no leader after ${LEADER_WAIT_MS} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    child = null;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    address: `127.0.0.1:${http}`,
    url,
    testAgent: null,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    close: stop,
    call: (method, path, body) => httpCall(url, options.token, method, path, body),
  };
}
