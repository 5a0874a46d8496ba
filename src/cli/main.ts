/**
 * The `pidpilot` command: ContainerPilot's single-dash flags plus subcommands.
 * Each subcommand lives in its own file and is imported only when used, so
 * `pidpilot validate` never loads the process machinery and start-up stays fast.
 */
import { flagHelp, parseArgs, UsageError } from './args.js';
import type { FlagSpec, ParsedArgs } from './args.js';
import { nearest } from '../config/errors.js';
import { CONTROL_FLAG_NAMES, hasControlFlag } from './control-flag-names.js';
import { VERSION } from '../version.js';

export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  config: { kind: 'strings', value: 'FILE', help: 'configuration file (default: $PIDPILOT, $CONTAINERPILOT, or ./pidpilot.json5); repeat it to layer files, later ones over earlier ones' },
  template: { kind: 'boolean', help: 'render the configuration template, print it and exit' },
  out: { kind: 'string', value: 'FILE', help: 'with -template: write the rendered configuration to FILE; with init: the file to write (default ./pidpilot.json5)' },
  version: { kind: 'boolean', help: 'print the version and exit' },
  json: { kind: 'boolean', help: 'with validate: machine-readable errors; with status, events, logs: JSON output' },
  reload: { kind: 'boolean', help: 'tell the running supervisor to reload its configuration' },
  maintenance: { kind: 'string', value: 'enable|disable', help: 'switch maintenance mode of the running supervisor' },
  putenv: { kind: 'strings', value: 'KEY=VALUE', help: 'set (KEY=VALUE) or unset (KEY) a variable of the environment later children get; repeatable' },
  putmetric: { kind: 'strings', value: 'KEY=VALUE', help: 'record a value on a telemetry metric; repeatable' },
  ping: { kind: 'boolean', help: 'check that the supervisor answers on its control socket' },
  socket: { kind: 'string', value: 'PATH', help: 'control socket to talk to (default: from the configuration)' },
  f: { kind: 'boolean', help: 'with events, logs: keep printing what comes next' },
  follow: { kind: 'boolean', help: 'same as -f' },
  timeout: { kind: 'string', value: 'DURATION', help: 'with stop, restart: kill what is left of the job after this long' },
  format: { kind: 'string', value: 'mermaid|dot', help: 'with graph: the output format (default mermaid)' },
  from: { kind: 'string', value: 'Procfile', help: 'with init: convert this Procfile (one job per process type, PORT as foreman)' },
  help: { kind: 'boolean', help: 'show this help' },
  h: { kind: 'boolean', help: 'show this help' },
};

const COMMANDS: Readonly<Record<string, string>> = {
  'run-supervisor': 'run the supervisor (the default)',
  validate: 'check the configuration without running anything (exit 2 on errors)',
  render: 'print the rendered configuration (same as -template)',
  run: 'run JOB: start JOB and the jobs it needs, wait for it, stop the rest, exit with its status',
  graph: 'draw jobs, dependencies, triggers and watches (-format mermaid|dot)',
  status: 'the jobs of the running supervisor: state, pid, uptime, restarts, last exit, health, readiness',
  events: 'the event history of the running supervisor (-f: follow)',
  logs: 'logs JOB: the captured output of a job (-f: follow)',
  start: 'start JOB: start a stopped, completed or failed job',
  stop: 'stop JOB: stop a job (-timeout: then kill it)',
  restart: 'restart JOB: stop a job and start it again',
  init: 'write a commented starter ./pidpilot.json5 (-from Procfile: convert a Procfile; -out FILE)',
  version: 'print the version',
  help: 'show this help',
};

/** Commands that take a job name after their own. */
const JOB_COMMANDS: ReadonlySet<string> = new Set(['run', 'logs', 'start', 'stop', 'restart']);

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
  if (hasControlFlag(args)) {
    try {
      if (positionals.length > 0) throw new UsageError(`-${CONTROL_FLAG_NAMES.find((n) => flags[n] !== undefined)} takes no command; got "${positionals[0]}"`);
      return await (await import('./control-flags.js')).controlFlags(args);
    } catch (err) {
      if (err instanceof UsageError) return usageFailure(err);
      throw err;
    }
  }

  const command = positionals[0] ?? 'run-supervisor';
  try {
    if (!(command in COMMANDS)) {
      const near = nearest(command, Object.keys(COMMANDS));
      throw new UsageError(`unknown command "${command}"${near ? `; did you mean "${near}"?` : ''}`);
    }
    const takesJob = JOB_COMMANDS.has(command);
    if (takesJob && positionals.length < 2) throw new UsageError(`${command} needs the name of a job: pidpilot ${command} JOB`);
    if (positionals.length > (takesJob ? 2 : 1)) throw new UsageError(`unexpected argument "${positionals[takesJob ? 2 : 1]}"`);
    const job = positionals[1]!;
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
      case 'init':
        return (await import('./init.js')).init(args);
      case 'status':
        return await (await import('./status.js')).status(args);
      case 'events':
        return await (await import('./events.js')).events(args);
      case 'logs':
        return await (await import('./events.js')).logs(args, job);
      case 'start':
      case 'stop':
      case 'restart':
        return await (await import('./job-command.js')).jobCommand(args, command, job);
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
