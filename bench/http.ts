// Requests to a daemon's Engine API over its unix socket, with a bound on time. One kept-alive
// connection per socket and a minimal HTTP/1.1 client: Node's http client costs ~0.3 ms a request
// on this kind of machine (a /_ping took 0.46 ms with it, 0.11 ms without), more than some of the
// operations the benchmarks time, while the clients engines use (Go's net/http) cost a few
// microseconds. Both daemons are measured through this client.
import net from 'node:net';

export interface Reply {
  status: number;
  text: string;
}

const TIMEOUT_MS = 30_000;

/** A reply parsed from the front of `data`, and how many bytes it took; undefined until it is all there. */
export function parseReply(data: Buffer): { reply: Reply; consumed: number } | undefined {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...headerLines] = data.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP reply: ${JSON.stringify(statusLine)}`);
  const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const bodyStart = headEnd + 4;
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) return chunked(data, bodyStart, status);
  const length = status === 204 || status === 304 ? 0 : Number(headers.get('content-length'));
  if (!Number.isInteger(length)) throw new Error(`HTTP ${status} reply without Content-Length or chunked encoding`);
  if (data.length < bodyStart + length) return undefined;
  return { reply: { status, text: data.subarray(bodyStart, bodyStart + length).toString('utf8') }, consumed: bodyStart + length };
}

function chunked(data: Buffer, start: number, status: number): { reply: Reply; consumed: number } | undefined {
  const parts: Buffer[] = [];
  for (let at = start; ; ) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isInteger(size) || size < 0) throw new Error('bad chunk size in HTTP reply');
    if (size === 0) {
      // No trailers are expected: the last chunk is followed by an empty line.
      if (data.length < lineEnd + 4) return undefined;
      return { reply: { status, text: Buffer.concat(parts).toString('utf8') }, consumed: lineEnd + 4 };
    }
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** One connection, one request at a time (the benchmarks make their calls one after another). */
class Connection {
  private readonly socket: net.Socket;
  private received: Buffer = Buffer.alloc(0);
  private waiting: { resolve(reply: Reply): void; reject(error: Error): void } | undefined;
  closed = false;

  constructor(socketPath: string) {
    this.socket = net.createConnection(socketPath);
    this.socket.unref();
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.close(error));
    this.socket.on('close', () => this.close(new Error('the daemon closed the connection')));
  }

  request(method: string, path: string, payload: string | undefined): Promise<Reply> {
    if (this.waiting) return Promise.reject(new Error('a request is already in flight on this connection'));
    const length = payload === undefined ? 0 : Buffer.byteLength(payload);
    const head = `${method} ${path} HTTP/1.1\r\nHost: bench\r\n${payload === undefined ? '' : 'Content-Type: application/json\r\n'}Content-Length: ${length}\r\n\r\n`;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.socket.destroy(new Error(`${method} ${path} timed out`)), TIMEOUT_MS);
      const settle = (): void => {
        clearTimeout(timer);
        this.waiting = undefined;
        this.socket.unref();
      };
      this.waiting = {
        resolve: (reply) => (settle(), resolve(reply)),
        reject: (error) => (settle(), reject(error)),
      };
      this.socket.ref();
      this.socket.write(head + (payload ?? ''));
    });
  }

  private receive(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    let parsed;
    try {
      parsed = parseReply(this.received);
    } catch (error) {
      this.socket.destroy(error as Error);
      return;
    }
    if (!parsed) return;
    this.received = this.received.subarray(parsed.consumed);
    if (!this.waiting) this.socket.destroy(new Error('a reply nobody asked for'));
    else this.waiting.resolve(parsed.reply);
  }

  private close(error: Error): void {
    this.closed = true;
    this.waiting?.reject(error);
  }
}

const connections = new Map<string, Connection>();

/** A request on the daemon's socket; a connection the daemon closed while idle is opened again. */
export function call(socketPath: string, method: string, path: string, body?: unknown): Promise<Reply> {
  let connection = connections.get(socketPath);
  if (!connection || connection.closed) connections.set(socketPath, (connection = new Connection(socketPath)));
  return connection.request(method, path, body === undefined ? undefined : JSON.stringify(body));
}

/** A call on the daemon's Engine API (v1.41) that must succeed (304, "nothing to do", counts); resolves with the body. */
export async function expectOk(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<string> {
  const reply = await call(socketPath, method, `/v1.41${urlPath}`, body);
  if (reply.status >= 300 && reply.status !== 304) throw new Error(`${method} ${urlPath}: ${reply.status} ${reply.text}`);
  return reply.text;
}

/** expectOk on a daemon's socket. */
export const ok = (daemon: { socketPath: string }, method: string, urlPath: string, body?: unknown): Promise<string> => expectOk(daemon.socketPath, method, urlPath, body);
