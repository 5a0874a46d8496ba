import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogFormat, LogLevel } from '../../../src/config/types.js';
import { rfc3339 } from '../../../src/log/format.js';
import { createLogger } from '../../../src/log/logger.js';
import { relayLines } from '../../../src/log/relay.js';
import { MemorySink } from '../../support/jobs.js';
import { STAMP, tempDir } from './support.js';

function setup(format: LogFormat, level: LogLevel = 'debug') {
  return createLogger({ level, format, output: 'stdout' }, new MemorySink());
}

async function relayText(
  text: string | Buffer,
  writer: ReturnType<typeof setup>['lineWriter'],
  stream: 'stdout' | 'stderr' = 'stdout',
) {
  await relayLines(Readable.from([Buffer.from(text)]), { job: 'web', stream, writer });
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

describe('rfc3339', () => {
  it('prints local time with milliseconds and the zone', () => {
    const s = rfc3339(Date.UTC(2024, 4, 1, 12, 34, 56, 7));
    expect(s).toMatch(new RegExp(`^${STAMP}$`));
    expect(new Date(s).getTime()).toBe(Date.UTC(2024, 4, 1, 12, 34, 56, 7));
    // Crossing a minute boundary refreshes the cached minute.
    expect(new Date(rfc3339(Date.UTC(2024, 4, 1, 12, 35, 0, 0))).getTime()).toBe(Date.UTC(2024, 4, 1, 12, 35));
    expect(new Date(rfc3339(Date.UTC(2030, 0, 1, 0, 0, 0, 999))).getTime()).toBe(Date.UTC(2030, 0, 1, 0, 0, 0, 999));
  });
});

describe('default format', () => {
  it("prints ContainerPilot's look: timestamp, job and pid when bound, message", async () => {
    const { sink, logger, lineWriter } = setup('default');
    logger.info('hello world');
    logger.child({ job: 'web' }).warn({ extra: 1 }, 'job said');
    logger.child({ job: 'web', pid: 42 }).error('exited');
    await relayText('line one\nline two\n', lineWriter);
    expect(sink.lines).toHaveLength(5);
    expect(sink.lines[0]).toMatch(new RegExp(`^${STAMP} hello world$`));
    expect(sink.lines[1]).toMatch(new RegExp(`^${STAMP} web job said$`));
    expect(sink.lines[2]).toMatch(new RegExp(`^${STAMP} web 42 exited$`));
    expect(sink.lines[3]).toMatch(new RegExp(`^${STAMP} web line one$`));
    expect(sink.lines[4]).toMatch(new RegExp(`^${STAMP} web line two$`));
  });

  it('puts the stack of a logged error on the following lines', () => {
    const { sink, logger } = setup('default');
    const err = new Error('boom');
    logger.fatal({ err }, 'internal error');
    expect(sink.text).toMatch(new RegExp(`^${STAMP} internal error\nError: boom\n    at `));
    expect(sink.flushes).toBeGreaterThan(0);
  });
});

describe('text format', () => {
  it('prints logfmt with quoting where needed', async () => {
    const { sink, logger, lineWriter } = setup('text');
    logger.info('hello world');
    logger
      .child({ job: 'web' })
      .warn({ attempt: 2, note: 'a b', eq: 'k=v', q: 'say "hi"', path: '/x/y', ok: true, empty: '' }, 'retrying');
    logger.debug('two\nlines\t"quoted" \\ done');
    await relayText('say "hi" \\ back\n', lineWriter, 'stderr');
    const l = sink.lines;
    expect(l).toHaveLength(4);
    expect(l[0]).toMatch(new RegExp(`^time=${STAMP} level=info msg="hello world"$`));
    expect(l[1]).toMatch(
      new RegExp(
        `^time=${STAMP} level=warn msg="retrying" job=web attempt=2 note="a b" eq="k=v" q="say \\\\"hi\\\\"" path=/x/y ok=true empty=""$`,
      ),
    );
    expect(l[2].slice(l[2].indexOf(' level='))).toBe(' level=debug msg="two\\nlines\\t\\"quoted\\" \\\\ done"');
    expect(l[3]).toMatch(new RegExp(`^time=${STAMP} level=info msg=".*" job=web stream=stderr$`));
    expect(l[3].slice(l[3].indexOf(' level='))).toBe(' level=info msg="say \\"hi\\" \\\\ back" job=web stream=stderr');
  });

  it('renders an error as its message and stack', () => {
    const { sink, logger } = setup('text');
    logger.error({ err: new Error('boom') }, 'failed');
    expect(sink.lines).toHaveLength(1);
    expect(sink.lines[0]).toMatch(
      new RegExp(`^time=${STAMP} level=error msg="failed" err=boom stack="Error: boom\\\\n    at `),
    );
  });
});

describe('json format', () => {
  it('prints one JSON object per line, level as a name', async () => {
    const { sink, logger, lineWriter } = setup('json');
    logger.info('hello world');
    logger.child({ job: 'web' }).warn({ attempt: 2 }, 'retrying');
    await relayText('job "output"\n', lineWriter);
    const recs = sink.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toHaveLength(3);
    for (const r of recs) expect(r.time).toMatch(new RegExp(`^${STAMP}$`));
    expect(Object.keys(recs[0])).toEqual(['level', 'time', 'msg']);
    expect(recs[0]).toMatchObject({ level: 'info', msg: 'hello world' });
    expect(recs[1]).toMatchObject({ level: 'warn', job: 'web', attempt: 2, msg: 'retrying' });
    expect(Object.keys(recs[2])).toEqual(['level', 'time', 'job', 'stream', 'msg']);
    expect(recs[2]).toMatchObject({ level: 'info', job: 'web', stream: 'stdout', msg: 'job "output"' });
    expect(sink.lines[2]).toMatch(
      new RegExp(`^\\{"level":"info","time":"${STAMP}","job":"web","stream":"stdout","msg":"job \\\\"output\\\\""\\}$`),
    );
  });
});

describe('levels', () => {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal', 'panic'];

  it.each(order)('level %s shows that level and above', (level) => {
    const { sink, logger } = setup('json', level);
    logger.debug('debug');
    logger.info('info');
    logger.warn('warn');
    logger.error('error');
    logger.fatal('fatal');
    logger.panic('panic');
    const seen = sink.lines.map((l) => (JSON.parse(l) as { level: string; msg: string }).level);
    expect(seen).toEqual(order.slice(order.indexOf(level)));
  });

  it('accepts the level in any case, as ContainerPilot files write it', () => {
    const sink = new MemorySink();
    const { logger } = createLogger({ level: 'WARN' as LogLevel, format: 'default', output: 'stdout' }, sink);
    logger.info('hidden');
    logger.warn('shown');
    expect(sink.lines).toHaveLength(1);
    expect(sink.lines[0]).toMatch(/ shown$/);
  });

  it('panic flushes the sink synchronously', () => {
    for (const format of ['default', 'text', 'json'] as const) {
      const { sink, logger } = setup(format);
      logger.panic('bye');
      expect(sink.flushes).toBe(1);
    }
  });

  it('reads and discards job output when the level is above info', async () => {
    const { sink, logger, lineWriter } = setup('default', 'warn');
    expect(lineWriter.enabled).toBe(false);
    await relayText('a\nb\nno newline', lineWriter);
    logger.warn('after');
    expect(sink.lines).toHaveLength(1);
    expect(sink.lines[0]).toMatch(/ after$/);
  });
});

describe('file output', () => {
  it('appends to the file and reopens it after logrotate renamed it', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'pidpilot.log');
    const { logger, sink } = createLogger({ level: 'info', format: 'default', output: file });
    logger.info('first');
    await sink.flush();
    renameSync(file, `${file}.1`);
    logger.info('second'); // still goes to the renamed file, as with any open descriptor
    sink.reopen();
    logger.info('third');
    await sink.close();
    const rotated = readFileSync(`${file}.1`, 'utf8').split('\n').slice(0, -1);
    const current = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    expect(rotated.map((l) => l.replace(new RegExp(`^${STAMP} `), ''))).toEqual(['first', 'second']);
    expect(current.map((l) => l.replace(new RegExp(`^${STAMP} `), ''))).toEqual(['third']);
  });

  it('fails at once when the file cannot be opened', () => {
    expect(() => createLogger({ level: 'info', format: 'default', output: '/nonexistent-dir/x/pidpilot.log' })).toThrow(
      /ENOENT/,
    );
  });
});
