// The API's HTTP server on its unix socket: the socket is 0660 from the moment it can be reached,
// and a slow or hostile client cannot hold the daemon: bounds on the time to send headers and a
// request, on idle connections and on how many are open. None of them limits a reply that is
// long on purpose (logs --follow, exec output, wait on a running container): Node's request
// timeout ends when the request has arrived.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../util/logger';

export const API_LIMITS = {
  /** From the connection (or the previous reply) to the end of the request's headers. */
  headersTimeoutMs: 15_000,
  /** To the end of the request's body: a 1 MiB body at under 10 KiB/s. */
  requestTimeoutMs: 120_000,
  /** A keep-alive connection with no request. */
  idleTimeoutMs: 30_000,
  /** Connections open at once; one past it is closed at once (and logged). */
  maxConnections: 1024,
  /** How often Node looks for requests past their time. */
  checkIntervalMs: 1_000,
};

/**
 * How long, and how much of, the rest of a request that cannot be parsed is read and dropped
 * after the answer: enough for a client on a loaded machine to finish sending a large body.
 */
const CLIENT_ERROR_LINGER_MS = 10_000;
const CLIENT_ERROR_DRAIN_BYTES = 64 * 1024 * 1024;

/** Listens on a unix socket (0660), replacing a stale socket file but never a live one. */
export async function listenUnix(socketPath: string, listener: http.RequestListener, log: Logger): Promise<http.Server> {
  const dir = path.dirname(socketPath);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (fs.existsSync(socketPath) && (await answers(socketPath))) throw new Error(`${socketPath} is in use by a running server; stop it or choose another -H`);
  const server = http.createServer({ connectionsCheckingInterval: API_LIMITS.checkIntervalMs }, listener);
  server.headersTimeout = API_LIMITS.headersTimeoutMs;
  server.requestTimeout = API_LIMITS.requestTimeoutMs;
  server.keepAliveTimeout = API_LIMITS.idleTimeoutMs;
  server.maxConnections = API_LIMITS.maxConnections;
  // A client that half-closes still gets its reply (Node's own property: otherwise Node ends the
  // socket at once). Docker's CLI half-closes a hijacked attach or exec that sends no stdin.
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('drop', dropLogger(log));
  server.on('clientError', answerClientError);
  // Bound inside a directory only its owner may enter (mkdtemp: 0700), made 0660 there, then
  // renamed into place (a replaced stale socket included) in one step: no one can reach the socket
  // at a looser mode. A chmod after listen leaves a window, and the umask is the whole process's.
  const privateDir = fs.mkdtempSync(path.join(dir, '.netctl-'));
  try {
    const bound = path.join(privateDir, 's');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(bound, () => {
        server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(bound, 0o660);
    fs.renameSync(bound, socketPath);
  } catch (error) {
    server.close();
    throw error;
  } finally {
    fs.rmSync(privateDir, { recursive: true, force: true });
  }
  return server;
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Logs connections refused over the limit, at most every 10 s (a flood must not flood the log). */
function dropLogger(log: Logger): () => void {
  let dropped = 0;
  let lastLogged = 0;
  return () => {
    dropped++;
    if (Date.now() - lastLogged < 10_000) return;
    log.warn({ dropped, limit: API_LIMITS.maxConnections }, 'API connections over the limit closed at once');
    lastLogged = Date.now();
    dropped = 0;
  };
}

const CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: `the request did not arrive in time: headers within ${API_LIMITS.headersTimeoutMs / 1000} s, the whole request within ${API_LIMITS.requestTimeoutMs / 1000} s` },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'the request headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, message: 'the chunk extensions are too large' },
};

/**
 * Node's answers to a request it cannot parse or that came too slowly, as JSON messages. The
 * rest of the request is read and dropped for a moment before the connection closes: closing with
 * input unread resets it, and a client still sending would see the reset, not the answer.
 */
function answerClientError(error: Error & { code?: string; reason?: string }, socket: net.Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[error.code ?? ''];
  const { status, message } = known ?? { status: 400, message: `malformed HTTP request: ${error.reason ?? error.message} (${error.code ?? 'parse error'})` };
  const body = JSON.stringify({ message }) + '\n';
  socket.removeAllListeners('data');
  let drained = 0;
  socket.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > CLIENT_ERROR_DRAIN_BYTES) socket.destroy();
  });
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  const linger = setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS);
  socket.once('close', () => clearTimeout(linger));
}
