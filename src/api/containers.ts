// The Docker Engine API's container routes, as far as the launcher goes: create, start, stop,
// kill, wait, list, inspect, logs, attach, resize, exec, remove; and network connect/disconnect of
// containers. A container or exec with a TTY streams its output raw, without Docker's frames.
import { once } from 'node:events';
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import path from 'node:path';
import type { Controller, NetworkRecord } from '../controller';
import { NotFoundError } from '../controller/errors';
import { checkExecSettings, type ContainerRecord, type ControlChannel, isUp, type Launcher, parseSignal, type WaitCondition } from '../launcher';
import { type Attachment, commandList, containerInspectJson, containerListJson, parseConsoleSize, parseContainerCreate, refuseLinkLocalIps } from './container-json';
import { containerMatches, parseContainerFilters } from './container-filters';
import { parseLogOptions, streamLogLines } from './container-logs';
import { ApiError, badRequest } from './errors';
import { parseFilters, pruneFilter } from './filters';
import type { EventBus } from '../events/bus';
import { LogWake, type RunEnded } from './log-wake';
import { FrameReader, frame, STREAM_TYPE } from './stream';
import { parseResize, relayStdin } from './stdin';
import type { Router } from './router';
import { containerTop } from './top';
import { newId } from '../util/id';
import type { ImageStore } from '../images';

const PRUNE_FILTERS = ['until', 'label', 'label!'] as const;
const WAIT_CONDITIONS = new Set(['not-running', 'next-exit', 'removed']);

const truthy = (value: string | null): boolean => value === '1' || value === 'true';
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

// Docker's refusals of connects and disconnects that the container's network mode rules out.
const HOST_CONFLICT = 'container cannot be disconnected from host network or connected to host network';
const SHARED_CONFLICT = 'container sharing network namespace with another container or host cannot be connected to any other network';
const NONE_CONFLICT = 'container cannot be connected to multiple networks with one of the networks in private (none) mode';

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
  tty: boolean;
  attachStdin: boolean;
  consoleSize?: { rows: number; columns: number };
  /** Added to the container's environment; replaces its working directory. */
  env?: string[];
  workdir?: string;
  running: boolean;
  exitCode: number | null;
  /** Its pty and stdin, while it runs with either; resolved once it runs. */
  control?: ControlChannel;
  started: Promise<void>;
  markStarted: () => void;
}

/** An exec create's Env and WorkingDir; User and Privileged, which netctl does not implement, refused. */
function execSettings(body: unknown): { env?: string[]; workdir?: string } {
  if (!isObject(body)) return {};
  for (const [field, flag] of [['User', '-u'], ['Privileged', '--privileged']] as const) {
    const value = body[field];
    if (value !== undefined && value !== null && value !== '' && value !== false) throw badRequest(`${field} (docker exec ${flag}) is not supported by netctl: an exec runs as the container's process does; run it without ${flag}`);
  }
  const env = body['Env'] ?? undefined;
  if (env !== undefined && !(Array.isArray(env) && env.every((e) => typeof e === 'string'))) throw badRequest('Env must be a list of strings like ["KEY=VALUE"]');
  const workdir = body['WorkingDir'] ?? undefined;
  if (workdir !== undefined && typeof workdir !== 'string') throw badRequest('WorkingDir must be a string');
  const settings = { ...(env && env.length > 0 ? { env: env as string[] } : {}), ...(workdir ? { workdir } : {}) };
  checkExecSettings(settings);
  return settings;
}

/** How long an exec's resize waits for the exec to start (Docker's CLI resizes right after the start). */
const EXEC_READY_MS = 5000;

