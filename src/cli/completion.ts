/**
 * `pidpilot completion bash|zsh|fish`: a completion script for the shell, made from the
 * command table (commands, their flags, job names where a command takes a job).
 * Job names come, at completion time, from `pidpilot completion jobs` (not listed in the
 * help): the jobs of the configuration the flags or the environment point at, one a line;
 * `pidpilot completion replicated` lists the jobs with `replicas` (what `scale` takes).
 */

import { loadConfig } from '../config/load.js';
import { UsageError } from './args.js';
import { COMMANDS, FLAGS } from './commands.js';
import { configPath } from './config-file.js';

const SIGNALS = 'HUP INT QUIT USR1 USR2 TERM KILL CONT STOP WINCH';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const visible = Object.keys(COMMANDS);
const jobCommands = visible.filter((c) => COMMANDS[c]!.complete === 'jobs');
/** Flags that take a value, whose value is a file name or free text: complete files. */
const valued = Object.keys(FLAGS).filter((f) => FLAGS[f]!.kind !== 'boolean');

function bash(): string {
  return `# pidpilot completion for bash: eval "$(pidpilot completion bash)"
_pidpilot() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= nth=0 i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case $w in
      -*=*) ;;
      ${valued.map((f) => `-${f}|--${f}`).join('|')}) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=$w; else ((nth++)); fi ;;
    esac
  done
  case $prev in
    ${valued.map((f) => `-${f}|--${f}`).join('|')}) COMPREPLY=(); return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W ${quote(
      Object.keys(FLAGS)
        .map((f) => `-${f}`)
        .join(' '),
    )} -- "$cur"))
  elif [[ -z $cmd ]]; then
    COMPREPLY=($(compgen -W ${quote(visible.join(' '))} -- "$cur"))
  else
    case $cmd in
      signal) if ((nth == 0)); then COMPREPLY=($(compgen -W "$(pidpilot completion jobs 2>/dev/null)" -- "$cur")); else COMPREPLY=($(compgen -W ${quote(SIGNALS)} -- "$cur")); fi ;;
      scale) if ((nth == 0)); then COMPREPLY=($(compgen -W "$(pidpilot completion replicated 2>/dev/null)" -- "$cur")); else COMPREPLY=(); fi ;;
      ${jobCommands.filter((c) => c !== 'signal').join('|')}) COMPREPLY=($(compgen -W "$(pidpilot completion jobs 2>/dev/null)" -- "$cur")) ;;
      completion) COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
      help) COMPREPLY=($(compgen -W ${quote(visible.join(' '))} -- "$cur")) ;;
      *) COMPREPLY=() ;;
    esac
  fi
}
complete -o default -F _pidpilot pidpilot
`;
}

function zsh(): string {
  const described = visible.map((c) => quote(`${c}:${COMMANDS[c]!.summary.replace(/:/g, '\\:')}`)).join('\n    ');
  return `#compdef pidpilot
# pidpilot completion for zsh: eval "$(pidpilot completion zsh)" (after compinit)
_pidpilot() {
  local -a commands flags
  local cmd= w
  local -i i nth=0
  commands=(
    ${described}
  )
  flags=(${Object.keys(FLAGS)
    .map((f) => `-${f}`)
    .join(' ')})
  # the command and how many words follow it, skipping flags and the values of valued flags
  for (( i = 2; i < CURRENT; i++ )); do
    w=$words[i]
    case $w in
      -*=*) ;;
      ${valued.map((f) => `-${f}|--${f}`).join('|')}) (( i++ )) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=$w; else (( nth++ )); fi ;;
    esac
  done
  case $words[CURRENT-1] in
    ${valued.map((f) => `-${f}|--${f}`).join('|')}) _files; return ;;
  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $flags
  elif [[ -z $cmd ]]; then
    _describe 'command' commands
  else
    case $cmd in
      signal) if (( nth == 0 )); then compadd -- \${(f)"$(pidpilot completion jobs 2>/dev/null)"}; else compadd -- ${SIGNALS}; fi ;;
      scale) if (( nth == 0 )); then compadd -- \${(f)"$(pidpilot completion replicated 2>/dev/null)"}; fi ;;
      ${jobCommands.filter((c) => c !== 'signal').join('|')}) compadd -- \${(f)"$(pidpilot completion jobs 2>/dev/null)"} ;;
      completion) compadd -- bash zsh fish ;;
      help) _describe 'command' commands ;;
      *) _files ;;
    esac
  fi
}
compdef _pidpilot pidpilot
`;
}

