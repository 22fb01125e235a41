// `netctl run|create|ps|start|stop|restart|rename|rm|container prune|exec|logs|inspect`: Docker's container commands for netctl's launcher,
// as a client of the daemon's API.
import path from 'node:path';
import { type ApiClient, DaemonError } from '../api/client';
import { type FlagSpec, type ParsedArgs, UsageError } from './args';
import { atLeastOne, bool, exactly, execute, filtersQuery, type Io, list, stdio, str, type Subcommand } from './command';
import { inspectJson, table } from './format';
import { parseRestartFlag, type RestartPolicy } from '../launcher/restart-policy';
import { startFailureExitCode } from '../launcher/start-failure';
import { eventTime } from './engine-command';
import { NOT_A_TTY, runSession, terminalSize } from './session';

interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  Status: string;
  Ports: Array<{ IP: string; PrivatePort: number; PublicPort: number; Type: string }>;
}

/** `-p [IP:][HOSTPORT:]PORT[/PROTOCOL]` flags into HostConfig.PortBindings; no host port picks a free one. */
export function portBindings(flags: string[]): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const flag of flags) {
    const match = /^(?:(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d*):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(flag);
    if (!match) throw new UsageError(`invalid publish "${flag}": use [IP:][HOSTPORT:]PORT[/tcp|udp|sctp], e.g. 8080:80 or 127.0.0.1:5353:53/udp`);
    (bindings[`${match[3]}/${match[4] ?? 'tcp'}`] ??= []).push({ HostIp: match[1] ?? '', HostPort: match[2] ?? '' });
  }
  return bindings;
}

/** Writes a multiplexed stream to stdout and stderr as it arrives. */
const demux =
  (io: Io) =>
  (stream: number, data: Buffer): void =>
    stream === 2 ? io.err(data.toString('utf8')) : io.out(data.toString('utf8'));

function ago(seconds: number): string {
  const elapsed = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  if (elapsed < 60) return `${elapsed} seconds ago`;
  if (elapsed < 3600) return `${Math.round(elapsed / 60)} minutes ago`;
  return `${Math.round(elapsed / 3600)} hours ago`;
}

const quoteCommand = (command: string): string => `"${command.length > 20 ? `${command.slice(0, 19)}…` : command}"`;

/** -i and -t, of `create`, `run` and `exec`. */
const TERMINAL_FLAGS: FlagSpec[] = [
  { name: 'interactive', short: 'i', type: 'boolean', description: 'keep STDIN open, and pass ours to the process' },
  { name: 'tty', short: 't', type: 'boolean', description: 'allocate a pseudo-TTY' },
];

/** The flags of `create`, and of `run` with -d and --rm. */
const CREATE_FLAGS: FlagSpec[] = [
  ...TERMINAL_FLAGS,
  { name: 'name', type: 'string', description: 'assign a name to the container' },
  { name: 'hostname', type: 'string', description: 'container host name' },
  { name: 'network', type: 'list', description: 'connect the container to a network (or host, none); repeat it for more (--ip, --ip6 and --network-alias apply to the first)', defaultText: 'bridge' },
  { name: 'ip', type: 'string', description: 'IPv4 address (e.g. 172.30.100.104)' },
  { name: 'ip6', type: 'string', description: 'IPv6 address (e.g. 2001:db8::33)' },
  { name: 'network-alias', type: 'list', description: 'add a network-scoped alias for the container' },
  { name: 'image', type: 'string', description: 'the image to run (see netctl images, netctl import)', defaultText: 'busybox' },
  { name: 'rootfs', type: 'string', description: 'directory holding the container root file system, instead of an image' },
  { name: 'env', short: 'e', type: 'list', description: 'set environment variables KEY=VALUE' },
  { name: 'workdir', short: 'w', type: 'string', description: 'working directory inside the container' },
  { name: 'publish', short: 'p', type: 'list', description: "publish a container's port to the host: [IP:][HOSTPORT:]PORT[/tcp|udp|sctp]" },
  { name: 'dns', type: 'list', description: 'set a custom DNS server (the embedded DNS forwards to it on user-defined networks)' },
  { name: 'dns-search', type: 'list', description: 'set custom DNS search domains' },
  { name: 'dns-option', type: 'list', description: 'set DNS options (resolv.conf)' },
  { name: 'cap-add', type: 'list', description: 'add Linux capabilities (e.g. NET_ADMIN, or ALL)' },
  { name: 'cap-drop', type: 'list', description: 'drop Linux capabilities (e.g. NET_RAW, or ALL)' },
  { name: 'privileged', type: 'boolean', description: 'give extended privileges: all capabilities, no seccomp, no masked paths, the host\'s devices' },
  { name: 'security-opt', type: 'list', description: 'security options (no-new-privileges[:true|false])' },
  { name: 'restart', type: 'string', description: 'restart policy when the container exits: no, on-failure[:max-retries], always, unless-stopped', defaultText: 'no' },
];

