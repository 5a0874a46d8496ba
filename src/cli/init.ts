/**
 * `pidpilot init [-out FILE]`: write a commented starter `pidpilot.json5`.
 * `pidpilot init -from Procfile [-out FILE]`: convert a Procfile (foreman, overmind, Heroku)
 * into one job per line, with foreman's PORT convention: the process types get
 * PORT=5000, 5100, 5200 … in the order of the file. Commands keep their shell syntax
 * (`sh -c`). A `.env` beside the Procfile becomes the top-level `envFile`, as foreman
 * loads it. The result is validated before it is written; an existing file is never
 * overwritten.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigErrors } from '../config/errors.js';
import { DEFAULT_CONFIG_FILE, loadConfigText } from '../config/load.js';
import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';
import { reportConfigErrors } from './config-file.js';

/** foreman's defaults: the first process type gets 5000, each next one 100 more. */
const BASE_PORT = 5000;
const PORT_STEP = 100;
/** Procfile process types, as foreman reads them. */
const PROCFILE_LINE = /^([A-Za-z0-9_-]+):\s*(.+)$/;

export const STARTER = `// pidpilot.json5 — written by \`pidpilot init\`. JSON5: comments and trailing commas are fine.
// Run it with \`pidpilot\` (this file is found in the working directory), check it with
// \`pidpilot validate\`, watch it with \`pidpilot status\` and \`pidpilot logs JOB\`.
// The whole file is a Go template: {{ .VAR }} is the environment (and .env beside this file).
{
  logging: { level: "INFO", format: "default" },  // format: default | text | json
  // envFile: ".env",                 // variables for every job (dotenv syntax)
  jobs: [
    {
      name: "web",
      // An array runs without a shell; a string is split on whitespace (no shell either).
      exec: ["sh", "-c", "echo serving on port $PORT; exec sleep 3600"],
      env: { PORT: "{{ .PORT | default "8080" }}" },
      restarts: "unlimited",          // "never" (default), "unlimited", or a number
      // health: { tcp: { host: "127.0.0.1", port: 8080 }, interval: "5s", ttl: "15s" },
    },
    {
      name: "worker",
      exec: ["sh", "-c", "echo working; exec sleep 3600"],
      dependsOn: ["web"],             // starts once web is healthy (or started, without a check)
    },
    // {
    //   name: "cleanup",
    //   exec: "echo cleaning up",
    //   when: { interval: "1h" },    // a periodic job; or on a calendar, with a time zone:
    //   // when: { cron: "0 3 * * *", timezone: "Europe/Paris", overlap: "skip" },
    // },
  ],
}
`;

/** The configuration text for a Procfile's content. */
export function fromProcfile(text: string, source: string, opts: { envFile?: string } = {}): string {
  const jobs: string[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = PROCFILE_LINE.exec(line);
    if (!m) {
      problems.push(`${source}:${i + 1}: not "name: command": ${JSON.stringify(raw)}`);
      return;
    }
    const [, name, command] = m as unknown as [string, string, string];
    if (seen.has(name)) {
      problems.push(`${source}:${i + 1}: process type ${JSON.stringify(name)} appears twice`);
      return;
    }
    seen.add(name);
    const port = BASE_PORT + PORT_STEP * jobs.length;
    // The file is a template: a literal "{{" in a command is written as a template that prints it.
    const exec = JSON.stringify(command.trim()).replaceAll('{{', '{{`{{`}}');
    jobs.push(
      `    {\n      name: ${JSON.stringify(name)},\n      exec: ["sh", "-c", ${exec}],\n      env: { PORT: "${port}" },\n    },`,
    );
  });
  if (problems.length > 0) throw new UsageError(`cannot convert ${source}:\n  ${problems.join('\n  ')}`);
  if (jobs.length === 0) throw new UsageError(`${source} has no process types ("name: command" lines)`);
  const envFile = opts.envFile ? `  envFile: ${JSON.stringify(opts.envFile)},  // foreman's .env, for every job\n` : '';
  return `// Converted from ${source} by \`pidpilot init -from\`. Each process type is a job; PORT follows
// foreman (5000, 5100, … in file order). Commands run under sh -c, as foreman runs them.
{
${envFile}  jobs: [
${jobs.join('\n')}
  ],
}
`;
}

export function init(args: ParsedArgs): number {
  const out = resolve(typeof args.flags.out === 'string' ? args.flags.out : DEFAULT_CONFIG_FILE);
  if (existsSync(out)) throw new UsageError(`${out} already exists; nothing written (-out FILE writes elsewhere)`);
  let text = STARTER;
  const from = args.flags.from;
  if (typeof from === 'string') {
    const procfile = resolve(from);
    let content: string;
    try {
      content = readFileSync(procfile, 'utf8');
    } catch (err) {
      throw new UsageError(
        `cannot read ${from}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      );
    }
    const dotenv = join(dirname(procfile), '.env');
    const envFile = existsSync(dotenv) ? relative(dirname(out), dotenv) || '.env' : undefined;
    text = fromProcfile(content, from, envFile ? { envFile } : {});
  }
  let jobs: number;
  try {
    // What is written must load (env files are read when it runs).
    jobs = loadConfigText(text, {}, out).jobs.length;
  } catch (err) {
    if (err instanceof ConfigErrors) return reportConfigErrors(err);
    throw err;
  }
  writeFileSync(out, text, { flag: 'wx' });
  const shown = relative(process.cwd(), out) || out;
  process.stdout.write(
    `wrote ${shown} (${jobs} jobs${typeof from === 'string' ? ` from ${from}` : ''}); run it with: pidpilot${out === resolve(DEFAULT_CONFIG_FILE) ? '' : ` -config ${shown}`}\n`,
  );
  return 0;
}
