// A Docker plugin's HTTP client: POST /<Subsystem>.<Method> with a JSON body, over a unix socket
// or TCP. As Docker's, a call whose connection fails is tried again with backoff (1 s, 2 s, 4 s,
// ...) until 30 s would be over; an answer, even an error, is never retried. Each attempt has a
// time limit, so a hung plugin fails the call instead of holding it.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { describeAddress, type PluginAddress } from './discovery';

export const PLUGIN_ACCEPT = 'application/vnd.docker.plugins.v1.2+json';
const DUMMY_HOST = 'plugin.moby.localhost';

export interface PluginClientOptions {
  /** How long connection failures are retried, from the first attempt (Docker's 30 s). */
  retryWindowMs?: number;
  /** The longest wait for one attempt's answer. */
  callTimeoutMs?: number;
}

export const DEFAULT_RETRY_WINDOW_MS = 30_000;
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** A plugin call that failed; the message names the plugin and the method. */
export class PluginError extends Error {
  override readonly name = 'PluginError';
  constructor(
    message: string,
    readonly plugin: string,
    readonly method: string,
    /** The HTTP status the plugin answered with; absent when it did not answer. */
    readonly status?: number,
  ) {
    super(message);
  }

  /** Docker's "method not implemented": a 404 answer. */
  get notImplemented(): boolean {
    return this.status === 404;
  }
}

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTSOCK']);

/** Docker's backoff: 1 s doubled each retry, at most 30 s. */
export function backoffMs(retries: number): number {
  return Math.min(1000 * 2 ** Math.min(retries, 5), 30_000);
}

export class PluginClient {
  private readonly retryWindowMs: number;
  private readonly callTimeoutMs: number;
  private readonly agent: http.Agent;

  constructor(
    readonly plugin: string,
    readonly address: PluginAddress,
    options: PluginClientOptions = {},
  ) {
    this.retryWindowMs = options.retryWindowMs ?? DEFAULT_RETRY_WINDOW_MS;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.agent = address.kind === 'tcp' && address.tls ? new https.Agent(tlsOptions(address.tls)) : new http.Agent();
  }

  /**
   * Calls `method` ("NetworkDriver.Join") with `body` (none: an empty body, as Docker sends for
   * calls without arguments) and resolves with the decoded answer of a 200. A non-200 answer is
   * a PluginError with the plugin's Err text, or the body as it came.
   */
  async call(method: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? '' : `${JSON.stringify(body)}\n`;
    const start = Date.now();
    for (let retries = 0; ; retries++) {
      try {
        return await this.attempt(method, payload);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (error instanceof PluginError || !code || !CONNECTION_FAILURES.has(code)) throw this.wrap(method, error);
        const wait = backoffMs(retries);
        if (Date.now() - start + wait >= this.retryWindowMs) {
          throw new PluginError(`plugin "${this.plugin}" cannot be reached at ${describeAddress(this.address)} (${method}): ${(error as Error).message}; is the plugin running?`, this.plugin, method);
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private wrap(method: string, error: unknown): PluginError {
    if (error instanceof PluginError) return error;
    return new PluginError(`plugin "${this.plugin}" ${method}: ${(error as Error).message}`, this.plugin, method);
  }

  private attempt(method: string, payload: string): Promise<unknown> {
    const address = this.address;
    const headers = { Accept: PLUGIN_ACCEPT, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), Host: address.kind === 'unix' ? DUMMY_HOST : `${address.host}:${address.port}` };
    const target = address.kind === 'unix' ? { socketPath: address.socketPath } : { host: address.host, port: address.port };
    const send = address.kind === 'tcp' && address.tls ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const request = send({ ...target, method: 'POST', path: `/${method}`, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(this.decode(method, response.statusCode ?? 0, text));
          } catch (error) {
            reject(error);
          }
        });
      });
      // On the whole answer, not on silence: a plugin trickling bytes must not hold the call.
      const timer = setTimeout(() => {
        request.destroy(new PluginError(`plugin "${this.plugin}" did not answer ${method} within ${this.callTimeoutMs / 1000} s`, this.plugin, method));
      }, this.callTimeoutMs);
      request.on('close', () => clearTimeout(timer));
      request.on('error', reject);
      request.end(payload);
    });
  }

  private decode(method: string, status: number, text: string): unknown {
    if (status !== 200) {
      const reason = errText(text) ?? (text.trim() || `HTTP ${status}`);
      throw new PluginError(status === 404 ? `plugin "${this.plugin}" does not implement ${method} (404)` : `plugin "${this.plugin}" ${method} failed: ${reason}`, this.plugin, method, status);
    }
    // An empty 200 is an empty answer (Docker decodes nothing into the response).
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new PluginError(`plugin "${this.plugin}" answered ${method} with malformed JSON: ${JSON.stringify(text.slice(0, 200))}`, this.plugin, method, status);
    }
  }
}

function errText(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { Err?: unknown };
    return typeof body?.Err === 'string' && body.Err !== '' ? body.Err : undefined;
  } catch {
    return undefined;
  }
}

function tlsOptions(tls: { insecureSkipVerify: boolean; caFile?: string; certFile?: string; keyFile?: string }): https.AgentOptions {
  return {
    rejectUnauthorized: !tls.insecureSkipVerify,
    ...(tls.caFile ? { ca: fs.readFileSync(tls.caFile) } : {}),
    ...(tls.certFile ? { cert: fs.readFileSync(tls.certFile) } : {}),
    ...(tls.keyFile ? { key: fs.readFileSync(tls.keyFile) } : {}),
  };
}
