/**
 * The requests the control-socket fuzz test (control-fuzz.test.ts) sends, as fast-check
 * arbitraries, and a raw HTTP/1.1 client that reads exactly what the server answers.
 *
 * A request is built from parts: a method, a request target (the real endpoints with good and
 * bad parameters, percent-encoding, `..`, very long paths, random text), headers (a bad or
 * short Content-Length, chunked framing good or garbage, huge or invalid headers) and a body
 * (random JSON, JSON of the wrong shape, not JSON, over the 1 MiB limit). Alongside the bytes
 * it records what the server will have seen of the body (`seenBody`), so the test can check
 * what an accepted request did.
 *
 * Left out on purpose, each with why:
 * - the job the supervisor lives on (`keeper`) is never named by a job action: stopping every
 *   job ends pidpilot by design (docs/control-api.md), which would end the test, not find a bug;
 *   job actions target `victim` (or jobs that do not exist);
 * - `?follow=1`: a follow stream is answered forever by design (its bound is tested in
 *   test/unit/control/server.test.ts); only non-following values are sent;
 * - a Content-Length larger than the body sent: that is a slow client, answered 408 after the
 *   request deadline (10 s; tested there too), which would only make the run slow;
 * - stop/restart timeouts that are valid but long: a `victim` frozen by a fuzzed SIGSTOP would
 *   hold that request for as long as asked.
 */
import { connect } from 'node:net';
import fc from 'fast-check';

export const ENDPOINTS = [
  '/v3/env',
  '/v3/environ',
  '/v3/metric',
  '/v3/reload',
  '/v3/maintenance/enable',
  '/v3/maintenance/disable',
  '/v3/ping',
  '/v3/status',
  '/v3/events',
  '/v3/logs',
  '/v3/graph',
] as const;
const JOB_ACTIONS = ['runs', 'logs', 'start', 'stop', 'restart', 'signal'] as const;
/** The job that keeps the supervisor alive: never addressed (see above). */
export const KEEPER = 'keeper';
/** The job the fuzz may start, stop, restart and signal. */
export const VICTIM = 'victim';
/** Just over the body limit of docs/control-api.md (1 MiB). */
const OVERSIZED = 1024 * 1024 + 16;

export interface FuzzRequest {
  method: string;
  target: string;
  /** The raw bytes sent. */
  bytes: Buffer;
  /** The body as the server reads it (after its framing), or null when the framing is broken. */
  seenBody: string | null;
  /** True when nothing but the parts above is unusual: headers and framing are well-formed. */
  clean: boolean;
}

const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~%/?&=#:@!$()*+,;'.split('')), maxLength: 40 });
const anyText = fc.string({ unit: 'binary', maxLength: 60 });

/** Percent-encodes some or all characters of `s` (a client may encode what it likes). */
const encodedSome = (s: string) =>
  fc
    .array(fc.boolean(), { minLength: s.length, maxLength: s.length })
    .map((flags) =>
      [...s].map((c, i) => (flags[i] ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c)).join(''),
    );

const jobName = fc.oneof(
  fc.constantFrom(VICTIM, 'ghost', '..', '.', '%', '%zz', '%00', 'a%2Fb', 'x'.repeat(300)),
  encodedSome(VICTIM),
  printable.filter((s) => s !== '' && !s.includes('/') && !s.includes('?') && !s.includes('#')),
);

const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('limit', 'since', 'job', 'follow', 'f', 'timeout', 'x', ''),
      fc.oneof(
        fc.constantFrom('0', '1', '5', '-1', '1.5', '999999999', '9999999999999', 'lots', '', '1ms', '50ms', '2s'),
        fc.constantFrom('1h', '87600h', '99999999999h', 'never', '%', '%zz', VICTIM, 'ghost', `${VICTIM},ghost`),
        printable,
      ),
    ),
    { maxLength: 3 },
  )
  .map((pairs) => {
    // Never follow (a stream answers forever), never a long valid stop timeout (see above).
    const safe = pairs.filter(([k, v]) => {
      if ((k === 'follow' || k === 'f') && /^(1|true|yes)$/i.test(decodeLoose(v))) return false;
      return !(k === 'timeout' && /^\d+(\.\d+)?(h|m|s|ms|us|ns)?$/.test(v) && !/^(0|1ms|50ms|2s|1\.5|1|5)$/.test(v));
    });
    return safe.length === 0 ? '' : `?${safe.map(([k, v]) => (k === '' ? v : `${k}=${v}`)).join('&')}`;
  });

