/**
 * The `pidpilot` command: ContainerPilot's single-dash flags plus subcommands.
 * Each subcommand lives in its own file and is imported only when used, so
 * `pidpilot validate` never loads the process machinery and start-up stays fast.
 */
import { flagHelp, parseArgs, UsageError } from './args.js';
import type { FlagSpec, ParsedArgs } from './args.js';
import { nearest } from '../config/errors.js';
import { VERSION } from '../version.js';

export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  config: { kind: 'string', value: 'FILE', help: 'configuration file (default: $PIDPILOT, $CONTAINERPILOT, or ./pidpilot.json5)' },
  template: { kind: 'boolean', help: 'render the configuration template, print it and exit' },
  out: { kind: 'string', value: 'FILE', help: 'with -template: write the rendered configuration to FILE' },
  version: { kind: 'boolean', help: 'print the version and exit' },
  json: { kind: 'boolean', help: 'with validate: print machine-readable errors' },
  format: { kind: 'string', value: 'mermaid|dot', help: 'with graph: the output format (default mermaid)' },
  help: { kind: 'boolean', help: 'show this help' },
  h: { kind: 'boolean', help: 'show this help' },
};

const COMMANDS: Readonly<Record<string, string>> = {
  'run-supervisor': 'run the supervisor (the default)',
  validate: 'check the configuration without running anything (exit 2 on errors)',
  render: 'print the rendered configuration (same as -template)',
  run: 'run JOB: start JOB and the jobs it needs, wait for it, stop the rest, exit with its status',
  graph: 'draw jobs, dependencies, triggers and watches (-format mermaid|dot)',
  version: 'print the version',
  help: 'show this help',
};

/** Commands that take one argument after their name (a job). */
const WITH_ARGUMENT: ReadonlySet<string> = new Set(['run']);

export function usage(): string {
  const commands = Object.entries(COMMANDS)
    .map(([name, help]) => `  ${name.padEnd(16)}${help}`)
    .join('\n');
  return `Usage: pidpilot [command] [flags]\n\nCommands:\n${commands}\n\nFlags (one or two dashes; -flag value or -flag=value):\n${flagHelp(FLAGS)}\n`;
}

/** Runs the CLI and resolves with the process exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv, FLAGS);
  } catch (err) {
    return usageFailure(err);
  }
  const { flags, positionals } = args;
  if (flags.help || flags.h) {
    process.stdout.write(usage());
    return 0;
  }
  if (flags.version) return printVersion();

  const command = positionals[0] ?? 'run-supervisor';
  try {
    if (!(command in COMMANDS)) {
      const near = nearest(command, Object.keys(COMMANDS));
      throw new UsageError(`unknown command "${command}"${near ? `; did you mean "${near}"?` : ''}`);
    }
    const allowed = WITH_ARGUMENT.has(command) ? 2 : 1;
    if (positionals.length > allowed) throw new UsageError(`unexpected argument "${positionals[allowed]}"`);
    switch (command) {
      case 'help':
        process.stdout.write(usage());
        return 0;
      case 'version':
        return printVersion();
      case 'validate':
        return await (await import('./validate.js')).validate(args);
      case 'render':
        return await (await import('./render.js')).render(args);
      case 'run':
        return await (await import('./run.js')).run(args);
      case 'graph':
        return (await import('./graph.js')).graph(args);
      default:
        if (flags.template) return await (await import('./render.js')).render(args);
        return await (await import('./run-supervisor.js')).runSupervisor(args);
    }
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(err);
    throw err;
  }
}

function printVersion(): number {
  process.stdout.write(`Version: ${VERSION}\n`);
  return 0;
}

function usageFailure(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`pidpilot: ${message}\nRun "pidpilot -help" for usage.\n`);
  return 2;
}
