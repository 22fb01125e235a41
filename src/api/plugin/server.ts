// Docker's plugin protocol over HTTP: POST /<Subsystem>.<Method> with a JSON body, answered with
// JSON in Docker's plugin content type; failures as {"Err": message} (HTTP 500, or 400 for a
// request that is wrong), which both Docker's network and IPAM clients read; 404 for a method
// this plugin does not implement, which Docker takes as "not supported". `GET /debug/calls`
// answers the time spent answering each method so far (the plugin benchmark reads it).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError } from '../../drivers/driver';
import { InvalidAddressError } from '../../ip/address';
import { InvalidRequestError } from '../../ipam';
import type { Logger } from '../../util/logger';
import { PluginInputError } from './fields';

export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';
const MAX_BODY_BYTES = 1024 * 1024;

export type PluginCall = (body: unknown) => Promise<unknown>;

/** The subsystems a plugin implements, each a map of method name to call. */
export type Subsystems = Record<string, Record<string, PluginCall>>;

/** Per method (`Subsystem.Method`): calls answered and the ms spent from request to reply, failures included. */
export type CallTimes = Record<string, { count: number; totalMs: number }>;

const DEBUG_CALLS_PATH = '/debug/calls';

/** Node's request listener for the plugin socket; never throws, whatever the input. */
export function pluginListener(subsystems: Subsystems, log: Logger): (incoming: IncomingMessage, outgoing: ServerResponse) => void {
  const activate = { Implements: Object.keys(subsystems) };
  const times: CallTimes = {};
  return (incoming, outgoing) => {
    const start = process.hrtime.bigint();
    let method: string | undefined;
    answer(incoming, subsystems, activate, times, (known) => (method = known))
      .catch((error: unknown) => {
        const status = statusOf(error);
        if (status === 500) log.warn({ err: error, path: incoming.url }, 'Docker plugin call failed');
        return { status, body: { Err: error instanceof Error ? error.message : String(error) } };
      })
      .then(({ status, body }) => {
        const payload = JSON.stringify(body) + '\n';
        outgoing.writeHead(status, { 'Content-Type': PLUGIN_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(payload) });
        outgoing.end(payload);
        // Only implemented methods are counted: a path Docker never sends must not grow the table.
        if (method !== undefined) {
          const entry = (times[method] ??= { count: 0, totalMs: 0 });
          entry.count++;
          entry.totalMs += Number(process.hrtime.bigint() - start) / 1e6;
        }
      })
      .catch(() => outgoing.destroy());
  };
}

async function answer(incoming: IncomingMessage, subsystems: Subsystems, activate: unknown, times: CallTimes, counted: (method: string) => void): Promise<{ status: number; body: unknown }> {
  const path = (incoming.url ?? '/').split('?')[0]!;
  const [, subsystem = '', method = ''] = /^\/([A-Za-z]+)\.([A-Za-z]+)$/.exec(path) ?? [];
  const call = path === '/Plugin.Activate' ? async () => activate : Object.hasOwn(subsystems, subsystem) && Object.hasOwn(subsystems[subsystem]!, method) ? subsystems[subsystem]![method]! : undefined;
  const body = await readJson(incoming);
  if (path === DEBUG_CALLS_PATH && incoming.method === 'GET') return { status: 200, body: times };
  if (!call) return { status: 404, body: { Err: `${path} is not implemented by this plugin` } };
  if (incoming.method !== 'POST') return { status: 405, body: { Err: `${path} takes POST, not ${incoming.method ?? 'no method'}` } };
  counted(path.slice(1));
  return { status: 200, body: (await call(body)) ?? {} };
}

/** The JSON body, or undefined when empty (Docker sends none to calls without arguments). */
async function readJson(incoming: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Read on to the end: a reply while the client still sends would reach it as a reset.
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  }
  if (tooLarge) throw new PluginInputError(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PluginInputError(`invalid JSON in the request body: ${(error as Error).message}`);
  }
}

function statusOf(error: unknown): number {
  const badRequest = error instanceof PluginInputError || error instanceof InvalidOptionError || error instanceof InvalidRequestError || error instanceof InvalidAddressError;
  return badRequest ? 400 : 500;
}