function decodeLoose(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const target = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...ENDPOINTS), query).map(([p, q]) => p + q) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(jobName, fc.oneof(fc.constantFrom(...JOB_ACTIONS), printable), query)
      .map(([j, a, q]) => `/v3/jobs/${j}/${a}${q}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '/v3/jobs/../env',
      '/v3/%2e%2e/v3/ping',
      '/v3/../../../../etc/passwd',
      '/v3/jobs/victim/../../status',
      '/v3/jobs/%2e%2e%2f%2e%2e%2fetc%2fpasswd/logs',
      '//v3/ping',
      '/v3/ping/',
      '/V3/PING',
      '/v3/ping?',
      '*',
      'http://control/v3/ping',
      '/v3/ping#frag',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 40_000 }).map((n) => `/v3/${'a'.repeat(n)}`) },
  { weight: 1, arbitrary: fc.tuple(printable, anyText).map(([a, b]) => `/${a}${b}`) },
);

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 2, arbitrary: fc.constantFrom('PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE') },
  { weight: 1, arbitrary: fc.constantFrom('CONNECT', 'get', 'FOO', 'G ET', '', 'POST\x00') },
);

const envBody = fc.dictionary(
  fc.oneof(
    { weight: 6, arbitrary: fc.stringMatching(/^FZ_[A-Z0-9_]{0,8}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('1FZ', 'FZ-X', 'FZ=X', '', '__proto__', 'constructor', 'FZ X', 'PATH\x00'),
    },
  ),
  fc.oneof(
    fc.string({ maxLength: 20 }).filter((s) => !s.includes('\n')),
    fc.constantFrom(null, '', 'a\x00b', 1, true, [], {}),
  ),
  { maxKeys: 4 },
);

const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: envBody.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '{"signal":"HUP"}',
      '{"signal":"SIGUSR1"}',
      '{"signal":"KILL"}',
      '{"signal":"NOPE"}',
      '{"signal":""}',
      '{"timeout":"1ms"}',
      '{"timeout":{}}',
      '{"timeout":"never"}',
      '[1,2,3]',
      '{"a":',
      'not json',
      '\x00\x01\x02',
      '{"FZ_A":"x"',
    ),
  },
  { weight: 1, arbitrary: anyText },
  { weight: 1, arbitrary: fc.constant(`{"FZ_BIG":"${'x'.repeat(OVERSIZED)}"}`) },
);

/** How the body is framed: as it should be, or broken in one of the ways a client can break it. */
const framing = fc.constantFrom(
  'content-length',
  'content-length',
  'content-length',
  'none',
  'chunked',
  'chunked-garbage',
  'chunked-bad-data',
  'cl-short',
  'cl-words',
  'cl-negative',
  'cl-twice',
  'cl-and-chunked',
);

const extraHeader = fc.oneof(
  fc.constant(''),
  fc.constant(''),
  fc.constantFrom(
    'Connection: keep-alive\r\n',
    'Accept: text/event-stream\r\n',
    'Expect: 100-continue\r\n',
    'Upgrade: websocket\r\nConnection: Upgrade\r\n',
    'X-Bad\x00Name: 1\r\n',
    'X-Folded: a\r\n b\r\n',
    'Host: a\r\nHost: b\r\n',
    `X-Huge: ${'h'.repeat(20_000)}\r\n`,
    `${Array.from({ length: 300 }, (_, i) => `X-Many-${i}: ${i}\r\n`).join('')}`,
  ),
  fc.tuple(printable, anyText).map(([k, v]) => `X-${k.replace(/[^A-Za-z0-9-]/g, '')}: ${v.replace(/[\r\n]/g, '')}\r\n`),
);

function frame(kind: string, text: string): { headers: string; payload: Buffer; seen: string | null } {
  const b = Buffer.from(text, 'utf8');
  const len = b.length;
  const chunked = `${len.toString(16)}\r\n${text}\r\n`;
  switch (kind) {
    case 'none':
      // No framing header: the server reads no body; what follows is a second request (not served).
      return { headers: '', payload: b, seen: '' };
    case 'chunked':
      return {
        headers: 'Transfer-Encoding: chunked\r\n',
        payload: Buffer.from(len > 0 ? `${chunked}0\r\n\r\n` : '0\r\n\r\n'),
        seen: text,
      };
    case 'chunked-garbage':
      return {
        headers: 'Transfer-Encoding: chunked\r\n',
        payload: Buffer.from(`ZZZ\r\n${text}\r\n0\r\n\r\n`),
        seen: null,
      };
    case 'chunked-bad-data':
      return {
        headers: 'Transfer-Encoding: chunked\r\n',
        payload: Buffer.from(`${(len + 1).toString(16)}\r\n${text}XYZ`),
        seen: null,
      };
    case 'cl-short': {
      const cut = Math.floor(len / 2);
      return { headers: `Content-Length: ${cut}\r\n`, payload: b, seen: b.subarray(0, cut).toString('utf8') };
    }
    case 'cl-words':
      return { headers: 'Content-Length: twelve\r\n', payload: b, seen: null };
    case 'cl-negative':
      return { headers: `Content-Length: -${len}\r\n`, payload: b, seen: null };
    case 'cl-twice':
      return { headers: `Content-Length: ${len}\r\nContent-Length: ${len + 1}\r\n`, payload: b, seen: null };
    case 'cl-and-chunked':
      return {
        headers: `Content-Length: ${len}\r\nTransfer-Encoding: chunked\r\n`,
        payload: Buffer.from(`${chunked}0\r\n\r\n`),
        seen: null,
      };
    default:
      return { headers: `Content-Length: ${len}\r\n`, payload: b, seen: text };
  }
}

/** One request, its bytes and what the server will have seen of its body. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc
  .oneof(
    { weight: 4, arbitrary: fc.record({ method, target, body, framing, extra: extraHeader }) },
    // Well-formed putenvs often enough that accepted ones are checked against what children get.
    {
      weight: 1,
      arbitrary: fc.record({
        method: fc.constant('POST'),
        target: fc.constantFrom('/v3/env', '/v3/environ'),
        body: envBody.map((o) => JSON.stringify(o)),
        framing: fc.constantFrom('content-length', 'chunked'),
        extra: fc.constant(''),
      }),
    },
  )
  .map(({ method, target, body, framing, extra }) => {
    const f = frame(framing, body);
    const head = `${method} ${target} HTTP/1.1\r\nHost: control\r\n${f.headers}${extra}\r\n`;
    const clean = extra === '' && (framing === 'content-length' || framing === 'chunked');
    const bytes = Buffer.concat([Buffer.from(head, 'latin1'), f.payload]);
    // How a counterexample is printed: the request's start, not a megabyte of body.
    const shown = (): string =>
      JSON.stringify(
        `${bytes.subarray(0, 300).toString('latin1')}${bytes.length > 300 ? `…(${bytes.length} bytes)` : ''}`,
      );
    return { method, target, bytes, seenBody: f.seen, clean, [fc.toStringMethod]: shown };
  })
  // The supervisor's own job is never addressed (see the top of this file).
  .filter((r) => jobOf(r.target) !== KEEPER);

/** The path the server routes on: the WHATWG URL's, as `new URL` gives it to the server. */
export function pathOf(target: string): string | null {
  try {
    return new URL(target, 'http://control').pathname;
  } catch {
    return null;
  }
}

/** The job a `/v3/jobs/{name}/…` target names, decoded as the server decodes it. */
export function jobOf(target: string): string | null {
  const m = /^\/v3\/jobs\/([^/]+)\/[^/]+$/.exec(pathOf(target) ?? '');
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Bytes after the first answer: any would be a second answer on one request. */
  rest: string;
  /** Everything received (for failure messages). */
  raw: string;
  ms: number;
}

/**
 * Sends `bytes` on a fresh connection and reads until the server closes it (one request per
 * connection), bounded by `boundMs`; then parses the first answer. Rejects on no answer.
 */
export function exchange(socketPath: string, bytes: Buffer, method: string, boundMs: number): Promise<RawAnswer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const c = connect(socketPath);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (why: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(bound);
      c.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const parsed = parseAnswer(raw, method);
      if (why !== null) return reject(new Error(`${why}; received ${JSON.stringify(raw.slice(0, 300))}`));
      if (!parsed) return reject(new Error(`no complete answer: ${JSON.stringify(raw.slice(0, 300))}`));
      resolve({ ...parsed, raw, ms: Date.now() - started });
    };
    const bound = setTimeout(() => finish(`no end of the connection within ${boundMs}ms`), boundMs);
    c.on('data', (d: Buffer) => chunks.push(d));
    c.on('error', () => {}); // EPIPE/ECONNRESET after an early answer: what was read still counts
    c.on('close', () => finish(null));
    c.write(bytes);
  });
}

function parseAnswer(all: string, method: string): Omit<RawAnswer, 'raw' | 'ms'> | null {
  // An interim `100 Continue` (to `Expect: 100-continue`) is not an answer: the one after it is.
  const raw = all.replace(/^(HTTP\/1\.1 100 [^\r]*\r\n\r\n)+/, '');
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  if (headers['transfer-encoding'] !== undefined) return null; // never sent by this server outside follow streams
  const length = method === 'HEAD' ? 0 : Number(headers['content-length'] ?? 0);
  const bodyBytes = Buffer.from(raw.slice(end + 4), 'latin1');
  if (bodyBytes.length < length) return null;
  return {
    status: Number(m[1]),
    headers,
    body: bodyBytes.subarray(0, length).toString('utf8'),
    rest: bodyBytes.subarray(length).toString('latin1'),
  };
}
