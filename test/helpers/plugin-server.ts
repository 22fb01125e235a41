// A Docker plugin for tests, written from the protocol alone: an HTTP server on a unix socket
// whose handlers the test gives per method ("NetworkDriver.Join"), recording every call. Methods
// without a handler answer 404, as go-plugins-helpers does for what a plugin leaves out.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

export interface PluginReply {
  status?: number;
  /** A value is sent as JSON; a string as it is (for malformed answers). */
  body?: unknown;
}

export type PluginHandler = (request: Record<string, unknown>) => PluginReply | unknown | Promise<PluginReply | unknown>;

export interface PluginCall {
  method: string;
  body: Record<string, unknown>;
  /** The raw request body ('' for calls without arguments). */
  raw: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestPlugin {
  socketPath: string;
  calls: PluginCall[];
  /** The methods called, in order, Plugin.Activate included. */
  methods(): string[];
  /** Stops answering and removes the socket (the plugin "disappears"). */
  stop(): Promise<void>;
}

/** Wraps an answer with a status. */
export const reply = (status: number, body: unknown): PluginReply & { reply: true } => ({ status, body, reply: true });

/** A temporary plugin directory (as /run/docker/plugins), removed at teardown. */
export function pluginDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nctl-plugins-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Serves `handlers` on `socketPath`; teardown stops it. Plugin.Activate answers with `implementsList`. */
export async function startTestPlugin(t: { teardown(fn: () => Promise<void> | void): void }, socketPath: string, implementsList: string[], handlers: Record<string, PluginHandler>): Promise<TestPlugin> {
  const calls: PluginCall[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const method = (request.url ?? '/').slice(1);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        body = raw.trim() === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
      } catch {
        // Recorded as it came; handlers see an empty body.
      }
      calls.push({ method, body, raw, headers: request.headers });
      const handler = method === 'Plugin.Activate' ? () => ({ Implements: implementsList }) : handlers[method];
      if (!handler) {
        response.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
        return;
      }
      Promise.resolve()
        .then(() => handler(body))
        .then(
          (answer) => {
            if (answer === HANG) return;
            const { status, body: payload } = isReply(answer) ? answer : { status: 200, body: answer };
            response.writeHead(status ?? 200, { 'Content-Type': 'application/vnd.docker.plugins.v1.1+json' });
            response.end(typeof payload === 'string' ? payload : `${JSON.stringify(payload ?? {})}\n`);
          },
          (error: Error) => response.writeHead(500, { 'Content-Type': 'application/vnd.docker.plugins.v1.1+json' }).end(`${JSON.stringify({ Err: error.message })}\n`),
        );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  fs.mkdirSync(path.dirname(socketPath), { recursive: true });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(socketPath, resolve));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
      fs.rmSync(socketPath, { force: true });
    }));
  t.teardown(stop);
  return { socketPath, calls, methods: () => calls.map((c) => c.method), stop };
}

/** A handler's answer that never comes (a hung plugin). */
export const HANG = Symbol('hang');

function isReply(value: unknown): value is PluginReply {
  return typeof value === 'object' && value !== null && (value as { reply?: unknown }).reply === true;
}
