/** Helpers for the process tests: they look at real processes through /proc. */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { bundleModule } from '../../../scripts/bundle-module.mjs';
import { type SpawnBackend, spawnerFor } from '../../../src/process/spawn.js';
import type { Spawner, SpawnRequest } from '../../../src/process/types.js';

export const BACKENDS: readonly SpawnBackend[] = ['native', 'node'];

export const PATH = '/usr/local/bin:/usr/bin:/bin';

export function spawner(kind: SpawnBackend): Spawner {
  return spawnerFor(kind);
}

/** A request with sensible defaults: a minimal env, both outputs piped. */
export function req(argv: string[], more: Partial<SpawnRequest> = {}): SpawnRequest {
  return { argv, env: { PATH }, stdout: 'pipe', stderr: 'pipe', ...more };
}

export function collect(stream: Readable | null): Promise<string> {
  if (stream === null) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** Resolves with the first line the stream gives (it keeps flowing afterwards). */
export function firstLine(stream: Readable | null): Promise<string> {
  return new Promise((resolve, reject) => {
    if (stream === null) return reject(new Error('no stream'));
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    stream.on('close', () => reject(new Error(`stream closed before a line: ${JSON.stringify(buf)}`)));
  });
}

interface Stat {
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
}

/** /proc/<pid>/stat, or null once the process is gone. */
export function procStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp session ..."; comm may contain spaces and parens.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0], ppid: Number(f[1]), pgid: Number(f[2]), sid: Number(f[3]) };
}

/** Gone, or a zombie (dead, waiting for whoever it was re-parented to). */
export function isDead(pid: number): boolean {
  const st = procStat(pid);
  return st === null || st.state === 'Z' || st.state === 'X';
}

export async function waitFor(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Our children that are zombies (exited but not reaped). */
export function ourZombies(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && st.ppid === process.pid && st.state === 'Z') out.push(Number(name));
  }
  return out;
}

export function fdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Our fds without O_CLOEXEC: what a forked child inherits unless it closes them. */
export function inheritableFds(): number[] {
  const O_CLOEXEC = 0o2000000;
  return readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => {
      try {
        const flags = /flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
        return flags !== null && (parseInt(flags[1], 8) & O_CLOEXEC) === 0;
      } catch {
        return false;
      }
    });
}

/**
 * A fixture script of fixtures/ that imports pidpilot's sources, bundled once for this test
 * file (scripts/bundle-module.mjs) so plain `node` runs it; its path, once bundled.
 */
export function bundledFixture(name: string): () => string {
  let path = '';
  beforeAll(async () => {
    path = (await bundleModule(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)))) as string;
  }, 60_000);
  afterAll(() => {
    if (path) rmSync(dirname(path), { recursive: true, force: true });
  });
  return () => path;
}
