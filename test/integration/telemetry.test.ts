/**
 * Telemetry of the built binary (docs/telemetry.md), checked by Prometheus' own tools: the
 * `/metrics` text passes `promtool check metrics`, and a real Prometheus server scrapes
 * pidpilot and returns a user metric (set with `-putmetric`) through its query API.
 * Both come from the Debian package `prometheus` (installed by .ci/run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { curl, eventually, freePort } from './control-support.js';
import { sleep, useHarness, WAIT_MS } from './support.js';

const h = useHarness();

async function get(url: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

/** Lint rules promtool applies that pidpilot breaks on purpose or cannot help (see the test). */
const ACCEPTED_LINT = [
  // ContainerPilot's counters had no _total suffix; dashboards query them by those names.
  /^containerpilot_(events|control_http_requests) counter metrics should have "_total" suffix$/,
  // A user's counter is named by the user's config.
  /^app_requests counter metrics should have "_total" suffix$/,
  // prom-client's own Node.js gauges.
  /^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/,
];

function promtool(text: string): { status: number | null; problems: string[] } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error)
    throw new Error(`promtool is not installed (Debian package prometheus; .ci/run installs it): ${r.error.message}`);
  const problems = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '');
  return { status: r.status, problems };
}

function telemetryConfig(port: number, extra: object = {}) {
  return {
    telemetry: {
      port,
      metrics: [
        { name: 'queue_depth', help: 'items waiting', type: 'gauge' },
        { namespace: 'app', name: 'requests', help: 'requests served', type: 'counter' },
        { name: 'latency_seconds', help: 'request latency', type: 'histogram', buckets: [0.1, 1, 10] },
        { name: 'payload_bytes', help: 'payload sizes', type: 'summary' },
      ],
    },
    ...extra,
  };
}

