// The Docker Engine API's container routes, as far as the launcher goes: create, start, stop,
// kill, wait, list, inspect, logs, exec, remove; and network connect/disconnect of containers.
import { once } from 'node:events';
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Controller, NetworkRecord } from '../controller';
import { aliasesWithShortId, type ContainerRecord, type Launcher, parseSignal, type WaitCondition } from '../launcher';
import { type Attachment, commandList, containerInspectJson, containerListJson, parseContainerCreate } from './container-json';
import { containerMatches, parseContainerFilters } from './container-filters';
import { ApiError, badRequest } from './errors';
import { parseFilters, pruneFilter } from './filters';
import { FrameReader, frame, STREAM_TYPE } from './stream';
import type { Router } from './router';
import { newId } from '../util/id';
import type { ImageStore } from '../images';

const FOLLOW_POLL_MS = 100;
const PRUNE_FILTERS = ['until', 'label', 'label!'] as const;
const WAIT_CONDITIONS = new Set(['not-running', 'next-exit', 'removed']);

const truthy = (value: string | null): boolean => value === '1' || value === 'true';
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// Docker's refusals of connects and disconnects that the container's network mode rules out.
const HOST_CONFLICT = 'container cannot be disconnected from host network or connected to host network';
const SHARED_CONFLICT = 'container sharing network namespace with another container or host cannot be connected to any other network';
const NONE_CONFLICT = 'container cannot be connected to multiple networks with one of the networks in private (none) mode';

/** netctl's log keeps no times and counts no lines: a log option it cannot honour is refused, not dropped. */
function refuseUnsupportedLogOptions(query: URLSearchParams): void {
  const tail = query.get('tail');
  if (tail !== null && tail !== '' && tail !== 'all') throw badRequest(`tail=${JSON.stringify(tail)} (--tail) is not supported by netctl yet: read the whole log (tail=all)`);
  if (truthy(query.get('timestamps'))) throw badRequest('timestamps (-t) is not supported by netctl yet: netctl keeps no time per log line');
  for (const key of ['since', 'until']) {
    const value = query.get(key);
    if (value !== null && value !== '' && value !== '0') throw badRequest(`${key} (--${key}) is not supported by netctl yet: netctl keeps no time per log line; read the whole log`);
  }
}

/** Docker's `t` of a stop: whole seconds as Go's Atoi reads them; negative waits without a limit. */
function stopTimeout(text: string | null): number | undefined {
  if (text === null || text === '') return undefined;
  const seconds = Number(text);
  if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(seconds)) throw badRequest(`invalid value for t: "${text}": give the seconds to wait before the kill as a whole number (negative: no limit)`);
  return seconds;
}

interface ExecInstance {
  id: string;
  containerId: string;
  cmd: string[];
  running: boolean;
  exitCode: number | null;
}

