/**
 * The `pidpilot` command: ContainerPilot's single-dash flags plus subcommands.
 * Each subcommand lives in its own file and is imported only when used, so
 * `pidpilot validate` never loads the process machinery and start-up stays fast.
 */

import { nearest } from '../config/errors.js';
import { VERSION } from '../version.js';
import type { ParsedArgs } from './args.js';
import { parseArgs, UsageError } from './args.js';
import { COMMANDS, commandUsage, FLAGS, usage } from './commands.js';
import { CONTROL_FLAG_NAMES, hasControlFlag } from './control-flag-names.js';

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
    const named = positionals[0];
    process.stdout.write(named !== undefined && named in COMMANDS ? commandUsage(named) : usage());
    return 0;
  }
  if (flags.version) return printVersion();
  if (hasControlFlag(args)) {
    try {
      if (positionals.length > 0)
        throw new UsageError(
          `-${CONTROL_FLAG_NAMES.find((n) => flags[n] !== undefined)} takes no command; got "${positionals[0]}"`,
        );
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
    const spec = COMMANDS[command]!;
    const words = positionals.slice(1);
    if (words.length < spec.min)
      throw new UsageError(`${command} needs ${spec.args}: pidpilot ${command} ${spec.args}`);
    if (words.length > spec.max) throw new UsageError(`unexpected argument "${words[spec.max]}"`);
    const job = words[0]!;
    switch (command) {
      case 'help':
        if (words[0] !== undefined && !(words[0] in COMMANDS)) throw new UsageError(`no command "${words[0]}"`);
        process.stdout.write(words[0] !== undefined ? commandUsage(words[0]) : usage());
        return 0;
      case 'version':
        return printVersion();
      case 'completion':
        return (await import('./completion.js')).completion(job, args);
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
        return await (await import('./logs.js')).logs(args, words);
      case 'signal':
        return await (await import('./job-command.js')).signalCommand(args, job, words[1]!);
      case 'scale':
        return await (await import('./job-command.js')).scaleCommand(args, job, words[1]!);
      case 'top':
        return await (await import('./top/main.js')).top(args);
      case 'ui':
        return await (await import('./ui.js')).ui(args);
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