/**
 * fish's own conditions (`__fish_use_subcommand`, `__fish_seen_subcommand_from`) take the
 * value of `-config FILE` for the command and cannot tell `signal JOB` from `signal JOB
 * SIG`, so the script finds the words itself, skipping flags and the values of valued
 * flags, as the bash and zsh scripts do: `__pidpilot_words` prints the command and the
 * words after it, one a line.
 */
function fishWords(): string {
  return `function __pidpilot_words
    set -l skip 0
    for w in (commandline -opc)[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case ${valued.map((f) => `-${f} --${f}`).join(' ')}
                set skip 1
            case '-*'
            case '*'
                echo $w
        end
    end
end
function __pidpilot_using
    set -l w (__pidpilot_words)
    test (count $w) -gt 0; and contains -- $w[1] $argv
end
function __pidpilot_nargs
    math (count (__pidpilot_words)) - 1
end`;
}

function fish(): string {
  const lines = [
    '# pidpilot completion for fish: pidpilot completion fish | source',
    'complete -c pidpilot -f',
    fishWords(),
  ];
  for (const c of visible)
    lines.push(
      `complete -c pidpilot -n 'test (count (__pidpilot_words)) = 0' -a ${c} -d ${quote(COMMANDS[c]!.summary)}`,
    );
  for (const [name, f] of Object.entries(FLAGS)) {
    const opt = name.length === 1 ? `-s ${name}` : `-o ${name} -l ${name}`;
    lines.push(
      `complete -c pidpilot ${opt}${f.kind === 'boolean' ? '' : ' -r'}${name === 'config' || name === 'out' || name === 'socket' ? ' -F' : ''} -d ${quote(f.help)}`,
    );
  }
  const jobs = `-a '(pidpilot completion jobs 2>/dev/null)'`;
  const others = jobCommands.filter((c) => c !== 'signal').join(' ');
  lines.push(`complete -c pidpilot -n '__pidpilot_using ${others}' ${jobs}`);
  // signal JOB SIGNAL: a job first, then a signal
  lines.push(`complete -c pidpilot -n '__pidpilot_using signal; and test (__pidpilot_nargs) = 0' ${jobs}`);
  lines.push(`complete -c pidpilot -n '__pidpilot_using signal; and test (__pidpilot_nargs) = 1' -a ${quote(SIGNALS)}`);
  // scale JOB N: a job with replicas, then a number
  lines.push(
    `complete -c pidpilot -n '__pidpilot_using scale; and test (__pidpilot_nargs) = 0' -a '(pidpilot completion replicated 2>/dev/null)'`,
  );
  lines.push(`complete -c pidpilot -n '__pidpilot_using completion' -a 'bash zsh fish'`);
  lines.push(`complete -c pidpilot -n '__pidpilot_using help' -a ${quote(visible.join(' '))}`);
  return `${lines.join('\n')}\n`;
}

export function completion(shell: string, args: Parameters<typeof configPath>[0]): number {
  if (shell === 'jobs' || shell === 'replicated') {
    try {
      const config = loadConfig(configPath(args), process.env);
      const names = shell === 'jobs' ? config.jobs.map((j) => j.name) : Object.keys(config.replicated ?? {});
      for (const name of names) process.stdout.write(`${name}\n`);
    } catch {
      // no configuration here: nothing to offer
    }
    return 0;
  }
  const scripts: Record<string, () => string> = { bash, zsh, fish };
  const make = scripts[shell];
  if (!make) throw new UsageError(`completion is for bash, zsh or fish, got "${shell}"`);
  process.stdout.write(make());
  return 0;
}
