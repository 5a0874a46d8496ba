/**
 * pidpilot in a real container: the project's docker/Dockerfile, built with podman from the
 * packed package (see podman.ts), run as the image's ENTRYPOINT. Needs root, podman, runc and
 * busybox-static; skips, saying so, where they are missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until as poll } from '../integration/support.js';
import { buildImage, missing, PREFIX, podman, podmanOk, removeImage, runFlags } from './podman.js';

/**
 * The container's exit status after `podman stop`, by README "Exit status": with `main` set,
 * the status the main job ended with in that shutdown (STOP_APP traps TERM and exits 3).
 */
const STOP_STATUS = 3;

const WAIT_MS = 60_000;

/** Polls `fn` (a podman command or a few) until it is truthy. */
function until<T>(what: string, fn: () => T | null | undefined | false): Promise<T> {
  return poll(fn, what, WAIT_MS);
}
const unavailable = missing();
const run = `${process.pid}-${Date.now().toString(36)}`;
const containers: string[] = [];
let image = '';
let configs = '';

/** Writes a configuration into the folder mounted at /cfg; returns its path in the container. */
function config(name: string, body: object): string {
  writeFileSync(join(configs, name), JSON.stringify(body, null, 2));
  return `/cfg/${name}`;
}

/** Starts a detached container of the image running `configPath`; returns its name. */
function start(label: string, configPath: string): string {
  const name = `${PREFIX}-${run}-${label}`;
  containers.push(name);
  podmanOk(runFlags(['-d', '--name', name, '-v', `${configs}:/cfg:ro`, image, '-config', configPath]));
  return name;
}

function logs(name: string): { out: string; err: string } {
  const r = podman(['logs', name]);
  return { out: r.stdout, err: r.stderr };
}

function exec(name: string, script: string): string {
  return podmanOk(['exec', name, 'sh', '-c', script]);
}

