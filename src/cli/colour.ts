/**
 * Colours as people expect them of a command-line tool: only when the output is a
 * terminal, never when `NO_COLOR` is set to anything (https://no-color.org), never on
 * `TERM=dumb`; `FORCE_COLOR` (set, not `0`) asks for them anyway.
 */

export type Paint = (text: string, ...styles: Style[]) => string;
export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'inverse';

const CODES: Readonly<Record<Style, number>> = {
  bold: 1,
  dim: 2,
  inverse: 7,
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
};

export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

export function painter(on: boolean): Paint {
  if (!on) return (text) => text;
  return (text, ...styles) =>
    styles.length === 0 ? text : `\x1b[${styles.map((s) => CODES[s]).join(';')}m${text}\x1b[0m`;
}

/** The colour a job state is shown in: green when well, red when not, yellow in between. */
export function stateStyle(state: string): Style[] {
  switch (state) {
    case 'running':
    case 'healthy':
      return ['green'];
    case 'completed':
      return ['green', 'dim'];
    case 'unhealthy':
    case 'failed':
      return ['red', 'bold'];
    case 'starting':
    case 'stopping':
    case 'maintenance':
      return ['yellow'];
    default:
      return ['dim'];
  }
}

/** A colour per job name, stable between runs, for interleaved output (`logs`). */
export function nameStyle(name: string): Style {
  const palette: Style[] = ['cyan', 'magenta', 'blue', 'yellow', 'green'];
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return palette[h % palette.length]!;
}

/** The length of `text` as shown (escape sequences take no room). */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
