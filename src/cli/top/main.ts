/**
 * `pidpilot top`: the live view in a terminal. The same feed as the dashboard
 * (src/dashboard/feed.ts) and the selected job's output (`/v3/logs?job=…&follow=1`),
 * drawn by screen.ts. On a terminal it takes the alternate screen and redraws in place;
 * on `TERM=dumb` or when not on a terminal it prints a plain frame after each change
 * (at most once a second). Keys work whenever stdin is a terminal; q or Ctrl-C quits.
 */

import { LiveFeed } from '../../dashboard/feed.js';
import type { StoredLogLine } from '../../state/types.js';
import type { ParsedArgs } from '../args.js';
import { ControlClient, errorOf, runClient } from '../client.js';
import { colourWanted } from '../colour.js';
import { renderTop, type TopState } from './screen.js';

const OUTPUT_KEPT = 500;
const PLAIN_INTERVAL_MS = 1000;

export function top(args: ParsedArgs): Promise<number> {
  return runClient(async () => {
    const client = ControlClient.fromArgs(args);
    await client.call('GET', '/v3/ping'); // a wrong socket is an error now, not an empty screen
    const fancy = process.stdout.isTTY === true && process.env.TERM !== 'dumb';
    const colour = fancy && colourWanted(process.stdout);
    const state: TopState = { status: null, error: null, selected: 0, output: [], message: null };
    const feed = new LiveFeed(client);
    let output: { close: () => void } | null = null;
    let followed: string | undefined;
    let timer: NodeJS.Timeout | null = null;
    let lastPlain = '';
    let lastPlainAt = 0;

    const size = (): [number, number] => [process.stdout.columns || 80, process.stdout.rows || 24];
    const draw = (): void => {
      timer = null;
      const [w, h] = size();
      const lines = renderTop(state, w, h, colour);
      if (fancy) {
        process.stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
        return;
      }
      const frame = lines.join('\n').trimEnd();
      if (frame === lastPlain) return;
      lastPlain = frame;
      lastPlainAt = Date.now();
      process.stdout.write(`${frame}\n\n`);
    };
    const redraw = (): void => {
      if (timer) return;
      const wait = fancy ? 30 : Math.max(30, lastPlainAt + PLAIN_INTERVAL_MS - Date.now());
      timer = setTimeout(draw, wait);
    };
    const selectedJob = (): string | undefined =>
      state.status?.jobs[Math.min(state.selected, state.status.jobs.length - 1)]?.name;
    const followOutput = (): void => {
      const job = selectedJob();
      if (job === followed) return;
      followed = job;
      output?.close();
      state.output = [];
      if (job === undefined) return;
      const lines: StoredLogLine[] = [];
      state.output = lines;
      const stream = client.follow(`/v3/logs?job=${encodeURIComponent(job)}&limit=${OUTPUT_KEPT}&follow=1`, (line) => {
        lines.push(JSON.parse(line) as StoredLogLine);
        if (lines.length > OUTPUT_KEPT) lines.splice(0, lines.length - OUTPUT_KEPT);
        redraw();
      });
      stream.done.catch(() => {}); // no history, or the supervisor went: the pane stays empty
      output = stream;
    };
    const act = (action: 'start' | 'stop' | 'restart'): void => {
      const job = selectedJob();
      if (job === undefined) return;
      state.message = `${action} ${job}…`;
      redraw();
      client.call('POST', `/v3/jobs/${encodeURIComponent(job)}/${action}`).then(
        (res) => {
          state.message =
            res.status === 200
              ? `${job}: ${action} done (now ${(res.json as { state: string }).state})`
              : `${job}: ${errorOf(res)}`;
          void feed.refresh();
          redraw();
        },
        (err: unknown) => {
          state.message = `${job}: ${(err as Error).message}`;
          redraw();
        },
      );
    };

    feed.subscribe((m) => {
      if (m.kind === 'status') state.status = m.status;
      if (m.kind === 'error') state.error = m.error;
      followOutput();
      redraw();
    });
    feed.start();
    const tick = setInterval(redraw, 1000);
    if (fancy) {
      process.stdout.write('\x1b[?1049h\x1b[?25l');
      process.stdout.on('resize', redraw);
    }

    await new Promise<void>((resolve) => {
      const input = process.stdin;
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
      if (!input.isTTY) return;
      input.setRawMode(true);
      input.setEncoding('utf8');
      const onKey = (key: string): void => {
        const jobs = state.status?.jobs.length ?? 0;
        if (key === 'q' || key === '\x03' || key === '\x04') return resolve();
        if (/^\x1b[[O]A$/.test(key) || key === 'k') state.selected = Math.max(0, state.selected - 1);
        else if (/^\x1b[[O]B$/.test(key) || key === 'j')
          state.selected = Math.min(Math.max(0, jobs - 1), state.selected + 1);
        else if (key === 's') return act('start');
        else if (key === 'x') return act('stop');
        else if (key === 'r') return act('restart');
        else return;
        state.message = null;
        followOutput();
        redraw();
      };
      // Keys typed quickly (or pasted) arrive together: one arrow sequence or one character at a time.
      // eslint-disable-next-line no-control-regex
      input.on('data', (chunk: string) => chunk.match(/\x1b[[O][0-9;]*[A-Za-z~]|[\s\S]/g)?.forEach(onKey));
    });

    clearInterval(tick);
    if (timer) clearTimeout(timer);
    feed.stop();
    (output as { close: () => void } | null)?.close();
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdin.pause();
    if (fancy) process.stdout.write('\x1b[?25h\x1b[?1049l');
    return 0;
  });
}