/** One-shot run of the image; its exit status and output. */
function once(args: string[], env: Record<string, string> = {}): { status: number | null; out: string; err: string } {
  const envFlags = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const r = podman(runFlags(['--rm', '--no-healthcheck', '-v', `${configs}:/cfg:ro`, ...envFlags, image, ...args]));
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe.skipIf(unavailable !== null)('pidpilot as the ENTRYPOINT of the project image (podman)', () => {
  beforeAll(() => {
    configs = mkdtempSync(join(tmpdir(), `${PREFIX}-cfg-`));
    image = buildImage(run);
  }, 900_000);

  afterAll(() => {
    for (const c of containers) podman(['rm', '-f', '-t', '0', c]);
    if (image) removeImage(image);
    if (configs) rmSync(configs, { recursive: true, force: true });
  }, 120_000);

  describe('a running container', () => {
    let name = '';
    const TALK = ['plain line', '\tindented, with a tab', 'ünïcödé ✓ and  two spaces', '{"looks":"like json"}'];
    beforeAll(async () => {
      name = start(
        'running',
        config('running.json5', {
          jobs: [
            { name: 'keeper', exec: ['tail', '-f', '/dev/null'] },
            {
              name: 'talker',
              exec: ['sh', '-c', `printf '${TALK.join('\\n')}\\n'; echo to-stderr >&2`],
              logging: { raw: true },
            },
            // 100 orphans: each subshell exits at once, leaving its `sleep` to be re-parented to PID 1.
            {
              name: 'orphans',
              exec: ['sh', '-c', 'i=0; while [ $i -lt 100 ]; do (sleep 0.3 &); i=$((i+1)); done; echo burst done'],
            },
            {
              name: 'on-hup',
              exec: ['sh', '-c', 'echo SIGHUP job ran'],
              when: { source: 'SIGHUP' },
              logging: { raw: true },
            },
          ],
        }),
      );
      await until('pidpilot to start', () => logs(name).out.includes('started: pid 1'));
    }, 120_000);

    it('runs pidpilot as PID 1', () => {
      const cmdline = exec(name, 'tr "\\0" " " < /proc/1/cmdline');
      expect(cmdline).toMatch(/^node \/opt\/pidpilot\/bin\/pidpilot -config \/cfg\/running\.json5 ?$/);
    });

    it('leaves no zombie after a burst of orphans', async () => {
      await until('the burst', () => logs(name).out.includes('burst done'));
      // Every orphaned `sleep` ends within 0.3 s; reaped, it leaves /proc. A zombie would stay.
      const sleepers = (): string =>
        exec(
          name,
          'for s in /proc/[0-9]*/stat; do read -r l < $s 2>/dev/null && case "$l" in *"(sleep)"*) echo "$l";; esac; done; true',
        );
      await until('every orphan to be gone from /proc', () => sleepers().trim() === '');
      const zombies = exec(name, 'grep -l "^State:[[:space:]]*Z" /proc/[0-9]*/status 2>/dev/null | wc -l').trim();
      expect(zombies).toBe('0');
    });

    it('writes a job output to podman logs exactly as the job wrote it', async () => {
      const { out, err } = await until('the talker output', () => {
        const l = logs(name);
        return l.out.includes(TALK[TALK.length - 1]) && l.err.includes('to-stderr') && l;
      });
      const lines = out.split('\n');
      for (const line of TALK) expect(lines).toContain(line);
      expect(err.split('\n')).toContain('to-stderr');
    });

    it('turns podman kill -s HUP into the SIGHUP event', async () => {
      expect(logs(name).out).not.toContain('SIGHUP job ran');
      podmanOk(['kill', '-s', 'HUP', name]);
      await until('the SIGHUP job', () => logs(name).out.split('\n').includes('SIGHUP job ran'));
    });

    it("reports healthy through the image's HEALTHCHECK (pidpilot -ping)", () => {
      expect(podmanOk(['image', 'inspect', image, '--format', '{{json .Config.Healthcheck.Test}}']).trim()).toBe(
        '["CMD","pidpilot","-ping"]',
      );
      const r = podman(['healthcheck', 'run', name]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(podmanOk(['inspect', name, '--format', '{{.State.Health.Status}}']).trim()).toBe('healthy');
    });
  });

  it('stops in order on podman stop, within its -t, and exits with the main job status', async () => {
    const trapped = (job: string, status: number): string[] => [
      'sh',
      '-c',
      `trap 'echo ${job} stopping; sleep 0.5; echo ${job} stopped; exit ${status}' TERM; echo ${job} up; while :; do sleep 0.1; done`,
    ];
    const name = start(
      'stop',
      config('stop.json5', {
        stopTimeout: '30s',
        main: 'app',
        jobs: [
          { name: 'db', exec: trapped('db', 0), logging: { raw: true } },
          {
            name: 'app',
            exec: trapped('app', STOP_STATUS),
            dependsOn: [{ job: 'db', condition: 'started' }],
            logging: { raw: true },
          },
        ],
      }),
    );
    await until('both jobs up', () => {
      const out = logs(name).out;
      return out.includes('db up') && out.includes('app up');
    });
    // Within -t 20: podman would SIGKILL pidpilot after it, and the status would be 137.
    podmanOk(['stop', '-t', '20', name], 120_000);
    expect(Number(podmanOk(['inspect', name, '--format', '{{.State.ExitCode}}']).trim())).toBe(STOP_STATUS);
    const lines = logs(name).out.split('\n');
    const order = ['app stopping', 'app stopped', 'db stopping', 'db stopped'].map((l) => lines.indexOf(l));
    expect(
      order.every((i) => i >= 0),
      lines.join('\n'),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('exits with the main job status when it ends by itself', () => {
    const r = once([
      '-config',
      config('main-exits.json5', { main: 'app', jobs: [{ name: 'app', exec: ['sh', '-c', 'exit 7'] }] }),
    ]);
    expect(r.status, r.out + r.err).toBe(7);
  });

  it('validates a configuration: 0 for a good one, 2 with the error for a bad one', () => {
    const good = once(['validate', '-config', '/opt/pidpilot/examples/hello.json5']);
    expect(good.status, good.out + good.err).toBe(0);
    const bad = once([
      'validate',
      '-config',
      config('bad.json5', { jobs: [{ name: 'x', exec: 'true', restarts: 'sometimes' }] }),
    ]);
    expect(bad.status, bad.out + bad.err).toBe(2);
    expect(bad.err).toMatch(
      /cfg\/bad\.json5:\d+:\d+: jobs\[0\]\.restarts: expected "unlimited", "never", or a non-negative integer, got "sometimes"/,
    );
  });

  it('renders the template with the container environment (-template)', () => {
    const tmpl = join(configs, 'tmpl.json5');
    writeFileSync(tmpl, `{ jobs: [ { name: "{{ .JOB_NAME }}", exec: 'echo {{ .GREETING | default "hi" }}' } ] }\n`);
    const r = once(['-template', '-config', '/cfg/tmpl.json5'], { JOB_NAME: 'greeter' });
    expect(r.status, r.out + r.err).toBe(0);
    expect(r.out).toBe(`{ jobs: [ { name: "greeter", exec: 'echo hi' } ] }\n`);
  });
});

if (unavailable !== null) {
  process.stderr.write(`container tests skipped: ${unavailable}\n`);
  describe('container tests', () => {
    it.skip(`skipped: ${unavailable}`, () => {});
  });
}
