// A small router for the Docker Engine API shape: paths with or without a /v1.NN prefix,
// {param} segments, JSON bodies with a size cap, and every failure answered as {"message": ...}.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ApiError, badRequest, statusOf } from './errors';
import { checkApiVersion } from './version';

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The client's requested API version from the /v1.NN prefix, if any. */
  apiVersion: string | undefined;
  /** Reads and parses the JSON body (undefined when empty); 400 on malformed JSON. */
  json(): Promise<unknown>;
  /** The body as it comes, without the JSON size cap (an image tarball); read it or json(), not both. */
  body: Readable;
}

export interface Reply {
  status: number;
  /** A JSON-serialisable body, or a string sent as text/plain, or undefined for no body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** A body written as it comes (logs, a wait's result): called after the head is sent; ends the response itself. */
  stream?: (out: ServerResponse) => Promise<void>;
  /**
   * The connection taken over, as Docker's attach and exec start do: 101 UPGRADED when the client
   * asked to upgrade, else a plain 200, then `run` writes the raw stream; the connection closes
   * when it resolves. The head carries `headers` and the Content-Type given here.
   */
  hijack?: { contentType: string; run: (socket: Socket) => Promise<void> };
}

export type Handler = (request: Request) => Promise<Reply> | Reply;

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  /** The index of its `{name*}` segment, or -1. */
  rest: number;
  handler: Handler;
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/;
const MAX_BODY_BYTES = 1024 * 1024;
/** How much of a too-large body is read and dropped before the 413 is answered anyway. */
const DRAIN_LIMIT_BYTES = 64 * MAX_BODY_BYTES;

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const segments = pattern.split('/').filter(Boolean);
    this.routes.push({ method, pattern, segments, rest: segments.findIndex((s) => s.endsWith('*}')), handler });
    return this;
  }

  /** Every route as added: method and pattern ("/networks/{id}"). */
  list(): Array<{ method: string; pattern: string }> {
    return this.routes.map(({ method, pattern }) => ({ method, pattern }));
  }

  /** Node's request listener; never throws, whatever the input. */
  readonly listener = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    this.dispatch(incoming)
      .catch((error: unknown) => errorReply(error))
      .then(async (reply) => {
        await drain(incoming);
        if (reply.hijack) await hijack(incoming, reply, reply.hijack);
        else await send(outgoing, reply, incoming.method === 'HEAD');
      })
      .catch(() => outgoing.destroy());
  };

  private async dispatch(incoming: IncomingMessage): Promise<Reply> {
    let url: URL;
    try {
      url = new URL(incoming.url ?? '/', 'http://netctl');
    } catch {
      throw badRequest(`invalid request target ${JSON.stringify(incoming.url)}: give a path such as /networks`);
    }
    let path = url.pathname;
    let apiVersion: string | undefined;
    const versioned = VERSION_PREFIX.exec(path);
    if (versioned) {
      apiVersion = versioned[1]!;
      path = versioned[2]!;
    }
    const method = incoming.method === 'HEAD' ? 'GET' : (incoming.method ?? 'GET');
    const segments = path.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const params = match(route, segments);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      // Checked on a route that exists: an unknown path is a 404 whatever the version, as dockerd's.
      if (apiVersion !== undefined) checkApiVersion(apiVersion);
      return route.handler({ method, path, params, query: url.searchParams, apiVersion, json: () => readJson(incoming), body: incoming });
    }
    if (pathMatched) throw new ApiError(405, `method ${method} is not allowed on ${path}`);
    throw new ApiError(404, `page not found: ${path}`);
  }
}

/** A `{name*}` segment takes one or more segments, joined by "/" (Docker's image names hold slashes). */
function match({ segments: pattern, rest }: Route, segments: string[]): Record<string, string> | undefined {
  if (rest === -1 ? pattern.length !== segments.length : segments.length < pattern.length) return undefined;
  const taken = segments.length - pattern.length + 1;
  const params: Record<string, string> = {};
  for (let i = 0, at = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const width = i === rest ? taken : 1;
    let got: string;
    try {
      got = width === 1 ? decodeURIComponent(segments[at]!) : segments.slice(at, at + width).map((s) => decodeURIComponent(s)).join('/');
    } catch {
      return undefined;
    }
    at += width;
    if (want.startsWith('{') && want.endsWith('}')) params[want.slice(1, want.endsWith('*}') ? -2 : -1)] = got;
    else if (want !== got) return undefined;
  }
  return params;
}

async function readJson(incoming: IncomingMessage): Promise<unknown> {
  const text = (await readBody(incoming)).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`invalid JSON in request body: ${(error as Error).message}`);
  }
}

/** The request body, by events (an async iterator over the request cost ~0.1 ms a request); 413 past the limit. */
function readBody(incoming: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      incoming.off('data', onData);
      reject(new ApiError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`));
    };
    incoming.on('data', onData);
    incoming.once('end', () => resolve(Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}

/**
 * Reads and drops what is left of the body (a handler that had no use for it, or one too large)
 * before the reply: a reply while the client is still sending makes the server close under it, and
 * the client sees EPIPE or a reset instead of the answer. A body past DRAIN_LIMIT_BYTES is not
 * waited for.
 */
function drain(incoming: IncomingMessage): Promise<void> {
  if (incoming.complete) return Promise.resolve();
  return new Promise((resolve) => {
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_LIMIT_BYTES) resolve();
    });
    incoming.once('end', resolve);
    incoming.once('close', resolve);
    incoming.resume();
  });
}

function errorReply(error: unknown): Reply {
  const message = error instanceof Error ? error.message : String(error);
  return { status: statusOf(error), body: { message } };
}

/**
 * Writes the head on the socket itself (Node's response would frame the body) and hands the
 * socket over. The server must let a client half-close (Docker's CLI closes its side of an
 * attach at once when it sends no stdin): see listenUnix.
 */
async function hijack(incoming: IncomingMessage, reply: Reply, taken: NonNullable<Reply['hijack']>): Promise<void> {
  const socket = incoming.socket;
  const upgrade = incoming.headers.upgrade !== undefined;
  const head = [upgrade ? 'HTTP/1.1 101 UPGRADED' : 'HTTP/1.1 200 OK', `Content-Type: ${taken.contentType}`, ...(upgrade ? ['Connection: Upgrade', 'Upgrade: tcp'] : [])];
  for (const [name, value] of Object.entries(reply.headers ?? {})) head.push(`${name}: ${value}`);
  socket.write(`${head.join('\r\n')}\r\n\r\n`);
  try {
    await taken.run(socket);
  } finally {
    socket.end();
  }
}

async function send(outgoing: ServerResponse, reply: Reply, headOnly: boolean): Promise<void> {
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.stream) {
    outgoing.writeHead(reply.status, headers);
    if (headOnly) return void outgoing.end();
    // The head before the body: a client may act on it (Docker's CLI starts a container once its wait is answered).
    outgoing.flushHeaders();
    await reply.stream(outgoing);
    return;
  }
  let payload: string | undefined;
  if (typeof reply.body === 'string') {
    payload = reply.body;
    headers['Content-Type'] ??= 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body) + '\n';
    headers['Content-Type'] = 'application/json';
  }
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  outgoing.writeHead(reply.status, headers);
  outgoing.end(headOnly ? undefined : payload);
}
