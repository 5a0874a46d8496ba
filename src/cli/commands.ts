/**
 * Every command and flag of `pidpilot`, in one table: what `-help`, `COMMAND --help` and
 * `pidpilot completion` print, and how many words each command takes after its name.
 * Flags are ContainerPilot's style (one or two dashes, `-flag value` or `-flag=value`)
 * and shared by all commands; each command lists the ones it reads.
 */
import { type FlagSpec, flagHelp } from './args.js';

export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  config: {
    kind: 'strings',
    value: 'FILE',
    help: 'configuration file (default: $PIDPILOT, $CONTAINERPILOT, or ./pidpilot.json5); repeat it to layer files, later ones over earlier ones',
  },
  template: { kind: 'boolean', help: 'render the configuration template, print it and exit' },
  out: {
    kind: 'string',
    value: 'FILE',
    help: 'with -template: write the rendered configuration to FILE; with init: the file to write (default ./pidpilot.json5)',
  },
  version: { kind: 'boolean', help: 'print the version and exit' },
  json: { kind: 'boolean', help: 'with validate: machine-readable errors; with status, events, logs: JSON output' },
  reload: { kind: 'boolean', help: 'tell the running supervisor to reload its configuration' },
  maintenance: { kind: 'string', value: 'enable|disable', help: 'switch maintenance mode of the running supervisor' },
  putenv: {
    kind: 'strings',
    value: 'KEY=VALUE',
    help: 'set (KEY=VALUE) or unset (KEY) a variable of the environment later children get; repeatable',
  },
  putmetric: { kind: 'strings', value: 'KEY=VALUE', help: 'record a value on a telemetry metric; repeatable' },
  ping: { kind: 'boolean', help: 'check that the supervisor answers on its control socket' },
  socket: { kind: 'string', value: 'PATH', help: 'control socket to talk to (default: from the configuration)' },
  f: { kind: 'boolean', help: 'with events, logs: keep printing what comes next' },
  follow: { kind: 'boolean', help: 'same as -f' },
  n: { kind: 'string', value: 'N', help: 'with events, logs: only the last N records (default 1000)' },
  since: {
    kind: 'string',
    value: 'DURATION|TIME',
    help: 'with logs: only lines since then (e.g. 10m, or 2026-01-02T15:04:05Z)',
  },
  w: { kind: 'boolean', help: 'with status: redraw the table every second until interrupted' },
  watch: { kind: 'boolean', help: 'same as -w' },
  timeout: {
    kind: 'string',
    value: 'DURATION',
    help: 'with stop, restart: kill what is left of the job after this long',
  },
  format: { kind: 'string', value: 'mermaid|dot', help: 'with graph: the output format (default mermaid)' },
  from: {
    kind: 'string',
    value: 'Procfile',
    help: 'with init: convert this Procfile (one job per process type, PORT as foreman)',
  },
  port: {
    kind: 'string',
    value: 'N',
    help: 'with ui: the TCP port to serve the dashboard on (default 8090; 0 picks a free one)',
  },
  listen: { kind: 'string', value: 'ADDR', help: 'with ui: the address to serve on (default 127.0.0.1)' },
  'allow-actions': {
    kind: 'boolean',
    help: 'with ui: allow start/stop/restart from the page when it is served beyond loopback',
  },
  token: {
    kind: 'string',
    value: 'TOKEN',
    help: 'with ui: the start/stop/restart buttons need this token (asked by the page)',
  },
  help: { kind: 'boolean', help: 'show this help' },
  h: { kind: 'boolean', help: 'show this help' },
};

export interface CommandSpec {
  summary: string;
  /** The words after the command name, as shown in its usage line. */
  args: string;
  /** Fewest and most words after the command name. */
  min: number;
  max: number;
  flags: readonly string[];
  /** What the words are, for completion: job names, or a fixed list. */
  complete?: 'jobs' | 'replicated' | readonly string[];
}

