/**
 * `pidpilot completion bash|zsh|fish` in the real shells: each completes commands, flags
 * (also after a flag and its value), job names read from the configuration, a job and then
 * a signal for `signal`. bash is driven through its completion variables, fish through
 * `complete -C` (its non-interactive completion query), zsh interactively in a tmux pane
 * (its completion system needs zle). zsh and fish tests skip, saying so, where the shell is
 * not installed (`npm test` installs both as root).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { hasCommand, Pane } from '../support/tmux.js';
import { BIN, useHarness } from './support.js';

const h = useHarness();
const SIGNALS = ['CONT', 'HUP', 'INT', 'KILL', 'QUIT', 'STOP', 'TERM', 'USR1', 'USR2', 'WINCH'];
const missing = ['zsh', 'fish', 'tmux'].filter((s) => !hasCommand(s));
if (missing.length > 0)
  console.warn(
    `completion tests for ${missing.join(', ')} skipped: not on this machine (Debian: apt-get install ${missing.join(' ')}; npm test installs them as root)`,
  );

let file = '';
let env: NodeJS.ProcessEnv = {};
/** The script for `shell`, written where the shell can source it. */
async function script(shell: string): Promise<string> {
  const r = await h().cli(['completion', shell]);
  expect([r.code, r.stderr], shell).toEqual([0, '']);
  const path = h().path(`completion.${shell}`);
  writeFileSync(path, r.stdout);
  return path;
}

