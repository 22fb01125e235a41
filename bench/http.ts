// One request to a daemon's Engine API over its unix socket, with a bound on time.
import http from 'node:http';

export function call(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { socketPath, method, path, timeout: 30_000, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {} },
      (response) => {
        let text = '';
        response.on('data', (c: Buffer) => (text += c.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${method} ${path} timed out`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/** A call on the daemon's Engine API (v1.41) that must succeed (304, "nothing to do", counts); resolves with the body. */
export async function expectOk(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<string> {
  const reply = await call(socketPath, method, `/v1.41${urlPath}`, body);
  if (reply.status >= 300 && reply.status !== 304) throw new Error(`${method} ${urlPath}: ${reply.status} ${reply.text}`);
  return reply.text;
}

/** expectOk on a daemon's socket. */
export const ok = (daemon: { socketPath: string }, method: string, urlPath: string, body?: unknown): Promise<string> => expectOk(daemon.socketPath, method, urlPath, body);
