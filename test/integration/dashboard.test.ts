/**
 * `pidpilot ui` in a real browser (Debian's headless Chromium over the DevTools protocol):
 * the page lists every job, a change made elsewhere (the CLI) arrives without a reload,
 * the restart button restarts the job (a new PID, the same the control socket reports),
 * the job's output tails, the graph is drawn. The run writes a screenshot (to
 * $PIDPILOT_SCREENSHOTS, else the test's temp dir): `npm run screenshots` refreshes the README's.
 * And the same page served by the supervisor itself (the `dashboard` section), over plain HTTP.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Browser, findChromium } from '../support/browser.js';
import { curl, eventually, freePort } from './control-support.js';
import { useHarness } from './support.js';
import { viewJobs } from './view-jobs.js';

const h = useHarness();
const chromium = findChromium();
if (!chromium)
  console.warn(
    'dashboard browser test skipped: no chromium on this machine (Debian: apt-get install chromium; npm test installs it as root)',
  );

describe.skipIf(!chromium)('the dashboard in a real browser', () => {
  it('shows every job live, restarts one from its button, tails its output, draws the graph', {
    timeout: 120_000,
  }, async () => {
    const file = h().writeConfig({
      state: { dir: h().path('state') },
      jobs: [
        ...viewJobs(h()),
        { name: 'worker', exec: ['sleep', h().uniqueArg()], dependsOn: [{ job: 'db', condition: 'healthy' }] },
        { name: 'migrate', exec: ['sh', '-c', 'echo migrated'], when: { source: 'db', once: 'healthy' } },
      ],
    });
    const supervisor = h().start(['-config', file]);
    await supervisor.waitForLine(/ web web serving as \d+$/);
    const ui = h().start(['ui', '--port', '0', '-config', file]);
    const url = (await ui.waitForLine(/^pidpilot dashboard on http:\/\/127\.0\.0\.1:\d+\//)).split(' ')[3]!;

    const browser = new Browser(chromium!);
    try {
      await browser.open(url);
      const names = await browser.until<string[]>(
        `(() => { const n = [...document.querySelectorAll('#jobs tbody tr')].map((r) => r.dataset.job); return n.length === 4 && n; })()`,
        'the four jobs',
      );
      expect(names).toEqual(['db', 'web', 'worker', 'migrate']);
      await browser.until(
        `document.querySelector('tr[data-job="worker"] td.state').textContent === 'running'`,
        'worker running',
      );

      // A change made elsewhere arrives live: no reload (the page is the same document, marked).
      await browser.evaluate('window.sameDocument = true');
      const stopped = await h().cli(['stop', 'worker', '-config', file]);
      expect(stopped.code, stopped.stderr).toBe(0);
      await browser.until(
        `document.querySelector('tr[data-job="worker"] td.state').textContent === 'stopped'`,
        'worker shown stopped',
      );
      expect(await browser.evaluate('window.sameDocument')).toBe(true);

      // Restart from the page: a new PID, the one the supervisor reports.
      const pidCell = `document.querySelector('tr[data-job="web"] td.pid').textContent`;
      const oldPid = Number(await browser.until<string>(`/^\\d+$/.test(${pidCell}) && ${pidCell}`, 'a pid for web'));
      await browser.click('tr[data-job="web"] button.restart');
      const newPid = Number(
        await browser.until<string>(
          `/^\\d+$/.test(${pidCell}) && ${pidCell} !== '${oldPid}' && ${pidCell}`,
          'a new pid for web',
        ),
      );
      expect(newPid).not.toBe(oldPid);
      const reported = await eventually(async () => {
        const s = await curl(h().socketPath, 'GET', '/v3/status');
        return (s.json.jobs as Array<{ name: string; pid: number | null }>).find((j) => j.name === 'web')?.pid;
      }, 'web pid from the socket');
      expect(reported).toBe(newPid);
      await browser.until(
        `document.querySelector('#action-result').textContent.startsWith('web: restart done')`,
        'the restart result',
      );

      // The output pane follows the selected job: both runs of web, live.
      await browser.click('tr[data-job="web"] td.name');
      await browser.until(
        `document.querySelector('#output').textContent.includes('web serving as ${newPid}')`,
        'the new run of web in the output',
      );
      expect(await browser.evaluate<string>(`document.querySelector('#output').textContent`)).toContain(
        `web serving as ${oldPid}`,
      );

      // The event stream, and the graph drawn by pidpilot with the jobs coloured by state.
      await browser.until(
        `[...document.querySelectorAll('#events li')].some((li) => /stopped worker/.test(li.textContent))`,
        'the stopped event',
      );
      await browser.until(
        `document.querySelector('#graph svg g.node[data-job="web"]')?.getAttribute('class') === 'node job s-running'`,
        'the graph',
      );
      const edges = await browser.evaluate<number>(`document.querySelectorAll('#graph svg g.edge').length`);
      expect(edges).toBe(3); // db -> web, db -> worker (dependencies), db -> migrate (trigger)

      const png = await browser.screenshot();
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      const dir = process.env.PIDPILOT_SCREENSHOTS ?? h().dir;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'dashboard.png'), png);
      expect(browser.console.filter((l) => l.startsWith('exception'))).toEqual([]);
    } finally {
      await browser.close();
    }
    ui.signal('SIGINT');
    expect(await ui.waitExit()).toEqual({ code: 0, signal: null });
    supervisor.signal('SIGTERM');
    await supervisor.waitExit();
  });
});

/** One HTTP request with node:http (which, unlike fetch, lets a test send any Host header). */
function get(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; until?: RegExp } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
        // A stream (server-sent events) is read until what the test waits for has come.
        if (opts.until?.test(body)) {
          res.destroy();
          resolve({ status: res.statusCode!, headers: res.headers, body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard served by the supervisor (config section dashboard)', () => {
  it('serves the page and its API on loopback; actions need the page header; a foreign Host is refused; bad settings are config errors', async () => {
    const port = await freePort();
    const file = h().writeConfig({
      state: { dir: h().path('state') },
      dashboard: { port },
      jobs: [{ name: 'web', exec: ['sh', '-c', `echo "web serving as $$"; exec sleep ${h().uniqueArg()}`] }],
    });
    const p = h().start(['-config', file]);
    await p.waitForLine(new RegExp(`dashboard: serving on http://127\\.0\\.0\\.1:${port}/; actions on`), {
      stream: 'any',
    });
    await p.waitForLine(/ web web serving as \d+$/);
    const base = `http://127.0.0.1:${port}`;

    const page = await get(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    const csrf = /name="pidpilot-csrf" content="([^"]+)"/.exec(page.body)![1]!;
    expect((await get(`${base}/app.js`)).body).toContain('EventSource');
    expect((await get(`${base}/graph.svg`)).body).toContain('data-job="web"');
    const status = JSON.parse((await get(`${base}/api/status`)).body);
    const oldPid = status.jobs[0].pid as number;
    expect(oldPid).toBeGreaterThan(0);
    const stream = await get(`${base}/api/stream`, { until: /event: status\ndata: .*"name":"web"/ });
    expect(stream.headers['content-type']).toBe('text/event-stream');

    // Another site's page cannot send the header; a DNS name rebound to 127.0.0.1 is refused.
    expect((await get(`${base}/api/jobs/web/restart`, { method: 'POST' })).status).toBe(403);
    expect((await get(`${base}/`, { headers: { host: `rebound.example:${port}` } })).status).toBe(403);
    const restarted = await get(`${base}/api/jobs/web/restart`, {
      method: 'POST',
      headers: { 'x-pidpilot-csrf': csrf },
    });
    expect([restarted.status, JSON.parse(restarted.body).action]).toEqual([200, 'restart']);
    await eventually(async () => {
      const s = await curl(h().socketPath, 'GET', '/v3/status');
      const pid = s.json.jobs[0].pid as number | null;
      return pid !== null && pid !== oldPid;
    }, 'web restarted');

    p.signal('SIGTERM');
    expect(await p.waitExit()).toEqual({ code: 0, signal: null });

    for (const [dashboard, message] of [
      [{ port: 0 }, /dashboard\.port: expected a port number from 1 to 65535/],
      [{ listen: 'example.com' }, /dashboard\.listen: expected an IP address/],
      [{ tokn: 'x' }, /dashboard\.tokn: unknown field `tokn`; did you mean `token`\?/],
    ] as const) {
      const bad = h().writeConfig({ dashboard, jobs: [{ name: 'x', exec: ['true'] }] }, 'bad.json5');
      const r = await h().cli(['validate', '-config', bad]);
      expect([r.code, r.stderr], JSON.stringify(dashboard)).toEqual([2, expect.stringMatching(message)]);
    }
  });
});