export function addContainerRoutes(router: Router, controller: Controller, launcher: Launcher, images: ImageStore): void {
  const execs = new Map<string, ExecInstance>();

  const attachmentsOf = (container: ContainerRecord): Attachment[] =>
    // The gateway leg is the core's, not a network the container was connected to (Docker's inspect shows none).
    container.sandboxId ? controller.endpoints({ sandboxId: container.sandboxId }).filter((endpoint) => !controller.isGatewayLeg(endpoint)).map((endpoint) => ({ endpoint, network: controller.find(endpoint.networkId) })) : [];

  router.add('POST', '/containers/create', async (request) => {
    const name = request.query.get('name') ?? undefined;
    const container = await launcher.create(parseContainerCreate(await request.json(), name, (image) => images.find(image).rootfs));
    return { status: 201, body: { Id: container.id, Warnings: [] } };
  });

  router.add('POST', '/containers/{id}/start', async (request) => {
    const container = launcher.find(request.params['id']!);
    if (container.state.status === 'running') return { status: 304 };
    await launcher.start(container.id);
    return { status: 204 };
  });

  router.add('POST', '/containers/{id}/stop', async (request) => {
    const timeout = stopTimeout(request.query.get('t'));
    const container = launcher.find(request.params['id']!);
    if (container.state.status !== 'running') return { status: 304 };
    await launcher.stop(container.id, timeout);
    return { status: 204 };
  });

  router.add('POST', '/containers/{id}/restart', async (request) => {
    const timeout = stopTimeout(request.query.get('t'));
    await launcher.restart(request.params['id']!, timeout);
    return { status: 204 };
  });

  router.add('POST', '/containers/{id}/rename', async (request) => {
    await launcher.rename(request.params['id']!, request.query.get('name') ?? '');
    return { status: 204 };
  });

  router.add('POST', '/containers/prune', async (request) => {
    const matches = pruneFilter(parseFilters(request.query.get('filters'), PRUNE_FILTERS));
    const deleted = await launcher.prune((c) => matches(c.created, c.config.labels ?? {}));
    // The writable layers are directories of the state dir, not counted: netctl reports none reclaimed.
    return { status: 200, body: { ContainersDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: 0 } };
  });

  router.add('POST', '/containers/{id}/kill', async (request) => {
    const text = request.query.get('signal') || 'SIGKILL';
    const signal = parseSignal(text);
    if (signal === undefined) throw badRequest(`Invalid signal: ${text}`);
    await launcher.kill(request.params['id']!, signal);
    return { status: 204 };
  });

  router.add('POST', '/containers/{id}/wait', async (request) => {
    const condition = request.query.get('condition') || 'not-running';
    if (!WAIT_CONDITIONS.has(condition)) throw badRequest(`invalid condition: "${condition}": use not-running, next-exit or removed`);
    const exited = launcher.wait(request.params['id']!, condition as WaitCondition);
    // The head goes at once, as Docker sends it: the CLI waits for it before it starts the container.
    return {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      stream: async (out) => void out.end(JSON.stringify({ StatusCode: await exited, Error: null }) + '\n'),
    };
  });

  router.add('POST', '/containers/{id}/attach', async (request) => {
    const container = launcher.find(request.params['id']!);
    const wanted = new Set<number>([...(truthy(request.query.get('stdout')) ? [1] : []), ...(truthy(request.query.get('stderr')) ? [2] : [])]);
    const logFile = path.join(launcher.stateDir(container.id), 'log');
    const follow = truthy(request.query.get('stream'));
    const finishedBefore = container.state.finishedAt;
    // Until the run under way, or else the next one, has ended (or the container is removed).
    const more = (): boolean => {
      const now = launcher.list().find((c) => c.id === container.id);
      return follow && now !== undefined && (now.state.status === 'running' || now.state.finishedAt === finishedBefore);
    };
    // Opened (made if need be: the shim appends to it) before the start, so a --rm container
    // removed at once still has its output read.
    const log = await fs.promises.open(logFile, 'a+', 0o640);
    // Without logs=1 the stream begins with what the container writes from now on.
    const from = truthy(request.query.get('logs')) ? 0 : (await log.stat()).size;
    return { status: 200, hijack: { contentType: STREAM_TYPE, run: (socket) => streamLog(socket, () => Promise.resolve(log), wanted, more, from) } };
  });

  router.add('DELETE', '/containers/{id}', async (request) => {
    await launcher.remove(request.params['id']!, truthy(request.query.get('force')));
    return { status: 204 };
  });

  router.add('GET', '/containers/json', (request) => {
    const all = truthy(request.query.get('all'));
    const filters = parseContainerFilters(request.query.get('filters'));
    const listed = launcher.list().filter((c) => all || filters.has('status') || c.state.status === 'running');
    const body = listed.flatMap((c) => {
      const attachments = attachmentsOf(c);
      return containerMatches(c, attachments, filters, c.config.labels) ? [containerListJson(c, attachments)] : [];
    });
    return { status: 200, body };
  });

  router.add('GET', '/containers/{id}/json', (request) => {
    const container = launcher.find(request.params['id']!);
    const sandbox = container.sandboxId ? controller.sandbox(container.sandboxId) : undefined;
    const imageId = images.list().find((image) => image.rootfs === container.config.rootfs)?.id;
    return { status: 200, body: containerInspectJson(container, sandbox, attachmentsOf(container), imageId) };
  });

  router.add('GET', '/containers/{id}/logs', (request) => {
    const container = launcher.find(request.params['id']!);
    const wanted = new Set<number>([...(truthy(request.query.get('stdout')) ? [1] : []), ...(truthy(request.query.get('stderr')) ? [2] : [])]);
    if (wanted.size === 0) throw badRequest('You must choose at least one stream: stdout=1 and/or stderr=1');
    refuseUnsupportedLogOptions(request.query);
    const logFile = path.join(launcher.stateDir(container.id), 'log');
    const open = (): Promise<fs.promises.FileHandle | undefined> => fs.promises.open(logFile, 'r').catch(() => undefined);
    return { status: 200, headers: { 'Content-Type': STREAM_TYPE }, stream: (out) => streamLog(out, open, wanted, truthy(request.query.get('follow')) ? () => launcher.find(container.id).state.status === 'running' : () => false) };
  });

  router.add('POST', '/containers/{id}/exec', async (request) => {
    const container = launcher.find(request.params['id']!);
    const body = await request.json();
    const cmd = isObject(body) ? commandList(body['Cmd'], 'Cmd') : undefined;
    if (!cmd || cmd.length === 0) throw badRequest('No exec command specified: Cmd must be a non-empty list of strings');
    if (cmd.some((arg) => arg.includes('\0'))) throw badRequest('Cmd holds a NUL character, which a process cannot be given');
    if (isObject(body) && body['Tty'] === true) throw badRequest('Tty is not supported: netctl gives exec sessions no terminal yet; run without -t');
    if (isObject(body) && body['AttachStdin'] === true) throw badRequest('AttachStdin is not supported: netctl does not pass stdin to exec sessions yet; run without -i');
    if (container.state.status !== 'running') throw new ApiError(409, `Container ${container.id} is not running`);
    const exec: ExecInstance = { id: newId(), containerId: container.id, cmd, running: false, exitCode: null };
    execs.set(exec.id, exec);
    return { status: 201, body: { Id: exec.id } };
  });

  router.add('POST', '/exec/{id}/start', async (request) => {
    const exec = execs.get(request.params['id']!);
    if (!exec) throw new ApiError(404, `No such exec instance: ${request.params['id']}`);
    const body = await request.json();
    if (isObject(body) && body['Tty'] === true) throw badRequest('Tty is not supported: netctl gives exec sessions no terminal yet; run without -t');
    if (exec.running || exec.exitCode !== null) throw new ApiError(409, `exec ${exec.id} has already started`);
    exec.running = true;
    const run = async (out: Writable | undefined): Promise<void> => {
      const write = (stream: 1 | 2, chunk: Buffer): void => void (out?.writable && out.write(frame(stream, chunk)));
      try {
        exec.exitCode = await launcher.exec(exec.containerId, exec.cmd, write);
      } catch (error) {
        exec.exitCode = 126;
        write(2, Buffer.from(`${(error as Error).message}\n`));
      } finally {
        exec.running = false;
      }
    };
    if (isObject(body) && body['Detach'] === true) {
      void run(undefined);
      return { status: 200 };
    }
    return { status: 200, hijack: { contentType: STREAM_TYPE, run } };
  });

  router.add('GET', '/exec/{id}/json', (request) => {
    const exec = execs.get(request.params['id']!);
    if (!exec) throw new ApiError(404, `No such exec instance: ${request.params['id']}`);
    return { status: 200, body: { ID: exec.id, ContainerID: exec.containerId, Running: exec.running, ExitCode: exec.exitCode } };
  });

  const attach = (verb: 'connect' | 'disconnect') => async (request: { params: Record<string, string>; json(): Promise<unknown> }) => {
    const network = controller.find(request.params['id']!);
    const body = await request.json();
    const reference = isObject(body) ? body['Container'] : undefined;
    if (typeof reference !== 'string' || reference === '') throw badRequest(`Container is required: name the container to ${verb}`);
    const container = launcher.find(reference);
    const sandboxId = refuseByMode(verb, network, container);
    const refreshHosts = (): void => {
      const addresses = controller.addresses(sandboxId);
      launcher.updateHosts(container.id, addresses);
    };
    if (verb === 'disconnect') {
      await controller.disconnect(network.id, sandboxId);
      refreshHosts();
      return { status: 200 };
    }
    const config = isObject(body) && isObject(body['EndpointConfig']) ? body['EndpointConfig'] : {};
    const ipam = isObject(config['IPAMConfig']) ? config['IPAMConfig'] : {};
    const aliases = Array.isArray(config['Aliases']) ? config['Aliases'].filter((a): a is string => typeof a === 'string') : [];
    const ipv4 = typeof ipam['IPv4Address'] === 'string' && ipam['IPv4Address'] !== '' ? ipam['IPv4Address'] : undefined;
    const ipv6 = typeof ipam['IPv6Address'] === 'string' && ipam['IPv6Address'] !== '' ? ipam['IPv6Address'] : undefined;
    await controller.connect(network.id, sandboxId, { name: container.config.name, aliases: controller.servesNames(network.id) ? aliasesWithShortId(container.id, aliases) : aliases, ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}) });
    refreshHosts();
    return { status: 200 };
  };
  router.add('POST', '/networks/{id}/connect', attach('connect'));
  router.add('POST', '/networks/{id}/disconnect', attach('disconnect'));
}

