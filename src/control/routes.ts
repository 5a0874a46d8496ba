/**
 * The control API (docs/control-api.md): ContainerPilot's endpoints with its paths, methods and
 * answers, then pidpilot's own. `handle()` maps one request to a route; every client
 * mistake becomes a 4xx with a JSON `{"error": …}` body and changes nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StoredEvent, StoredLogLine } from '../state/types.js';
import { HttpError, readBody, readJson, sendError, sendJson, sendOk } from './http.js';
import type { ControlTarget, JobAction } from './target.js';
import { envChanges, metricValues, replicasOf, stopTimeout } from './validate.js';
import { allLogsSource, type StreamSource, signalJob, signalOf } from './view-routes.js';

type Method = 'GET' | 'POST';
type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, job?: string) => Promise<void> | void;

/** A follower that is this far behind on a stream is dropped rather than buffered without bound. */
const MAX_FOLLOW_BACKLOG_BYTES = 1024 * 1024;
/** Follow streams open at once; more are answered 503, so they never take the room short requests need (admission.ts). */
export const MAX_FOLLOWERS = 64;

export class ControlRoutes {
  private readonly routes: ReadonlyMap<string, Partial<Record<Method, Handler>>>;
  private readonly jobRoutes: ReadonlyMap<string, Partial<Record<Method, Handler>>>;
  /** Follow streams in progress, ended when the server closes. */
  private readonly followers = new Set<ServerResponse>();

  constructor(private readonly target: ControlTarget) {
    const t = target;
    const putEnv: Handler = async (req, res) => {
      t.putEnv(envChanges(await readJson(req, 422)));
      sendOk(res);
    };
    this.routes = new Map<string, Partial<Record<Method, Handler>>>([
      // ContainerPilot's own client posts to /v3/environ; docs/control-api.md names it /v3/env. Both work.
      ['/v3/env', { POST: putEnv }],
      ['/v3/environ', { POST: putEnv }],
      [
        '/v3/metric',
        {
          POST: async (req, res) => {
            const values = metricValues(await readJson(req, 422), t.metrics);
            for (const [name, value] of values) t.metrics?.record(name, value);
            sendOk(res);
          },
        },
      ],
      [
        '/v3/reload',
        {
          POST: async (req, res) => {
            await readBody(req); // ContainerPilot ignores a body; still bounded
            const result = await t.reload();
            if (result.ok) sendJson(res, 200, result);
            else
              sendJson(res, 422, {
                error: 'the configuration file is invalid: nothing was changed',
                errors: result.errors,
              });
          },
        },
      ],
      ['/v3/maintenance/enable', { POST: this.maintenance(true) }],
      ['/v3/maintenance/disable', { POST: this.maintenance(false) }],
      ['/v3/ping', { GET: (_req, res) => sendOk(res) }],
      ['/v3/status', { GET: (_req, res) => sendJson(res, 200, t.status()) }],
      ['/v3/events', { GET: (req, res, url) => this.events(req, res, url) }],
      // pidpilot's own, for the views (view-routes.ts).
      [
        '/v3/logs',
        { GET: (req, res, url) => this.stream(req, res, url, allLogsSource(this.history(), t, url, limitParam(url))) },
      ],
      ['/v3/graph', { GET: (_req, res) => sendJson(res, 200, t.jobGraph()) }],
    ]);
    const action =
      (a: JobAction): Handler =>
      async (req, res, url, job) => {
        const body = await readJson(req);
        const timeoutMs = a === 'stop' || a === 'restart' ? stopTimeout(url.searchParams, body) : undefined;
        const result = await t.jobAction(job!, a, timeoutMs === undefined ? {} : { timeoutMs });
        if (result.ok) sendJson(res, 200, result);
        else throw new HttpError(result.status, result.error);
      };
    this.jobRoutes = new Map<string, Partial<Record<Method, Handler>>>([
      ['runs', { GET: (_req, res, _url, job) => this.runs(res, job!) }],
      ['logs', { GET: (req, res, url, job) => this.logs(req, res, url, job!) }],
      ['start', { POST: action('start') }],
      ['stop', { POST: action('stop') }],
      ['restart', { POST: action('restart') }],
      [
        'signal',
        { POST: async (req, res, _url, job) => sendJson(res, 200, signalJob(t, job!, signalOf(await readJson(req)))) },
      ],
      [
        'scale',
        {
          POST: async (req, res, _url, job) => {
            const result = await t.scale(job!, replicasOf(await readJson(req, 422)));
            if (result.ok) sendJson(res, 200, result);
            else throw new HttpError(result.status, result.error);
          },
        },
      ],
    ]);
  }

  /** Serves one request; never throws. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<string> {
    let path = '(invalid)';
    try {
      const url = new URL(req.url ?? '/', 'http://control');
      // The metric label is an endpoint, never the raw path: bad paths must not add series.
      path = '(unknown)';
      const { methods, job, known } = this.find(url.pathname);
      if (!methods) throw new HttpError(404, `no such endpoint: ${url.pathname}`);
      if (known) path = known;
      // `scale` names a job with replicas, which is no job of status: the supervisor answers for it.
      if (job !== undefined && !known?.endsWith('/scale') && !this.target.jobExists(job))
        throw noSuchJob(this.target, job);
      const handler = methods[req.method as Method];
      if (!handler) {
        const allow = Object.keys(methods).join(', ');
        throw new HttpError(
          405,
          `method ${req.method ?? '?'} not allowed on ${url.pathname} (use ${allow})`,
          {},
          { allow },
        );
      }
      await handler(req, res, url, job);
    } catch (err) {
      sendError(res, err instanceof HttpError ? err : new HttpError(500, `internal error: ${String(err)}`));
    }
    return path;
  }

  /** Ends every follow stream (the server is closing). */
  closeFollowers(): void {
    for (const res of this.followers) res.end();
    this.followers.clear();
  }

