/**
 * The HTTP plumbing of the control server: bounded body reading, JSON answers and
 * errors. Nothing a client sends may throw out of here: every failure becomes a 4xx.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies larger than this are refused (docs/control-api.md). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A client error: its HTTP status and the sentence for the JSON body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Reads the whole body as text, refusing more than MAX_BODY_BYTES (413). */
export function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    return Promise.reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('aborted', () => reject(new HttpError(400, 'request aborted')));
  });
}

/**
 * Parses a JSON body. An empty body is `undefined`. `badStatus` is the status for
 * text that is not JSON: ContainerPilot answered 422 on its own endpoints.
 */
export async function readJson(req: IncomingMessage, badStatus = 400): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(badStatus, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** An empty 200, ContainerPilot's answer to a successful POST (a lone newline). */
export function sendOk(res: ServerResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { 'content-length': 1 });
  res.end('\n');
}

export function sendError(res: ServerResponse, err: HttpError): void {
  // After a refused body the rest of it is unread: close rather than parse it as the next request.
  const close: Record<string, string> = err.status === 413 ? { connection: 'close' } : {};
  sendJson(res, err.status, { error: err.message, ...err.extra }, { ...close, ...err.headers });
  if (err.status === 413) res.once('finish', () => res.socket?.destroySoon()); // a lingering close (server.ts)
}
