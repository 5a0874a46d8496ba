/**
 * A job's `user` (docs/configuration.md): names resolved through passwd/group files, and the child
 * really running as those ids (when the tests run as root), with both spawners.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcessRun } from '../../../src/process/run.js';
import { SpawnError } from '../../../src/process/types.js';
import { resolveUser } from '../../../src/process/user.js';
import { BACKENDS, collect, PATH, spawner } from './helpers.js';

function db(): { passwd: string; group: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pp-user-'));
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1001::/home/app:/bin/sh\nbroken line\n');
  writeFileSync(group, 'root:x:0:\napp:x:1001:\nstaff:x:50:app,other\nwheel:x:10:other\n');
  return { passwd, group };
}

describe('resolveUser', () => {
  it('resolves a name to its uid, primary gid and supplementary groups', () => {
    expect(resolveUser({ name: 'app' }, ['x'], db())).toEqual({ uid: 1000, gid: 1001, groups: [1001, 50] });
  });

  it('takes a group by name or number', () => {
    expect(resolveUser({ name: 'app', group: 'wheel' }, ['x'], db())).toMatchObject({ uid: 1000, gid: 10 });
    expect(resolveUser({ name: 'app', group: '77' }, ['x'], db())).toMatchObject({ uid: 1000, gid: 77 });
  });

  it('numeric ids need no entry; a known uid gets its primary group, an unknown one gid 0 (as Docker)', () => {
    expect(resolveUser({ uid: 1000 }, ['x'], db())).toEqual({ uid: 1000, gid: 1001, groups: [1001, 50] });
    expect(resolveUser({ uid: 4242 }, ['x'], db())).toEqual({ uid: 4242, gid: 0, groups: [0] });
    expect(resolveUser({ uid: 4242, gid: 7 }, ['x'], db())).toEqual({ uid: 4242, gid: 7, groups: [7] });
  });

  it('an unknown user or group is a SpawnError at stage "user"', () => {
    const err = (() => {
      try {
        resolveUser({ name: 'ghost' }, ['x'], db());
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SpawnError);
    expect(err).toMatchObject({
      stage: 'user',
      code: 'EINVAL',
      message: 'unknown user "ghost" (not in /etc/passwd or /etc/group)',
    });
    expect(() => resolveUser({ name: 'app', group: 'nogroup-xyz' }, ['x'], db())).toThrow(
      /unknown group "nogroup-xyz"/,
    );
  });
});

describe.each(BACKENDS)('running as a user (%s)', (kind) => {
  const isRoot = process.getuid?.() === 0;

  it.skipIf(!isRoot)('the child runs with the uid and gid asked for', async () => {
    const run = ProcessRun.start({
      argv: ['sh', '-c', 'echo "$(id -u):$(id -g)"'],
      env: { PATH },
      stdout: 'pipe',
      stderr: 'ignore',
      stopSignal: 'SIGTERM',
      user: { uid: 65534, gid: 65534 },
      spawn: spawner(kind),
    });
    const out = collect(run.child!.stdout!);
    expect(await run.result).toMatchObject({ outcome: 'succeeded' });
    expect((await out).trim()).toBe('65534:65534');
  });

  it('an unknown user makes the run errored with a clear reason', async () => {
    const run = ProcessRun.start({
      argv: ['true'],
      env: { PATH },
      stdout: 'ignore',
      stderr: 'ignore',
      stopSignal: 'SIGTERM',
      user: { name: 'no-such-user-xyz' },
      spawn: spawner(kind),
    });
    expect(run.pid).toBeNull();
    expect(await run.result).toMatchObject({
      outcome: 'errored',
      reason: 'EINVAL: unknown user "no-such-user-xyz" (not in /etc/passwd or /etc/group)',
    });
  });
});