  private find(pathname: string): { methods?: Partial<Record<Method, Handler>>; job?: string; known?: string } {
    const fixed = this.routes.get(pathname);
    if (fixed) return { methods: fixed, known: pathname };
    const m = /^\/v3\/jobs\/([^/]+)\/([a-z]+)$/.exec(pathname);
    if (!m) return {};
    const methods = this.jobRoutes.get(m[2]!);
    if (!methods) return {};
    let job: string;
    try {
      job = decodeURIComponent(m[1]!);
    } catch {
      throw new HttpError(400, 'malformed job name in the path');
    }
    return { methods, job, known: `/v3/jobs/{name}/${m[2]!}` };
  }

  private maintenance(on: boolean): Handler {
    return async (req, res) => {
      await readBody(req);
      sendJson(res, 200, { updated: this.target.setMaintenance(on) });
    };
  }

  private history() {
    const history = this.target.history;
    if (!history)
      throw new HttpError(
        503,
        'this pidpilot records no history: its state dir is in use by another pidpilot or cannot be written (its log says which)',
      );
    return history;
  }

  private async events(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const history = this.history();
    const limit = limitParam(url);
    const key = (e: StoredEvent): string => `${e.boot}:${e.seq}`;
    await this.stream(req, res, url, {
      past: () => history.events({ limit }),
      follow: (fn) => history.followEvents(fn),
      key,
    });
  }

  private async runs(res: ServerResponse, job: string): Promise<void> {
    sendJson(res, 200, { job, runs: await this.history().runs(job) });
  }

  private async logs(req: IncomingMessage, res: ServerResponse, url: URL, job: string): Promise<void> {
    const history = this.history();
    const limit = limitParam(url);
    await this.stream<StoredLogLine>(req, res, url, {
      past: () => history.logs(job, { limit }),
      follow: (fn) => history.followLogs(job, fn),
      key: (l) => `${l.time}:${l.stream}:${l.line}`,
    });
  }

  /**
   * The records so far, then (with `?follow=1`) every new one until the client goes.
   * The follower is attached before the past is read, and what it caught meanwhile is
   * sent after the past minus what the past already had: no gap, no duplicate.
   * NDJSON, or server-sent events when the client asks for text/event-stream.
   */
  private async stream<T>(req: IncomingMessage, res: ServerResponse, url: URL, src: StreamSource<T>): Promise<void> {
    const follow = /^(1|true|yes)$/i.test(url.searchParams.get('follow') ?? url.searchParams.get('f') ?? '');
    const sse = /text\/event-stream/.test(req.headers.accept ?? '');
    if (!follow) {
      const past = await src.past();
      const text = past.map((item) => `${JSON.stringify(item)}\n`).join('');
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (this.followers.size >= MAX_FOLLOWERS) {
      throw new HttpError(
        503,
        `too many follow streams (${MAX_FOLLOWERS} are open): close one, or read without follow`,
      );
    }
    const caught: T[] = [];
    let live = false;
    const write = (item: T): void => {
      if (res.destroyed) return;
      const json = JSON.stringify(item);
      res.write(sse ? `data: ${json}\n\n` : `${json}\n`);
      if (res.writableLength > MAX_FOLLOW_BACKLOG_BYTES) res.destroy(); // a reader that stopped reading
    };
    const unfollow = src.follow((item) => (live ? write(item) : caught.push(item)));
    const cleanup = (): void => {
      unfollow();
      this.followers.delete(res);
    };
    res.on('close', cleanup);
    this.followers.add(res);
    // A follow stream lives as long as the client wants: no idle timeout on it.
    req.socket.setTimeout(0);
    try {
      const past = await src.past();
      if (res.destroyed) return cleanup(); // the client left while the past was read
      res.writeHead(200, {
        'content-type': sse ? 'text/event-stream' : 'application/x-ndjson',
        'cache-control': 'no-cache',
      });
      res.flushHeaders(); // the client knows the stream is open before the first record
      const seen = new Set(past.map(src.key));
      for (const item of past) write(item);
      for (const item of caught) if (!seen.has(src.key(item))) write(item);
      caught.length = 0;
      live = true;
    } catch (err) {
      cleanup();
      throw err;
    }
  }
}

/**
 * Past records answered when no `limit` is asked: the history is read synchronously inside
 * the supervisor, and a whole event log (up to 2 x maxEventLogBytes) would stall it.
 */
export const DEFAULT_HISTORY_LIMIT = 1000;

function limitParam(url: URL): number {
  const raw = url.searchParams.get('limit');
  if (raw === null) return DEFAULT_HISTORY_LIMIT;
  if (!/^[0-9]{1,9}$/.test(raw)) throw new HttpError(400, `limit must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

/** 404 for a name no job has; for a job with `replicas`, which names to use instead. */
function noSuchJob(target: ControlTarget, job: string): HttpError {
  const instances = target.instancesOf(job);
  if (instances.length === 0) return new HttpError(404, `no such job: ${job}`);
  const range = instances.length === 1 ? instances[0] : `${instances[0]} … ${instances.at(-1)}`;
  return new HttpError(
    404,
    `no such job: ${job} runs as ${instances.length} instances (${range}): name one of them, or scale ${job} with pidpilot scale ${job} N`,
  );
}
