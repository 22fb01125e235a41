// A small client of the daemon's API (Docker Engine API shape) over its unix socket, for the CLI
// and for engines that drive a running daemon.
import http from 'node:http';
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { unixSocketPath } from '../daemon/options';
import { FrameReader } from './stream';

/** The daemon answered with an error status; `message` is the daemon's own text. */
export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The daemon could not be reached at all. */
export class DaemonUnreachableError extends Error {
  override readonly name = 'DaemonUnreachableError';
}

export class ApiClient {
  private readonly socketPath: string;

  constructor(host: string) {
    this.socketPath = unixSocketPath(host);
  }

  async get<T>(path: string): Promise<T> {
    return (await this.call('GET', path)) as T;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.call('POST', path, body ?? {})) as T;
  }

  async delete(path: string): Promise<void> {
    await this.call('DELETE', path);
  }

  /**
   * A request whose reply is Docker's multiplexed stream (logs, exec output): each frame's data
   * goes to `onFrame` with its stream (1 stdout, 2 stderr) as it arrives.
   */
  stream(method: string, path: string, body: unknown, onFrame: (stream: number, data: Buffer) => void): Promise<void> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request({ socketPath: this.socketPath, method, path: `/v1.41${path}`, headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } }, (response) => {
        const frames = new FrameReader();
        const chunks: Buffer[] = [];
        const failed = (response.statusCode ?? 0) >= 400;
        response.on('data', (chunk: Buffer) => {
          if (failed) return void chunks.push(chunk);
          for (const f of frames.push(chunk)) onFrame(f.stream, f.data);
        });
        response.on('error', reject);
        response.on('end', () => {
          if (!failed) return resolve();
          const text = Buffer.concat(chunks).toString('utf8');
          let message = text.trim();
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // Not JSON: the text is the message.
          }
          reject(new DaemonError(response.statusCode ?? 0, message));
        });
      });
      request.on('error', (error: NodeJS.ErrnoException) => reject(this.unreachable(error) ?? error));
      request.end(payload);
    });
  }

  /**
   * A request that takes over the connection as Docker's CLI does (Upgrade: tcp, answered 101):
   * the socket, now a two-way stream (the process's stdin one way, its output the other), and
   * what came after the head.
   */
  hijack(path: string, body?: unknown): Promise<{ socket: net.Socket; head: Buffer }> {
    const payload = JSON.stringify(body ?? {});
    return new Promise((resolve, reject) => {
      const request = http.request({
        socketPath: this.socketPath,
        method: 'POST',
        path: `/v1.41${path}`,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
      });
      request.on('upgrade', (_response, socket: net.Socket, head: Buffer) => resolve({ socket, head }));
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let message = text.trim() || `HTTP ${response.statusCode}`;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // Not JSON: the text is the message.
          }
          reject(new DaemonError(response.statusCode ?? 0, message));
        });
      });
      request.on('error', (error: NodeJS.ErrnoException) => reject(this.unreachable(error) ?? error));
      request.end(payload);
    });
  }

  /**
   * A request whose body streams from `upload` (a tarball) and whose reply is JSON values one a
   * line (events, import progress): each goes to `onValue` as it arrives, with its line (numbers
   * past 2^53, such as an event's timeNano, are exact only there).
   */
  jsonLines(method: string, path: string, upload: Readable | undefined, onValue: (value: unknown, line: string) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = http.request({ socketPath: this.socketPath, method, path: `/v1.41${path}`, headers: upload ? { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } : {} }, (response) => {
        const failed = (response.statusCode ?? 0) >= 400;
        let pending = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          pending += chunk;
          if (failed) return;
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) if (line.trim() !== '') onValue(JSON.parse(line), line);
        });
        response.on('error', reject);
        response.on('end', () => {
          if (!failed) return resolve();
          let message = pending.trim();
          try {
            message = (JSON.parse(pending) as { message?: string }).message ?? message;
          } catch {
            // Not JSON: the text is the message.
          }
          reject(new DaemonError(response.statusCode ?? 0, message));
        });
      });
      request.on('error', (error: NodeJS.ErrnoException) => reject(this.unreachable(error) ?? error));
      if (!upload) return void request.end();
      upload.once('error', (error) => request.destroy(error));
      upload.pipe(request);
    });
  }

  private call(method: string, path: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          socketPath: this.socketPath,
          method,
          path: `/v1.41${path}`,
          headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : JSON.parse(text);
            } catch {
              parsed = text;
            }
            const status = response.statusCode ?? 0;
            if (status >= 400) {
              const message = parsed !== null && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string' ? (parsed as { message: string }).message : text.trim() || `HTTP ${status}`;
              reject(new DaemonError(status, message));
            } else resolve(parsed);
          });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => reject(this.unreachable(error) ?? error));
      request.end(payload);
    });
  }

  private unreachable(error: NodeJS.ErrnoException): DaemonUnreachableError | undefined {
    if (error.code !== 'ENOENT' && error.code !== 'ECONNREFUSED' && error.code !== 'EACCES') return undefined;
    return new DaemonUnreachableError(
      `cannot connect to the netctl daemon at unix://${this.socketPath} (${error.code}): ${error.code === 'EACCES' ? 'run as root' : 'is `netctl daemon` running? Start it, or point -H / NETCTL_HOST at its socket'}`,
    );
  }
}
