/**
 * Two jobs of one name (issue 14 defect 16, docs/containerpilot.md#duplicate-job-names): the
 * built binary runs both, as ContainerPilot does. They publish their events and register in
 * Consul under the shared name; status, control, dependsOn and the history call the second
 * `name#2`; validate and the start-up log warn, naming both entries.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConsulUnderTest, startConsul } from '../support/consul-agent/index.js';
import { agentServices, checkStatus, pollUntil } from './consul-queries.js';
import { curl, eventually, freePort } from './control-support.js';
import { useHarness } from './support.js';

const h = useHarness();

interface JobStatus {
  name: string;
  state: string;
  pid: number | null;
  health: string;
}

async function jobs(): Promise<Map<string, JobStatus>> {
  const r = await curl(h().socketPath, 'GET', '/v3/status');
  expect(r.status, r.body).toBe(200);
  return new Map((r.json.jobs as JobStatus[]).map((j) => [j.name, j]));
}

const agents: ConsulUnderTest[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.close();
});

describe('duplicate job names', () => {
  it('both jobs run (distinct PIDs); a warning names both entries; the second is addressed as name#2; events carry the shared name', async () => {
    const [first, second] = [h().uniqueArg(), h().uniqueArg()];
    const port = await freePort();
    const config = {
      telemetry: { port, interfaces: ['static:127.0.0.1'] },
      jobs: [
        { name: 'w', exec: ['sh', '-c', `echo first; exec sleep ${first}`] },
        { name: 'w', exec: ['sh', '-c', `echo second; exec sleep ${second}`] },
        // when.source names the shared name: it hears either of them (ContainerPilot's bus did).
        { name: 'on-w', exec: ['echo', 'heard w stop'], when: { source: 'w', once: 'stopped' } },
        { name: 'after-second', exec: ['echo', 'after the second'], dependsOn: [{ job: 'w#2', condition: 'started' }] },
      ],
    };
    const file = h().writeConfig(config);
    const warning = 'jobs[0] and jobs[1] are both named "w": both run';
    const v = await h().cli(['validate', '-config', file]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toContain(`warning: ${warning}`);
    expect(v.stderr).toContain('call jobs[1] "w#2"');

    const p = h().start(['-config', file]);
    await p.waitForLine(/started: pid/);
    expect(p.matching(/are both named/)).toEqual([expect.stringContaining(warning)]);
    await p.waitForLine(/ after-second after the second$/);
    const running = await eventually(async () => {
      const all = await jobs();
      return all.get('w')?.pid && all.get('w#2')?.pid ? all : null;
    }, 'both duplicates running');
    const [pid1, pid2] = [running.get('w')!.pid!, running.get('w#2')!.pid!];
    expect(pid1).not.toBe(pid2);
    const cmdline = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    expect(cmdline(pid1)).toContain(first);
    expect(cmdline(pid2)).toContain(second);

    // Telemetry labels each by its own name.
    await p.waitForLine(/telemetry: serving \/metrics/);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('pidpilot_job_state{job="w",state="running"} 1');
    expect(metrics).toContain('pidpilot_job_state{job="w#2",state="running"} 1');

    // The control API addresses the second by name#2 ('#' percent-encoded in the path).
    const stop = await curl(h().socketPath, 'POST', '/v3/jobs/w%232/stop');
    expect(stop.status, stop.body).toBe(200);
    await p.waitForLine(/ on-w heard w stop$/);
    const after = await jobs();
    expect(after.get('w#2')!.state).toBe('stopped');
    expect([after.get('w')!.state, after.get('w')!.pid]).toEqual(['running', pid1]);

    // The history keeps each one's output apart, under its own name.
    const logs = await curl(h().socketPath, 'GET', '/v3/jobs/w%232/logs');
    expect(logs.status, logs.body).toBe(200);
    expect(logs.body).toContain('second');
    expect(logs.body).not.toContain('first');
    const events = await curl(h().socketPath, 'GET', '/v3/events');
    const sources = events.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).source as string);
    expect(sources).toContain('w');
    expect(sources.filter((s) => s.includes('#'))).toEqual([]);

    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });

  it('two registration-only jobs of one name (the nginx image with ACME_DOMAIN): one Consul service, ID <name>-<hostname>, the last definition registered; both health checks run', async () => {
    const c = await startConsul();
    agents.push(c);
    const id = `edge-${hostname()}`;
    const check = (mark: string) => ({ exec: ['sh', '-c', `echo ${mark}`], interval: '200ms', ttl: '10s' });
    const p = h().run({
      consul: c.address,
      jobs: [
        { name: 'keeper', exec: ['sleep', h().uniqueArg()] },
        {
          name: 'edge',
          port: 8443,
          interfaces: ['static:10.1.1.1'],
          tags: ['private'],
          health: check('private-check'),
        },
        { name: 'edge', port: 8443, interfaces: ['static:10.2.2.2'], tags: ['public'], health: check('public-check') },
      ],
    });
    await p.waitForLine(/jobs\[1\] and jobs\[2\] are both named "edge"/);
    await pollUntil(async () => (await checkStatus(c, id)) === 'passing', 'the registration');
    const services = await agentServices(c);
    expect(Object.keys(services)).toEqual([id]);
    expect(services[id]).toMatchObject({ ID: id, Service: 'edge', Address: '10.2.2.2', Port: 8443, Tags: ['public'] });
    // Each definition's own health check runs.
    await p.waitForLine(/ check\.edge private-check$/);
    await p.waitForLine(/ check\.edge public-check$/);
    await eventually(async () => {
      const all = await jobs();
      return all.get('edge')?.health === 'healthy' && all.get('edge#2')?.health === 'healthy';
    }, 'both healthy in status');

    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    expect(await agentServices(c)).toEqual({});
  });
});