beforeEach(() => {
  file = h().writeConfig({
    jobs: [
      { name: 'frontend', exec: ['true'] },
      { name: 'backend', exec: ['true'] },
    ],
  });
  // `pidpilot` on the PATH, as the scripts call it for the job names
  const shim = h().path('pidpilot');
  writeFileSync(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(shim, 0o755);
  env = { ...process.env, PATH: `${h().dir}:${process.env.PATH}`, PIDPILOT: file };
});

describe('completion', () => {
  it('bash: completes commands, flags, and job names from the configuration', { timeout: 60_000 }, async () => {
    const path = await script('bash');
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source ${path}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _pidpilot; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8', env },
      );
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter((l) => l !== '');
    };
    expect(complete('pidpilot st')).toEqual(['status', 'start', 'stop']);
    expect(complete(`pidpilot -config ${file} st`)).toEqual(['status', 'start', 'stop']);
    expect(complete('pidpilot restart ')).toEqual(['frontend', 'backend']);
    expect(complete('pidpilot logs f')).toEqual(['frontend']);
    expect(complete('pidpilot signal ')).toEqual(['frontend', 'backend']);
    expect(complete('pidpilot signal backend US')).toEqual(['USR1', 'USR2']);
    expect(complete('pidpilot status -wa')).toEqual(['-watch']);
    expect(complete('pidpilot completion z')).toEqual(['zsh']);
    expect((await h().cli(['completion', 'tcsh'])).code).toBe(2);
  });

  it('bash and fish: scale completes the jobs with replicas, then nothing', { timeout: 60_000 }, async () => {
    env = {
      ...env,
      PIDPILOT: h().writeConfig(
        {
          jobs: [
            { name: 'web', exec: ['true'] },
            { name: 'workers', exec: ['true'], replicas: 2 },
          ],
        },
        'replicas.json5',
      ),
    };
    const bash = await script('bash');
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source ${bash}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _pidpilot; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8', env },
      );
      expect(r.stderr).toBe('');
      return r.stdout.split('\n').filter((l) => l !== '');
    };
    expect(complete('pidpilot restart ')).toEqual(['web', 'workers-1', 'workers-2']);
    expect(complete('pidpilot scale ')).toEqual(['workers']);
    expect(complete('pidpilot scale workers ')).toEqual([]);
    if (!hasCommand('fish')) return;
    const fish = await script('fish');
    const r = spawnSync('fish', ['--no-config', '-c', `source ${fish}; complete -C'pidpilot scale '`], {
      encoding: 'utf8',
      env,
    });
    expect(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['workers']);
  });

  it.skipIf(!hasCommand('fish'))('fish: the same, through complete -C', { timeout: 60_000 }, async () => {
    const path = await script('fish');
    const complete = (line: string): string[] => {
      const r = spawnSync('fish', ['--no-config', '-c', `source ${path}; complete -C${JSON.stringify(line)}`], {
        encoding: 'utf8',
        env,
      });
      expect([r.status, r.stderr], line).toEqual([0, '']);
      // each candidate is "word<TAB>description"
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')[0]!);
    };
    expect(complete('pidpilot st')).toEqual(['start', 'status', 'stop']);
    expect(complete(`pidpilot -config ${file} st`)).toEqual(['start', 'status', 'stop']);
    expect(complete('pidpilot restart ')).toEqual(['backend', 'frontend']);
    expect(complete('pidpilot logs f')).toEqual(['frontend']);
    expect(complete('pidpilot signal ')).toEqual(['backend', 'frontend']);
    expect(complete('pidpilot signal backend ')).toEqual(SIGNALS);
    expect(complete(`pidpilot -config ${file} signal backend US`)).toEqual(['USR1', 'USR2']);
    expect(complete('pidpilot signal backend HUP ')).toEqual([]);
    expect(complete('pidpilot status -wa')).toEqual(['-watch']);
    expect(complete('pidpilot completion z')).toEqual(['zsh']);
  });

  it.skipIf(!hasCommand('zsh') || !hasCommand('tmux'))(
    'zsh: the same, typed into an interactive zsh with compinit',
    { timeout: 120_000 },
    async () => {
      const path = await script('zsh');
      writeFileSync(h().path('.zshrc'), `autoload -Uz compinit && compinit -u -D\nsource ${path}\nPROMPT='> '\n`);
      const pane = new Pane(`pidpilot-zsh-${process.pid}`, {
        ...env,
        ZDOTDIR: h().dir,
        TMUX_TMPDIR: h().dir,
        TMUX: undefined,
        TERM: 'xterm',
      });
      try {
        pane.start('zsh', 160, 30, 'exec zsh -i');
        await pane.until('zsh', (s) => /^>$/m.test(s), 'the prompt');
        /** Types `line` then Tab; resolves with the screen once `test` holds; clears the line. */
        const tab = async (line: string, test: (screen: string) => boolean, what: string): Promise<string> => {
          pane.keys('zsh', 'C-c');
          await pane.until('zsh', (s) => s.trimEnd().split('\n').at(-1) === '>', 'a fresh prompt');
          pane.keys('zsh', 'C-l');
          pane.keys('zsh', '-l', line);
          pane.keys('zsh', 'Tab');
          return pane.until('zsh', test, what);
        };
        const listed =
          (...words: string[]) =>
          (s: string) =>
            words.every((w) => new RegExp(`(^|\\s)${w}(\\s|$)`, 'm').test(s.split('\n').slice(1).join('\n')));
        const commands = await tab('pidpilot st', listed('start', 'status', 'stop'), 'start, status, stop listed');
        expect(commands).toMatch(/^status +-- /m); // with their descriptions
        await tab(`pidpilot -config ${file} st`, listed('start', 'status', 'stop'), 'commands after -config FILE');
        await tab('pidpilot restart ', listed('backend', 'frontend'), 'the job names');
        await tab('pidpilot signal ', listed('backend', 'frontend'), 'a job first for signal');
        const signals = await tab('pidpilot signal backend ', listed(...SIGNALS), 'then the signals');
        expect(signals).not.toMatch(/(^|\s)frontend(\s|$)/m);
        // a unique candidate is completed in place
        await tab('pidpilot logs f', (s) => /^> pidpilot logs frontend$/m.test(s), 'logs f → logs frontend');
        await tab('pidpilot completion z', (s) => /^> pidpilot completion zsh$/m.test(s), 'completion zsh');
      } finally {
        pane.kill();
      }
    },
  );
});
