/**
 * What `pidpilot top` shows, as a pure function of what it knows and the terminal's size:
 * the headline, the job table (the selected job marked), the selected job's latest output,
 * and a line of keys or of the last action's result. Every line fits the width; on a short
 * terminal the output pane shrinks first, then the table scrolls to keep the selection.
 */
import type { StatusSnapshot } from '../../control/target.js';
import type { StoredLogLine } from '../../state/types.js';
import { type Paint, painter, visibleLength } from '../colour.js';
import { formatTable, STATUS_HEADER, statusHeadline, statusRow } from '../status.js';

export interface TopState {
  status: StatusSnapshot | null;
  /** Why there is no status (the supervisor is unreachable), or null. */
  error: string | null;
  selected: number;
  output: readonly StoredLogLine[];
  /** The result of the last action, or null for the key help. */
  message: string | null;
}

export const KEYS_HELP = '↑/↓ select  s start  x stop  r restart  q quit';

/** `text` cut to `width` visible characters; escape sequences are kept (and closed). */
export function fit(text: string, width: number): string {
  if (visibleLength(text) <= width) return text;
  let out = '';
  let shown = 0;
  for (let i = 0; i < text.length && shown < width; ) {
    // eslint-disable-next-line no-control-regex
    const esc = /^\x1b\[[0-9;]*m/.exec(text.slice(i));
    if (esc) {
      out += esc[0];
      i += esc[0].length;
    } else {
      out += text[i];
      shown++;
      i++;
    }
  }
  return out.includes('\x1b[') ? `${out}\x1b[0m` : out;
}

/** A job's line with its control characters (its own colours, cursor moves) made visible, so they cannot redraw our screen. */
export function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/\t/g, '  ').replace(/[\x00-\x1f\x7f-\x9f]/g, '·');
}

export function renderTop(state: TopState, width: number, height: number, colour: boolean): string[] {
  const paint: Paint = painter(colour);
  const w = Math.max(1, width);
  if (height < 5 || width < 20) return [fit('pidpilot top: the terminal is too small', w)];
  const now = Date.now();
  const lines: string[] = [];
  const s = state.status;
  const head = s ? statusHeadline(s, now) : 'pidpilot top';
  lines.push(paint(head, 'bold') + (state.error ? paint(`  (supervisor unreachable: ${state.error})`, 'red') : ''));

  const jobs = s?.jobs ?? [];
  const sel = Math.min(Math.max(0, state.selected), Math.max(0, jobs.length - 1));
  const rows = jobs.map((j, i) => {
    const cells = statusRow(j, now, paint);
    cells[0] = i === sel ? paint(`> ${j.name}`, 'inverse') : `  ${j.name}`;
    return cells;
  });
  const table = formatTable(['  ' + STATUS_HEADER[0], ...STATUS_HEADER.slice(1)], rows, paint)
    .trimEnd()
    .split('\n');
  // Room: headline, table header, one job at least; output gets what the jobs leave, at least 2 lines when it can.
  const footer = 1;
  const outputMin = height >= 12 ? 3 : 1;
  const jobRoom = Math.max(1, Math.min(rows.length, height - 1 - 1 - footer - outputMin - 1));
  const first = Math.min(Math.max(0, sel - jobRoom + 1), Math.max(0, rows.length - jobRoom));
  lines.push(table[0]!);
  lines.push(...table.slice(1 + first, 1 + first + jobRoom));

  const name = jobs[sel]?.name;
  const left = height - lines.length - footer;
  if (left >= 2) {
    lines.push(paint(`── output of ${name ?? '-'} ${'─'.repeat(w)}`, 'dim'));
    const room = left - 1;
    const out = state.output
      .slice(-room)
      .map((l) => (l.stream === 'stderr' ? paint(printable(l.line), 'red') : printable(l.line)));
    lines.push(...out);
    while (lines.length < height - footer) lines.push('');
  }
  lines.push(state.message !== null ? paint(state.message, 'yellow') : paint(KEYS_HELP, 'dim'));
  return lines.slice(0, height).map((l) => fit(l.replace(/[\r\t]/g, ' '), w));
}