export function addContainerRoutes(router: Router, controller: Controller, launcher: Launcher, images: ImageStore, events: EventBus): void {
  // A follow of a container's output ends with its run: its die (or its removal) wakes the follower.
  const runEnded = (id: string): RunEnded => (listener) => events.subscribe((event) => {
    if (event.Type === 'container' && event.Actor.ID === id && (event.Action === 'die' || event.Action === 'destroy')) listener();
  });
  const execs = new Map<string, ExecInstance>();

  const attachmentsOf = (container: ContainerRecord): Attachment[] => {
    const endpoints = container.sandboxId ? controller.endpoints({ sandboxId: container.sandboxId }) : [];
    return container.config.networks.map((join) => {
      const network = findNetwork(controller, join.networkId ?? join.network);
      const endpoint = network && endpoints.find((e) => e.networkId === network.id);
      return { join, ...(network ? { network } : {}), ...(endpoint ? { endpoint } : {}) };
    });
  };

  router.add('POST', '/containers/create', async (request) => {
    const name = request.query.get('name') ?? undefined;
    const container = await launcher.create(parseContainerCreate(await request.json(), name, (image) => images.find(image).rootfs));
    return { status: 201, body: { Id: container.id, Warnings: [] } };
  });

  router.add('POST', '/containers/{id}/start', async (request) => {
    const container = launcher.find(request.params['id']!);
    if (isUp(container.state)) return { status: 304 };
    await launcher.start(container.id);
    return { status: 204 };
  });

  router.add('POST', '/containers/{id}/stop', async (request) => {
    const timeout = stopTimeout(request.query.get('t'));
    const container = launcher.find(request.params['id']!);
    if (!isUp(container.state)) return { status: 304 };
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
    const withStdin = follow && truthy(request.query.get('stdin')) && container.config.openStdin === true;
    const raw = container.config.tty === true;
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
    const run = async (socket: Socket): Promise<void> => {
      // The CLI attaches before it starts the container: stdin waits for the run this attach follows.
      const channel = (): ControlChannel | undefined | null => (more() ? launcher.control(container.id) : null);
      if (withStdin) void relayStdin(socket, channel, container.config.stdinOnce === true);
      await streamLog(socket, logFile, () => Promise.resolve(log), wanted, more, runEnded(container.id), from, raw);
    };
    return { status: 200, hijack: { contentType: STREAM_TYPE, run } };
  });

  router.add('POST', '/containers/{id}/resize', (request) => {
    const size = parseResize(request.query);
    launcher.resize(request.params['id']!, size);
    return { status: 200 };
  });

  router.add('DELETE', '/containers/{id}', async (request) => {
    await launcher.remove(request.params['id']!, truthy(request.query.get('force')));
    return { status: 204 };
  });

  router.add('GET', '/containers/json', (request) => {
    const all = truthy(request.query.get('all'));
    const filters = parseContainerFilters(request.query.get('filters'));
    const listed = launcher.list().filter((c) => all || filters.has('status') || isUp(c.state));
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
    return { status: 200, body: containerInspectJson(container, sandbox, attachmentsOf(container), launcher.stateDir(container.id), imageId) };
  });

  router.add('GET', '/containers/{id}/top', async (request) => {
    const container = launcher.find(request.params['id']!);
    const pid = container.state.status === 'running' ? container.state.pid : undefined;
    return { status: 200, body: await containerTop(container.id, pid, request.query.get('ps_args')) };
  });

  router.add('GET', '/containers/{id}/logs', (request) => {
    const container = launcher.find(request.params['id']!);
    const wanted = new Set<number>([...(truthy(request.query.get('stdout')) ? [1] : []), ...(truthy(request.query.get('stderr')) ? [2] : [])]);
    if (wanted.size === 0) throw badRequest('You must choose at least one stream: stdout=1 and/or stderr=1');
    const options = parseLogOptions(request.query);
    const logFile = path.join(launcher.stateDir(container.id), 'log');
    const open = (): Promise<fs.promises.FileHandle | undefined> => fs.promises.open(logFile, 'r').catch(() => undefined);
    // A --rm container is gone once it has exited: that ends a follow too.
    const running = (): boolean => {
      try {
        return launcher.find(container.id).state.status === 'running';
      } catch {
        return false;
      }
    };
    const more = truthy(request.query.get('follow')) ? running : () => false;
    const raw = container.config.tty === true;
    if (options && raw) throw badRequest('tail, since, until and timestamps are not supported for a container with a TTY (-t): its log is the terminal\'s raw stream, without lines or times; ask for the whole log');
    const ended = runEnded(container.id);
    return { status: 200, headers: { 'Content-Type': STREAM_TYPE }, stream: (out) => (options ? streamLogLines(out, logFile, wanted, more, options, ended) : streamLog(out, logFile, open, wanted, more, ended, 0, raw)) };
  });

  router.add('POST', '/containers/{id}/exec', async (request) => {
    const container = launcher.find(request.params['id']!);
    const body = await request.json();
    const cmd = isObject(body) ? commandList(body['Cmd'], 'Cmd') : undefined;
    if (!cmd || cmd.length === 0) throw badRequest('No exec command specified: Cmd must be a non-empty list of strings');
    if (cmd.some((arg) => arg.includes('\0'))) throw badRequest('Cmd holds a NUL character, which a process cannot be given');
    const flag = (field: string): boolean => {
      const value = isObject(body) ? (body[field] ?? false) : false;
      if (typeof value !== 'boolean') throw badRequest(`${field} must be true or false`);
      return value;
    };
    const tty = flag('Tty');
    const attachStdin = flag('AttachStdin');
    const settings = execSettings(body);
    const consoleSize = isObject(body) ? parseConsoleSize(body['ConsoleSize']) : undefined;
    if (container.state.restarting) throw new ApiError(409, `Container ${container.id} is restarting, wait until the container is running`);
    if (container.state.status !== 'running') throw new ApiError(409, `Container ${container.id} is not running`);
    let markStarted = (): void => {};
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    const exec: ExecInstance = { id: newId(), containerId: container.id, cmd, tty, attachStdin, ...settings, ...(consoleSize ? { consoleSize } : {}), running: false, exitCode: null, started, markStarted };
    execs.set(exec.id, exec);
    return { status: 201, body: { Id: exec.id } };
  });

  router.add('POST', '/exec/{id}/start', async (request) => {
    const exec = execs.get(request.params['id']!);
    if (!exec) throw new ApiError(404, `No such exec instance: ${request.params['id']}`);
    const body = await request.json();
    // The start's Tty decides the stream's form (dockerd frames a pty's output when it is false);
    // the pty is the create's.
    const raw = isObject(body) && typeof body['Tty'] === 'boolean' ? body['Tty'] : exec.tty;
    const startSize = isObject(body) ? parseConsoleSize(body['ConsoleSize']) : undefined;
    if (exec.running || exec.exitCode !== null) throw new ApiError(409, `exec ${exec.id} has already started`);
    exec.running = true;
    const run = async (out: Socket | undefined): Promise<void> => {
      const write = (stream: 1 | 2, chunk: Buffer): void => void (out?.writable && out.write(raw ? chunk : frame(stream, chunk)));
      const size = startSize ?? exec.consoleSize;
      const openStdin = exec.attachStdin && out !== undefined;
      // Without a pty or stdin there is no channel to wait for: a resize finds nothing to change.
      if (!exec.tty && !openStdin) exec.markStarted();
      // Heard from the start: the client sends stdin as soon as it has the stream.
      if (out && openStdin) void relayStdin(out, () => exec.control ?? (exec.running ? undefined : null), true);
      const onControl = (channel: ControlChannel): void => {
        exec.control = channel;
        exec.markStarted();
      };
      try {
        exec.exitCode = await launcher.exec(exec.containerId, exec.cmd, write, { tty: exec.tty, openStdin, ...(size ? { size } : {}), onControl, ...(exec.env ? { env: exec.env } : {}), ...(exec.workdir ? { workdir: exec.workdir } : {}) });
      } catch (error) {
        exec.exitCode = 126;
        write(2, Buffer.from(`${(error as Error).message}\n`));
      } finally {
        exec.running = false;
        delete exec.control;
        exec.markStarted();
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
    return { status: 200, body: { ID: exec.id, ContainerID: exec.containerId, Running: exec.running, ExitCode: exec.exitCode, OpenStdin: exec.attachStdin, ProcessConfig: { tty: exec.tty, entrypoint: exec.cmd[0], arguments: exec.cmd.slice(1) } } };
  });

  router.add('POST', '/exec/{id}/resize', async (request) => {
    const exec = execs.get(request.params['id']!);
    if (!exec) throw new ApiError(404, `No such exec instance: ${request.params['id']}`);
    const size = parseResize(request.query);
    if (exec.exitCode !== null) throw new ApiError(404, 'no such exec');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exec.started, new Promise((resolve) => (timer = setTimeout(resolve, EXEC_READY_MS)))]);
    clearTimeout(timer);
    if (exec.exitCode !== null) throw new ApiError(404, 'no such exec');
    if (!exec.running) throw new ApiError(500, 'timeout waiting for exec session ready');
    if (exec.tty) exec.control?.resize(size.rows, size.columns);
    return { status: 200 };
  });

  const attach = (verb: 'connect' | 'disconnect') => async (request: { params: Record<string, string>; json(): Promise<unknown> }) => {
    const body = await request.json();
    const reference = isObject(body) ? body['Container'] : undefined;
    if (typeof reference !== 'string' || reference === '') throw badRequest(`Container is required: name the container to ${verb}`);
    const container = launcher.find(reference);
    if (verb === 'disconnect') {
      const network = findNetwork(controller, request.params['id']!);
      if (network) refuseByMode(verb, network, container);
      await launcher.disconnect(container.id, request.params['id']!);
      return { status: 200 };
    }
    const network = controller.find(request.params['id']!);
    refuseByMode(verb, network, container);
    const config = isObject(body) && isObject(body['EndpointConfig']) ? body['EndpointConfig'] : {};
    if (Array.isArray(config['Links']) && config['Links'].length > 0) {
      throw badRequest('EndpointConfig.Links (--link) is not supported by netctl: peers on the network resolve the container by its name and aliases (--alias)');
    }
    const ipam = isObject(config['IPAMConfig']) ? config['IPAMConfig'] : {};
    refuseLinkLocalIps(ipam);
    const aliases = Array.isArray(config['Aliases']) ? config['Aliases'].filter((a): a is string => typeof a === 'string') : [];
    const ipv4 = typeof ipam['IPv4Address'] === 'string' && ipam['IPv4Address'] !== '' ? ipam['IPv4Address'] : undefined;
    const ipv6 = typeof ipam['IPv6Address'] === 'string' && ipam['IPv6Address'] !== '' ? ipam['IPv6Address'] : undefined;
    const ipamConfigGiven = isObject(config['IPAMConfig']) ? { ipamConfigGiven: true as const } : {};
    await launcher.connect(container.id, network.id, { aliases, ...(ipv4 ? { ipv4 } : {}), ...(ipv6 ? { ipv6 } : {}), ...ipamConfigGiven });
    return { status: 200 };
  };
  router.add('POST', '/networks/{id}/connect', attach('connect'));
  router.add('POST', '/networks/{id}/disconnect', attach('disconnect'));
}

