// HTTP/1.1 written by hand to a unix socket: any method, a request target sent as given (unescaped,
// overlong, traversing), so tests can send what Node's client refuses to. Connection: close, and
// the reply is read to the end.
import net from 'node:net';

export interface RawReply {
  status: number;
  /** The reply's body as sent (chunked framing left in). */
  body: string;
}

export function rawHttp(socketPath: string, method: string, target: string, options: { body?: string; headers?: string[]; timeoutMs?: number } = {}): Promise<RawReply> {
  const body = options.body === undefined ? '' : options.body;
  const head = [
    `${method} ${target} HTTP/1.1`,
    'Host: netctl',
    'Connection: close',
    ...(options.body === undefined ? [] : ['Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`]),
    ...(options.headers ?? []),
  ];
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const chunks: Buffer[] = [];
    const timeoutMs = options.timeoutMs ?? 20_000;
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no complete reply within ${timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text);
      if (!status) return reject(new Error(`the connection closed without a reply${text ? `: ${JSON.stringify(text.slice(0, 200))}` : ''}`));
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(status[1]), body: split === -1 ? '' : text.slice(split + 4) });
    });
    socket.on('connect', () => socket.write(`${head.join('\r\n')}\r\n\r\n${body}`));
  });
}