const SUBCOMMANDS: Record<string, Subcommand> = {
  run: {
    usage: 'netctl run [OPTIONS] [--] COMMAND [ARG...]',
    summary: 'Create and run a new container from an image (busybox unless --image) or a --rootfs',
    commandFollows: true,
    flags: [
      { name: 'detach', short: 'd', type: 'boolean', description: 'run in the background and print the container ID' },
      { name: 'rm', type: 'boolean', description: 'automatically remove the container when it exits' },
      ...CREATE_FLAGS,
    ],
    async run(args, client, io) {
      const remove = bool(args, 'rm');
      const detach = bool(args, 'detach');
      // Docker's CLI refuses the pair itself, in its words.
      if (remove && (restartPolicyOf(str(args, 'restart'))?.name ?? 'no') !== 'no') throw new UsageError('conflicting options: cannot specify both --restart and --rm');
      // Detached, the daemon removes a --rm container when it exits (AutoRemove). Attached, this
      // CLI does once it has the output and the code: the output is read from the log, which the
      // daemon's removal would take with it.
      const tty = bool(args, 'tty');
      const interactive = bool(args, 'interactive');
      const attached = (tty || interactive) && !bool(args, 'detach');
      if (attached && tty && interactive && !process.stdin.isTTY) {
        io.err(`${NOT_A_TTY}\n`);
        return 1;
      }
      const created = await createContainer('run', args, client, io, this.usage, remove && detach);
      if (typeof created === 'number') return created;
      const id = created.Id;
      // Attached before the start, as Docker's CLI: nothing the process writes or reads first is missed.
      const session = attached ? await client.hijack(`/containers/${id}/attach?stream=1&stdout=1&stderr=1${interactive ? '&stdin=1' : ''}`) : undefined;
      const removeAfter = async (): Promise<void> => {
        if (remove && !detach) await client.delete(`/containers/${id}?force=1`);
      };
      try {
        await client.post(`/containers/${id}/start`);
      } catch (error) {
        session?.socket.destroy();
        await removeAfter();
        if (!(error instanceof DaemonError)) throw error;
        // Docker's codes: 127 the command was not found, 126 it could not run, 125 the daemon
        // refused (a network or port it could not set up included).
        io.err(`Error response from daemon: ${error.message}\n`);
        const code = startFailureExitCode(error.message);
        return code === 128 ? 125 : code;
      }
      if (bool(args, 'detach')) {
        io.out(`${id}\n`);
        return 0;
      }
      if (session) {
        await runSession(session.socket, session.head, io, { tty, stdin: interactive, resize: (h, w) => client.post(`/containers/${id}/resize?h=${h}&w=${w}`) });
      } else {
        await client.stream('GET', `/containers/${id}/logs?stdout=1&stderr=1&follow=1`, undefined, demux(io));
      }
      const { StatusCode } = await client.post<{ StatusCode: number }>(`/containers/${id}/wait`);
      await removeAfter();
      return StatusCode;
    },
  },

  create: {
    usage: 'netctl create [OPTIONS] [--] COMMAND [ARG...]',
    summary: 'Create a new container (started with netctl start) from an image (busybox unless --image) or a --rootfs',
    commandFollows: true,
    flags: CREATE_FLAGS,
    async run(args, client, io) {
      const created = await createContainer('create', args, client, io, this.usage);
      if (typeof created === 'number') return created;
      io.out(`${created.Id}\n`);
      return 0;
    },
  },

  ps: {
    usage: 'netctl ps [OPTIONS]',
    summary: 'List containers',
    flags: [
      { name: 'all', short: 'a', type: 'boolean', description: 'show all containers (default shows just running)' },
      { name: 'quiet', short: 'q', type: 'boolean', description: 'only display container IDs' },
      { name: 'no-trunc', type: 'boolean', description: "don't truncate output" },
    ],
    async run(args, client, io) {
      const containers = await client.get<ContainerSummary[]>(`/containers/json${bool(args, 'all') ? '?all=1' : ''}`);
      const full = bool(args, 'no-trunc');
      const id = (c: ContainerSummary): string => (full ? c.Id : c.Id.slice(0, 12));
      if (bool(args, 'quiet')) {
        io.out(containers.map((c) => `${id(c)}\n`).join(''));
        return 0;
      }
      const ports = (c: ContainerSummary): string => c.Ports.map((p) => `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`).join(', ');
      const rows = containers.map((c) => [id(c), c.Image, full ? `"${c.Command}"` : quoteCommand(c.Command), ago(c.Created), c.Status, ports(c), c.Names.map((n) => n.slice(1)).join(',')]);
      io.out(table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows));
      return 0;
    },
  },

  stop: {
    usage: 'netctl stop [OPTIONS] CONTAINER [CONTAINER...]',
    summary: 'Stop one or more running containers (SIGTERM, then SIGKILL)',
    flags: [{ name: 'time', short: 't', type: 'string', description: 'seconds to wait before killing the container', defaultText: '10' }],
    async run(args, client, io) {
      const seconds = str(args, 'time') ?? '10';
      if (!/^\d+$/.test(seconds)) throw new UsageError(`invalid argument "${seconds}" for "-t, --time" flag: use a number of seconds`);
      return eachContainer(atLeastOne(args, this.usage), io, (ref) => client.post(`/containers/${encodeURIComponent(ref)}/stop?t=${seconds}`));
    },
  },

  start: {
    usage: 'netctl start CONTAINER [CONTAINER...]',
    summary: 'Start one or more stopped containers',
    flags: [],
    async run(args, client, io) {
      return eachContainer(atLeastOne(args, this.usage), io, (ref) => client.post(`/containers/${encodeURIComponent(ref)}/start`));
    },
  },

  restart: {
    usage: 'netctl restart [OPTIONS] CONTAINER [CONTAINER...]',
    summary: 'Restart one or more containers (stop if running, then start; addresses stay)',
    flags: [{ name: 'time', short: 't', type: 'string', description: 'seconds to wait before killing the container', defaultText: '10' }],
    async run(args, client, io) {
      const seconds = str(args, 'time') ?? '10';
      if (!/^\d+$/.test(seconds)) throw new UsageError(`invalid argument "${seconds}" for "-t, --time" flag: use a number of seconds`);
      return eachContainer(atLeastOne(args, this.usage), io, (ref) => client.post(`/containers/${encodeURIComponent(ref)}/restart?t=${seconds}`));
    },
  },

  rename: {
    usage: 'netctl rename CONTAINER NEW_NAME',
    summary: 'Rename a container (peers resolve it by the new name)',
    flags: [],
    async run(args, client) {
      const [container, name] = exactly(args, 2, this.usage);
      await client.post(`/containers/${encodeURIComponent(container!)}/rename?name=${encodeURIComponent(name!)}`);
      return 0;
    },
  },

  rm: {
    usage: 'netctl rm [OPTIONS] CONTAINER [CONTAINER...]',
    summary: 'Remove one or more containers',
    flags: [{ name: 'force', short: 'f', type: 'boolean', description: 'force the removal of a running container (uses SIGKILL)' }],
    async run(args, client, io) {
      return eachContainer(atLeastOne(args, this.usage), io, (ref) => client.delete(`/containers/${encodeURIComponent(ref)}${bool(args, 'force') ? '?force=1' : ''}`));
    },
  },

  prune: {
    usage: 'netctl container prune [OPTIONS]',
    summary: 'Remove all stopped containers',
    flags: [
      { name: 'force', short: 'f', type: 'boolean', description: 'do not prompt for confirmation' },
      { name: 'filter', type: 'list', description: 'filter, e.g. until=24h or label=KEY (repeatable)' },
    ],
    async run(args, client, io) {
      if (!bool(args, 'force')) {
        const answer = await io.ask('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
        if (!/^y(es)?$/i.test(answer.trim())) return 0;
      }
      const reply = await client.post<{ ContainersDeleted: string[] | null }>(`/containers/prune${filtersQuery(list(args, 'filter'))}`);
      const deleted = reply.ContainersDeleted ?? [];
      if (deleted.length > 0) io.out(`Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}`);
      return 0;
    },
  },

  exec: {
    usage: 'netctl exec [OPTIONS] CONTAINER [--] COMMAND [ARG...]',
    summary: "Run a command in a running container's namespaces",
    commandFollows: true,
    flags: TERMINAL_FLAGS,
    async run(args, client, io) {
      const [container, ...rest] = args.positionals;
      const cmd = rest[0] === '--' ? rest.slice(1) : rest;
      if (container === undefined || cmd.length === 0) throw new UsageError(`"netctl exec" requires at least 2 arguments.\nUsage:  ${this.usage}`);
      const tty = bool(args, 'tty');
      const interactive = bool(args, 'interactive');
      if (tty && interactive && !process.stdin.isTTY) {
        io.err(`${NOT_A_TTY}\n`);
        return 1;
      }
      const size = tty ? terminalSize() : undefined;
      const exec = await client.post<{ Id: string }>(`/containers/${encodeURIComponent(container)}/exec`, {
        Cmd: cmd,
        AttachStdin: interactive,
        AttachStdout: true,
        AttachStderr: true,
        Tty: tty,
        ...(size ? { ConsoleSize: [size.rows, size.columns] } : {}),
      });
      if (tty || interactive) {
        const session = await client.hijack(`/exec/${exec.Id}/start`, { Detach: false, Tty: tty });
        await runSession(session.socket, session.head, io, { tty, stdin: interactive, resize: (h, w) => client.post(`/exec/${exec.Id}/resize?h=${h}&w=${w}`) });
      } else {
        await client.stream('POST', `/exec/${exec.Id}/start`, { Detach: false, Tty: false }, demux(io));
      }
      return (await client.get<{ ExitCode: number }>(`/exec/${exec.Id}/json`)).ExitCode;
    },
  },

  logs: {
    usage: 'netctl logs [OPTIONS] CONTAINER',
    summary: 'Fetch the output of a container',
    flags: [
      { name: 'follow', short: 'f', type: 'boolean', description: 'follow log output' },
      { name: 'tail', short: 'n', type: 'string', description: 'number of lines to show from the end of the logs', defaultText: 'all' },
      { name: 'timestamps', short: 't', type: 'boolean', description: 'show timestamps' },
      { name: 'since', type: 'string', description: 'show logs since a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
      { name: 'until', type: 'string', description: 'show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)' },
    ],
    async run(args, client, io) {
      const [container] = exactly(args, 1, this.usage);
      const query = new URLSearchParams({ stdout: '1', stderr: '1' });
      if (bool(args, 'follow')) query.set('follow', '1');
      if (bool(args, 'timestamps')) query.set('timestamps', '1');
      query.set('tail', str(args, 'tail') ?? 'all');
      for (const flag of ['since', 'until'] as const) {
        const value = str(args, flag);
        if (value !== undefined) query.set(flag, eventTime(flag, value));
      }
      await client.stream('GET', `/containers/${encodeURIComponent(container!)}/logs?${query.toString()}`, undefined, demux(io));
      return 0;
    },
  },

  inspect: {
    usage: 'netctl inspect CONTAINER [CONTAINER...]',
    summary: 'Display detailed information on one or more containers',
    flags: [],
    async run(args, client, io) {
      const found: unknown[] = [];
      let code = 0;
      for (const ref of atLeastOne(args, this.usage)) {
        try {
          found.push(await client.get(`/containers/${encodeURIComponent(ref)}/json`));
        } catch (error) {
          io.err(`Error: ${(error as Error).message}\n`);
          code = 1;
        }
      }
      io.out(inspectJson(found));
      return code;
    },
  },
};

/** Runs `action` for each reference, printing it on success as Docker does; 1 if any failed. */
async function eachContainer(references: string[], io: Io, action: (reference: string) => Promise<unknown>): Promise<number> {
  let code = 0;
  for (const reference of references) {
    try {
      await action(reference);
      io.out(`${reference}\n`);
    } catch (error) {
      io.err(`Error response from daemon: ${(error as Error).message}\n`);
      code = 1;
    }
  }
  return code;
}

/** Top-level commands; prune is `netctl container prune`, as Docker's. */
export const CONTAINER_COMMANDS = Object.keys(SUBCOMMANDS).filter((name) => name !== 'prune');

export function runContainerCommand(name: string, argv: string[], io: Io = stdio): Promise<number> {
  return execute(SUBCOMMANDS[name]!, name, argv, io);
}

export function containerCommandsHelp(): string {
  return Object.entries(SUBCOMMANDS)
    .map(([name, c]) => `  ${`${name === 'prune' ? 'container prune' : name} `.padEnd(12)}${c.summary}`)
    .join('\n');
}

/** As Docker's CLI: `-e NAME` passes this shell's NAME (`NAME=value`), or NAME bare when the shell has none. */
export function environmentFromClient(entries: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  return entries.map((entry) => (entry.includes('=') || env[entry] === undefined ? entry : `${entry}=${env[entry]}`));
}

/** `--restart` as Docker's CLI reads it; a malformed one is a usage error. */
function restartPolicyOf(flag: string | undefined): RestartPolicy | undefined {
  if (flag === undefined) return undefined;
  try {
    return parseRestartFlag(flag);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Network modes that are not user-defined networks: none of them goes with another --network. */
const NON_USER_DEFINED_MODES = new Set(['default', 'bridge', 'host', 'none']);

/** The create request of `run` and `create`: the new container, or the exit code of a refusal. */
async function createContainer(command: 'run' | 'create', args: ParsedArgs, client: ApiClient, io: Io, usage: string, autoRemove = false): Promise<{ Id: string } | number> {
  const cmd = args.positionals;
  if (cmd.length === 0) throw new UsageError(`"netctl ${command}" requires a command.\nUsage:  ${usage}`);
  const networks = list(args, 'network');
  const [network, ...moreNetworks] = networks;
  // Docker's CLI checks: each network once, and a mode of its own is the only one.
  const repeated = networks.find((name, index) => networks.indexOf(name) !== index);
  if (repeated !== undefined) throw new UsageError(`network "${repeated}" is specified multiple times`);
  if (moreNetworks.length > 0 && networks.some((mode) => NON_USER_DEFINED_MODES.has(mode) || mode.startsWith('container:'))) {
    throw new UsageError('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  }
  const endpoint = { IPAMConfig: { IPv4Address: str(args, 'ip') ?? '', IPv6Address: str(args, 'ip6') ?? '' }, Aliases: list(args, 'network-alias') };
  const name = str(args, 'name');
  const rootfs = str(args, 'rootfs');
  if (rootfs !== undefined && str(args, 'image') !== undefined) throw new UsageError('--image and --rootfs exclude each other: a container runs in one root');
  const restartPolicy = restartPolicyOf(str(args, 'restart'));
  const tty = bool(args, 'tty');
  const interactive = bool(args, 'interactive');
  const size = tty ? terminalSize() : undefined;
  // Docker's run and create: 125 when the daemon refused.
  const refused = (error: unknown): number => {
    if (!(error instanceof DaemonError)) throw error;
    io.err(`Error response from daemon: ${error.message}\n`);
    return 125;
  };
  let created: { Id: string };
  try {
    created = await client.post<{ Id: string }>(`/containers/create${name ? `?name=${encodeURIComponent(name)}` : ''}`, {
      Cmd: cmd,
      Tty: tty,
      OpenStdin: interactive,
      // Docker's run -i: the end of our stdin is the end of the container's.
      StdinOnce: interactive && command === 'run' && !bool(args, 'detach'),
      AttachStdin: interactive,
      Env: environmentFromClient(list(args, 'env')),
      Hostname: str(args, 'hostname') ?? '',
      WorkingDir: str(args, 'workdir') ?? '',
      Image: str(args, 'image') ?? 'busybox',
      ...(rootfs ? { Rootfs: path.resolve(rootfs) } : {}),
      HostConfig: {
        NetworkMode: network ?? 'default',
        PortBindings: portBindings(list(args, 'publish')),
        Dns: list(args, 'dns'),
        DnsSearch: list(args, 'dns-search'),
        DnsOptions: list(args, 'dns-option'),
        CapAdd: list(args, 'cap-add'),
        CapDrop: list(args, 'cap-drop'),
        Privileged: bool(args, 'privileged'),
        SecurityOpt: list(args, 'security-opt'),
        AutoRemove: autoRemove,
        RestartPolicy: { Name: restartPolicy?.name ?? 'no', MaximumRetryCount: restartPolicy?.maximumRetryCount ?? 0 },
        ...(size ? { ConsoleSize: [size.rows, size.columns] } : {}),
      },
      NetworkingConfig: { EndpointsConfig: network && network !== 'host' && network !== 'none' ? { [network]: endpoint } : {} },
    });
  } catch (error) {
    return refused(error);
  }
  // The API takes one network at create (as dockerd's 1.41): the others are connected before the start.
  try {
    for (const more of moreNetworks) await client.post(`/networks/${encodeURIComponent(more)}/connect`, { Container: created.Id, EndpointConfig: {} });
    return created;
  } catch (error) {
    // Nothing half-done: a container that could not join all its networks is removed.
    const removal = await client.delete(`/containers/${created.Id}?force=1`).then(() => undefined, (failure: unknown) => failure as Error);
    if (removal) io.err(`could not remove container ${created.Id.slice(0, 12)} after its failed connect (${removal.message}): remove it with netctl rm -f\n`);
    return refused(error);
  }
}