/** The network, or none when it is gone (a stopped container may still be disconnected from it). */
function findNetwork(controller: Controller, reference: string): NetworkRecord | undefined {
  try {
    return controller.find(reference);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * What Docker refuses because of the container's network mode, running or not: a --network host
 * container shares the host's namespace and joins or leaves nothing; the host and none networks
 * are had only by running with them; a --network none container joins nothing else (netctl keeps
 * it on none for its life: Docker lets it leave none and join others).
 */
function refuseByMode(verb: 'connect' | 'disconnect', network: NetworkRecord, container: ContainerRecord): void {
  const mode = container.config.network;
  const onIt = network.driver === 'host' ? mode === 'host' : network.driver === 'null' && mode === 'none';
  if (verb === 'connect') {
    if (onIt) throw new ApiError(403, `endpoint with name ${container.config.name} already exists in network ${network.name}`);
    if (network.driver === 'host') throw badRequest(HOST_CONFLICT);
    if (mode === 'host') throw badRequest(SHARED_CONFLICT);
    if (network.driver === 'null' || mode === 'none') throw badRequest(NONE_CONFLICT);
  } else {
    if (onIt && network.driver === 'host') throw badRequest(HOST_CONFLICT);
    if (onIt) throw new ApiError(403, `container ${container.config.name} runs with --network none, which netctl keeps for the container's life: remove it and run it again with --network NETWORK to have it on another network`);
    if (mode === 'host') throw new ApiError(403, `container ${container.config.name} is not connected to network ${network.name}: it runs with --network host`);
  }
}

/**
 * Writes the log's frames of the wanted streams from byte `from` on; while `more()` holds, waits
 * for further output. A TTY container's log is one raw stream: passed on whole.
 */
async function streamLog(out: ServerResponse | Socket, logFile: string, open: () => Promise<fs.promises.FileHandle | undefined>, wanted: ReadonlySet<number>, more: () => boolean, runEnded: RunEnded, from = 0, raw = false): Promise<void> {
  let closed = false;
  let leave = (): void => {};
  const gone = new Promise<void>((resolve) => (leave = () => resolve(void (closed = true))));
  out.once('close', leave);
  // The server lets clients half-close (Docker's hijacked streams, where that is only the end of
  // stdin): a plain HTTP client that leaves shows first as the end of what it sends.
  const socket = out instanceof Socket ? undefined : out.socket;
  socket?.once('end', leave);
  let file: fs.promises.FileHandle | undefined;
  const wake = new LogWake(logFile, { stop: gone, runEnded });
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
        const chunk = Buffer.from(buffer.subarray(0, n));
        if (raw) {
          if (wanted.size > 0) out.write(chunk);
        } else {
          for (const f of frames.push(chunk)) if (wanted.has(f.stream)) out.write(f.raw);
        }
        // A client that reads slowly leaves the rest in the file, not in the daemon's memory.
        if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), gone]);
      }
      if (closed || !stillRunning) break;
      await wake.next();
    }
  } finally {
    wake.close();
    socket?.off('end', leave);
    await file?.close();
    out.end();
  }
}
