/**
 * A job's `user` (docs/configuration.md) as the ids a child is started with: a name is looked up in
 * /etc/passwd (its primary group, and its supplementary groups from /etc/group), as
 * Docker's `--user` does. A bare uid without a passwd entry runs with gid 0 (Docker's
 * rule too). Read at each start, so a user created after pidpilot started is found.
 */
import { readFileSync } from 'node:fs';
import type { UserSpec } from '../config/types.js';
import { SpawnError, type SpawnIds } from './types.js';

interface Entry {
  name: string;
  id: number;
  gid?: number;
  members?: string[];
}

/** `name:x:id:...` lines; unreadable files count as empty (a minimal image may have none). */
function readDb(path: string, kind: 'passwd' | 'group'): Entry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || f[0]!.startsWith('#') || !/^[0-9]+$/.test(f[2]!)) continue;
    const entry: Entry = { name: f[0]!, id: Number(f[2]) };
    if (kind === 'passwd' && /^[0-9]+$/.test(f[3]!)) entry.gid = Number(f[3]);
    if (kind === 'group')
      entry.members = f[3]!
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean);
    out.push(entry);
  }
  return out;
}

export interface UserDbPaths {
  passwd: string;
  group: string;
}

const SYSTEM_DB: UserDbPaths = { passwd: '/etc/passwd', group: '/etc/group' };

function unknown(what: string, argv: readonly string[]): SpawnError {
  return new SpawnError(`${what} (not in /etc/passwd or /etc/group)`, 'EINVAL', argv, 'user');
}

/** The ids to run `argv` as; throws SpawnError (stage 'user') for an unknown user or group. */
export function resolveUser(spec: UserSpec, argv: readonly string[], db: UserDbPaths = SYSTEM_DB): SpawnIds {
  const passwd = readDb(db.passwd, 'passwd');
  const groups = readDb(db.group, 'group');
  const user = 'name' in spec ? passwd.find((e) => e.name === spec.name) : passwd.find((e) => e.id === spec.uid);
  if ('name' in spec && user === undefined) throw unknown(`unknown user "${spec.name}"`, argv);
  const uid = 'uid' in spec ? spec.uid : user!.id;

  let gid: number;
  if ('gid' in spec && spec.gid !== undefined) gid = spec.gid;
  else if ('group' in spec && spec.group !== undefined) {
    if (/^[0-9]+$/.test(spec.group)) gid = Number(spec.group);
    else {
      const g = groups.find((e) => e.name === spec.group);
      if (g === undefined) throw unknown(`unknown group "${spec.group}"`, argv);
      gid = g.id;
    }
  } else gid = user?.gid ?? 0;

  const supplementary = user === undefined ? [] : groups.filter((g) => g.members!.includes(user.name)).map((g) => g.id);
  return { uid, gid, groups: [...new Set([gid, ...supplementary])] };
}
