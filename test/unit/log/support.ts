/** Helpers for the log tests: temp dirs, child processes, and src/log runnable by a plain `node` child. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** RFC 3339 with milliseconds and zone, as every format prints it. */
export const STAMP = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}(?:Z|[+-]\d{2}:\d{2})`;

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pidpilot-log-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temp dir removed after the current test (call `cleanupTempDirs` from `afterEach`). */
const pendingCleanups: (() => void)[] = [];
export function testDir(): string {
  const t = tempDir();
  pendingCleanups.push(t.cleanup);
  return t.dir;
}
export function cleanupTempDirs(): void {
  for (const c of pendingCleanups.splice(0)) c();
}

/**
 * src/log transpiled (no type check) into `dir`, with its bare imports pointed at this
 * repository's node_modules, so a child `node` process can import it. Returns the URL of
 * the folder.
 */
export function buildLogForChild(dir: string): string {
  const require = createRequire(join(root, 'package.json'));
  const bare: Record<string, string> = {
    pino: require.resolve('pino'),
    'sonic-boom': require.resolve('sonic-boom'),
  };
  const out = join(dir, 'log');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(join(root, 'src/log')).filter((n) => n.endsWith('.ts'))) {
    let js = ts.transpileModule(readFileSync(join(root, 'src/log', f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    for (const [name, path] of Object.entries(bare))
      js = js.replaceAll(`from '${name}'`, `from '${pathToFileURL(path).href}'`);
    writeFileSync(join(out, f.replace(/\.ts$/, '.js')), js);
  }
  return pathToFileURL(out).href;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function exited(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Runs a Node script (ES module source) as a child process. */
export function node(script: string, args: string[] = [], opts: Parameters<typeof spawn>[2] = {}): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
  });
}

/** Collects a readable stream into one Buffer. */
export function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.once('end', () => resolve(Buffer.concat(parts)));
    stream.once('error', reject);
  });
}

/** Splits a log file into lines (Buffers, without the '\n'). */
export function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let s = 0;
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, s)) {
    lines.push(buf.subarray(s, nl));
    s = nl + 1;
  }
  if (s < buf.length) lines.push(buf.subarray(s));
  return lines;
}