/**
 * What Docker refuses because of the container's network mode: a --network host container shares
 * the host's namespace and joins or leaves nothing; the host and none networks are had only by
 * running with them; a --network none container joins nothing else (netctl keeps it on none for
 * its life: Docker lets it leave none and join others). Returns the container's sandbox.
 */
function refuseByMode(verb: 'connect' | 'disconnect', network: NetworkRecord, container: ContainerRecord): string {
  const mode = container.config.network;
  const onIt = network.driver === 'host' ? !container.sandboxId : network.driver === 'null' && mode === 'none';
  if (verb === 'connect') {
    if (onIt) throw new ApiError(403, `endpoint with name ${container.config.name} already exists in network ${network.name}`);
    if (network.driver === 'host') throw badRequest(HOST_CONFLICT);
    if (!container.sandboxId) throw badRequest(SHARED_CONFLICT);
    if (network.driver === 'null' || mode === 'none') throw badRequest(NONE_CONFLICT);
  } else {
    if (onIt && network.driver === 'host') throw badRequest(HOST_CONFLICT);
    if (onIt) throw new ApiError(403, `container ${container.config.name} runs with --network none, which netctl keeps for the container's life: remove it and run it again with --network NETWORK to have it on another network`);
    if (!container.sandboxId) throw new ApiError(403, `container ${container.config.name} is not connected to network ${network.name}: it runs with --network host`);
  }
  return container.sandboxId!;
}

