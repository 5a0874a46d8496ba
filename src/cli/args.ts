/**
 * Command-line parsing in ContainerPilot's style (Go's `flag` package): every flag is
 * accepted with one or two dashes, as `-flag value` or `-flag=value`; boolean flags
 * take no value (`-flag=false` is allowed). Positional words select a subcommand.
 */
import { nearest, UsageError } from '../config/errors.js';

export { UsageError };

export type FlagKind = 'string' | 'boolean' | 'strings';

export interface FlagSpec {
  kind: FlagKind;
  help: string;
  /** Placeholder in help text, e.g. FILE. */
  value?: string;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[]>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const inline = eq === -1 ? undefined : body.slice(eq + 1);
    const flag = spec[name];
    if (!flag) {
      const near = nearest(name, Object.keys(spec));
      throw new UsageError(`unknown flag -${name}${near ? `; did you mean -${near}?` : ''}`);
    }
    if (flag.kind === 'boolean') {
      if (inline === undefined) flags[name] = true;
      else if (/^(true|1|t)$/i.test(inline)) flags[name] = true;
      else if (/^(false|0|f)$/i.test(inline)) flags[name] = false;
      else throw new UsageError(`flag -${name} takes no value or true/false, got "${inline}"`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length)
        throw new UsageError(`flag -${name} needs a value${flag.value ? ` (${flag.value})` : ''}`);
      value = argv[++i]!;
    }
    if (flag.kind === 'strings') {
      const list = (flags[name] as string[] | undefined) ?? [];
      list.push(value);
      flags[name] = list;
    } else {
      flags[name] = value;
    }
  }
  return { flags, positionals };
}

export function flagHelp(spec: Readonly<Record<string, FlagSpec>>): string {
  return Object.entries(spec)
    .map(([name, f]) => `  -${name}${f.value ? ` ${f.value}` : ''}\n        ${f.help}`)
    .join('\n');
}
