/**
 * A real terminal for the tests: a tmux pane on its own tmux server (socket under the
 * test's TMUX_TMPDIR), driven with send-keys and read with capture-pane. Used by the
 * `pidpilot top` test and the zsh completion test; waits on what the pane shows, never on
 * a fixed delay.
 */
import { spawnSync } from 'node:child_process';
import { eventually } from '../integration/control-support.js';

/** Whether a command is on the PATH (a test that needs it skips, saying so, when it is not). */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

export class Pane {
  constructor(
    private readonly server: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  tmux(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('tmux', ['-L', this.server, '-f', '/dev/null', ...args], { encoding: 'utf8', env: this.env });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** A session `name` of width × height running the shell command `cmd`; the pane stays when it ends. */
  start(name: string, width: number, height: number, cmd: string): void {
    const r = this.tmux('new-session', '-d', '-s', name, '-x', String(width), '-y', String(height), cmd);
    if (r.status !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
    this.tmux('set-option', '-t', name, 'remain-on-exit', 'on');
  }

  capture(name: string, escapes = false): string {
    return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', name).stdout;
  }

  keys(name: string, ...keys: string[]): void {
    this.tmux('send-keys', '-t', name, ...keys);
  }

  /** Whether the program in the pane has ended (the pane stays, marked dead). */
  dead(name: string): boolean {
    return this.tmux('display-message', '-p', '-t', name, '#{pane_dead}').stdout.trim() === '1';
  }

  async until(name: string, test: (screen: string) => boolean, what: string): Promise<string> {
    let screen = '';
    try {
      return await eventually(async () => {
        screen = this.capture(name);
        return test(screen) ? screen : null;
      }, what);
    } catch (err) {
      throw new Error(`${(err as Error).message}; the pane shows:\n${screen}`);
    }
  }

  kill(): void {
    this.tmux('kill-server');
  }
}
