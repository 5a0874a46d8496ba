/**
 * The sd_notify sender of the tests (test/fixtures/native/notify-send.c), compiled with
 * gcc into a fresh temp dir: Node itself cannot send unix datagrams.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../fixtures/native/notify-send.c', import.meta.url));

/** Compiles the sender and returns the path of the program. */
export function buildNotifySender(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pidpilot-notify-send-'));
  chmodSync(dir, 0o755); // jobs that run as another user run it too
  const out = join(dir, 'notify-send');
  execFileSync('gcc', ['-O1', '-o', out, SOURCE], { stdio: 'inherit' });
  return out;
}
