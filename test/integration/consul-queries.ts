/** What the integration tests ask the Consul under test (test agent or real), and a poll for it. */
import type { ConsulUnderTest } from '../support/consul-agent/index.js';
import { until } from './support.js';

/** The agent's services by ID (empty when the agent does not answer). */
export async function agentServices(c: ConsulUnderTest): Promise<Record<string, Record<string, unknown>>> {
  const r = await c.call('GET', '/v1/agent/services');
  return r.status === 200 ? (r.json as Record<string, Record<string, unknown>>) : {};
}

/** The status of the TTL check of service `id`. */
export async function checkStatus(c: ConsulUnderTest, id: string): Promise<string | undefined> {
  const r = await c.call('GET', '/v1/agent/checks');
  if (r.status !== 200) return undefined;
  return (r.json as Record<string, { Status: string }>)[`service:${id}`]?.Status;
}

/** Polls an async condition until it holds (bounded by `until`'s load-scaled budget). */
export async function pollUntil(fn: () => Promise<boolean>, what: string): Promise<void> {
  let ok = false;
  await until(() => {
    void fn()
      .then((v) => (ok = v))
      .catch(() => (ok = false));
    return ok;
  }, what);
}