/** Writes the log's frames of the wanted streams from byte `from` on; while `more()` holds, waits for further output. */
async function streamLog(out: ServerResponse | Socket, open: () => Promise<fs.promises.FileHandle | undefined>, wanted: ReadonlySet<number>, more: () => boolean, from = 0): Promise<void> {
  let closed = false;
  let leave = (): void => {};
  const gone = new Promise<void>((resolve) => (leave = () => resolve(void (closed = true))));
  out.once('close', leave);
  // The server lets clients half-close (Docker's hijacked streams, where that is only the end of
  // stdin): a plain HTTP client that leaves shows first as the end of what it sends.
  const socket = out instanceof Socket ? undefined : out.socket;
  socket?.once('end', leave);
  let file: fs.promises.FileHandle | undefined;
  let position = from;
  const frames = new FrameReader();
  const buffer = Buffer.alloc(64 * 1024);
  const readMore = async (): Promise<number> => {
    const n = file ? (await file.read(buffer, 0, buffer.length, position)).bytesRead : 0;
    position += n;
    return n;
  };
  try {
    for (;;) {
      const stillRunning = more();
      file ??= await open();
      // Read to the end of what is there now.
      for (let n = await readMore(); n > 0 && !closed; n = await readMore()) {
        for (const f of frames.push(Buffer.from(buffer.subarray(0, n)))) if (wanted.has(f.stream)) out.write(f.raw);
        // A client that reads slowly leaves the rest in the file, not in the daemon's memory.
        if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), gone]);
      }
      if (closed || !stillRunning) break;
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS));
    }
  } finally {
    socket?.off('end', leave);
    await file?.close();
    out.end();
  }
}