describe('/metrics and /status', () => {
  it('serve user metrics fed by -putmetric and /v3/metric (exposed and legacy names), internal and process metrics; promtool accepts the output', async () => {
    const port = await freePort();
    const file = h().writeConfig(
      telemetryConfig(port, {
        jobs: [
          { name: 'keeper', exec: ['sleep', h().uniqueArg()] },
          { name: 'quick', exec: ['true'] },
          { name: 'checked', exec: ['sleep', h().uniqueArg()], health: { exec: ['true'], interval: '200ms', ttl: 5 } },
        ],
      }),
    );
    const p = h().start(['-config', file]);
    await p.waitForLine(new RegExp(`telemetry: serving /metrics and /status on port ${port}`));

    const put = await h().cli([
      '-config',
      file,
      '-putmetric',
      'queue_depth=7',
      '-putmetric',
      'app_requests=2',
      '-putmetric',
      'latency_seconds=0.5',
    ]);
    expect(put.code, put.stderr).toBe(0);
    // ContainerPilot's matching name for a metric with only `name`: `__` + name.
    expect(
      (await curl(h().socketPath, 'POST', '/v3/metric', '{"__payload_bytes": 100, "app_requests": "3"}')).status,
    ).toBe(200);
    expect((await curl(h().socketPath, 'POST', '/v3/metric', '{"queue_depth": "deep"}')).status).toBe(422);

    const m = await eventually(async () => {
      const r = await get(`http://127.0.0.1:${port}/metrics`);
      const ran = /pidpilot_job_run_duration_seconds_count\{job="quick",outcome="succeeded"\} 1/.test(r.text);
      const checked = /pidpilot_health_check_duration_seconds_count\{job="checked",outcome="succeeded"\} [1-9]/.test(
        r.text,
      );
      return ran && checked ? r : null;
    }, 'the quick run and a health check of checked in the metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const lines = m.text.split('\n');
    for (const expected of [
      'queue_depth 7',
      'app_requests 5',
      'latency_seconds_bucket{le="1"} 1',
      'payload_bytes_sum 100',
      'containerpilot_events{code="startup",source="global"} 1',
      'containerpilot_events{code="exitSuccess",source="quick"} 1',
      'containerpilot_control_http_requests{path="/v3/metric",code="422"} 1',
      'pidpilot_job_restarts_total{job="keeper"} 0',
      'pidpilot_job_state{job="keeper",state="running"} 1',
      'pidpilot_job_state{job="quick",state="completed"} 1',
    ]) {
      expect(lines, expected).toContain(expected);
    }
    expect(m.text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(m.text).toMatch(/^nodejs_heap_size_used_bytes \d/m);

    const checked = promtool(m.text);
    expect(checked.status, checked.problems.join('\n')).not.toBe(1); // 1: not parseable
    expect(checked.problems.filter((l) => !ACCEPTED_LINT.some((re) => re.test(l)))).toEqual([]);
    // The check can fail: a broken exposition is refused.
    expect(promtool(`${m.text}broken{ 1\n`).status).toBe(1);

    const status = await get(`http://127.0.0.1:${port}/status`);
    expect(status.status).toBe(200);
    const doc = JSON.parse(status.text);
    expect(doc.jobs.map((j: { name: string }) => j.name)).toEqual(['keeper', 'quick', 'checked']);
    expect((await get(`http://127.0.0.1:${port}/nope`)).status).toBe(404);

    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  });

  it('a port already in use: telemetry is off with an error, the jobs run anyway', async () => {
    const port = await freePort();
    const blocker = (await import('node:net')).createServer();
    await new Promise<void>((r) => blocker.listen(port, r));
    try {
      const p = h().run(
        telemetryConfig(port, { jobs: [{ name: 'keeper', exec: ['sh', '-c', 'echo up; exec sleep 3600'] }] }),
      );
      await p.waitForLine(/telemetry: cannot serve on port \d+: .*EADDRINUSE.*running without it/);
      await p.waitForLine(/ keeper up$/);
      p.signal('SIGTERM');
      expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
    } finally {
      blocker.close();
    }
  });
});

describe('a real Prometheus server', () => {
  it('scrapes pidpilot and answers a query for a user metric set with -putmetric', async () => {
    const [port, promPort] = [await freePort(), await freePort()];
    const file = h().writeConfig(
      telemetryConfig(port, { jobs: [{ name: 'keeper', exec: ['sleep', h().uniqueArg()] }] }),
    );
    const p = h().start(['-config', file]);
    await p.waitForLine(/telemetry: serving/);
    const put = await h().cli(['-config', file, '-putmetric', 'queue_depth=42']);
    expect(put.code, put.stderr).toBe(0);

    const dataDir = h().path('prometheus-data');
    mkdirSync(dataDir);
    const promConfig = h().path('prometheus.yml');
    writeFileSync(
      promConfig,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: pidpilot',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${port}']`,
        '',
      ].join('\n'),
    );
    const prom = spawn(
      'prometheus',
      [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prom.stderr.on('data', (d: Buffer) => (promLog += d.toString()));
    const promExited = new Promise<number | null>((r) => prom.on('exit', (code) => r(code)));
    try {
      const value = await eventually(
        async () => {
          if (prom.exitCode !== null) throw new Error(`prometheus exited with ${prom.exitCode}:\n${promLog}`);
          try {
            const r = await get(
              `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('queue_depth{job="pidpilot"}')}`,
            );
            const doc = JSON.parse(r.text) as { status: string; data?: { result: Array<{ value: [number, string] }> } };
            return doc.status === 'success' && doc.data!.result.length > 0 ? doc.data!.result[0]!.value[1] : null;
          } catch {
            return null; // not up yet
          }
        },
        `Prometheus to have scraped queue_depth\n${promLog}`,
        WAIT_MS * 3,
      );
      expect(value).toBe('42');
      const up = await get(
        `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('up{job="pidpilot"}')}`,
      );
      expect(JSON.parse(up.text).data.result[0].value[1]).toBe('1');
    } finally {
      prom.kill('SIGTERM');
      await Promise.race([promExited, sleep(10_000).then(() => prom.kill('SIGKILL'))]);
    }
    p.signal('SIGTERM');
    expect(await p.waitExit(), p.transcript()).toEqual({ code: 0, signal: null });
  }, 120_000);
});