const CONTROL = ['socket', 'config'] as const;

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  'run-supervisor': { summary: 'run the supervisor (the default)', args: '', min: 0, max: 0, flags: ['config'] },
  validate: {
    summary: 'check the configuration without running anything (exit 2 on errors)',
    args: '',
    min: 0,
    max: 0,
    flags: ['config', 'json'],
  },
  render: {
    summary: 'print the rendered configuration (same as -template)',
    args: '',
    min: 0,
    max: 0,
    flags: ['config', 'out'],
  },
  run: {
    summary: 'start JOB and the jobs it needs, wait for it, stop the rest, exit with its status',
    args: 'JOB',
    min: 1,
    max: 1,
    flags: ['config'],
    complete: 'jobs',
  },
  graph: {
    summary: 'draw jobs, dependencies, triggers and watches (-format mermaid|dot)',
    args: '',
    min: 0,
    max: 0,
    flags: ['config', 'format'],
  },
  status: {
    summary: 'the jobs of the running supervisor: state, pid, uptime, restarts, last exit, health, readiness, reason',
    args: '',
    min: 0,
    max: 0,
    flags: [...CONTROL, 'json', 'w', 'watch'],
  },
  events: {
    summary: 'the event history of the running supervisor (-f: follow)',
    args: '',
    min: 0,
    max: 0,
    flags: [...CONTROL, 'json', 'f', 'follow', 'n'],
  },
  logs: {
    summary: 'the captured output of the named jobs, or of all of them interleaved (-f: follow)',
    args: '[JOB...]',
    min: 0,
    max: Infinity,
    flags: [...CONTROL, 'json', 'f', 'follow', 'n', 'since'],
    complete: 'jobs',
  },
  start: {
    summary: 'start a stopped, completed or failed job',
    args: 'JOB',
    min: 1,
    max: 1,
    flags: [...CONTROL],
    complete: 'jobs',
  },
  stop: {
    summary: 'stop a job (-timeout: then kill it)',
    args: 'JOB',
    min: 1,
    max: 1,
    flags: [...CONTROL, 'timeout'],
    complete: 'jobs',
  },
  restart: {
    summary: 'stop a job and start it again',
    args: 'JOB',
    min: 1,
    max: 1,
    flags: [...CONTROL, 'timeout'],
    complete: 'jobs',
  },
  signal: {
    summary: "send a signal (e.g. HUP, USR1) to a job's process group",
    args: 'JOB SIGNAL',
    min: 2,
    max: 2,
    flags: [...CONTROL],
    complete: 'jobs',
  },
  scale: {
    summary: 'run N instances of a job with replicas (the highest-numbered stop first; N from 1 to 100)',
    args: 'JOB N',
    min: 2,
    max: 2,
    flags: [...CONTROL],
    complete: 'replicated',
  },
  top: {
    summary: 'a live view of the jobs and their output in the terminal (q quits)',
    args: '',
    min: 0,
    max: 0,
    flags: [...CONTROL],
  },
  ui: {
    summary: 'serve a live dashboard of the running supervisor on http://127.0.0.1:8090/',
    args: '',
    min: 0,
    max: 0,
    flags: [...CONTROL, 'port', 'listen', 'allow-actions', 'token'],
  },
  init: {
    summary: 'write a commented starter ./pidpilot.json5 (-from Procfile: convert a Procfile; -out FILE)',
    args: '',
    min: 0,
    max: 0,
    flags: ['out', 'from'],
  },
  completion: {
    summary: 'print a shell completion script: eval "$(pidpilot completion bash)"',
    args: 'bash|zsh|fish',
    min: 1,
    max: 1,
    flags: [],
    complete: ['bash', 'zsh', 'fish'],
  },
  version: { summary: 'print the version', args: '', min: 0, max: 0, flags: [] },
  help: {
    summary: "show this help, or a command's: pidpilot help COMMAND",
    args: '[COMMAND]',
    min: 0,
    max: 1,
    flags: [],
  },
};

function flagLines(names: readonly string[]): string {
  return flagHelp(Object.fromEntries(names.map((name) => [name, FLAGS[name]!])));
}

export function usage(): string {
  const commands = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(16)}${c.summary}`)
    .join('\n');
  return `Usage: pidpilot [command] [flags]\n\nCommands:\n${commands}\n\nFlags (one or two dashes; -flag value or -flag=value):\n${flagLines(Object.keys(FLAGS))}\n\nRun "pidpilot COMMAND --help" for one command.\n`;
}

export function commandUsage(name: string): string {
  const c = COMMANDS[name]!;
  const flags = c.flags.length > 0 ? `\n\nFlags:\n${flagLines(c.flags)}` : '';
  return `Usage: pidpilot ${name}${c.args ? ` ${c.args}` : ''}${c.flags.length > 0 ? ' [flags]' : ''}\n\n${c.summary}${flags}\n`;
}
