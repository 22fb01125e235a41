// Containers in the Docker Engine API's JSON shape: the create request read field by field, and
// the container as inspect and list show it.
import net from 'node:net';
import path from 'node:path';
import type { EndpointRecord, NetworkRecord, SandboxRecord } from '../controller';
import type { PortMapping } from '../drivers/driver';
import { type ContainerRecord, type CreateRequest, dockerStatus, isUp, type NetworkJoin, type RestartPolicy, type RestartPolicyName } from '../launcher';
import { badRequest } from './errors';
import { stringMap } from './network-json';

/** A network the container is configured on: the network (none when it is gone), and its endpoint while the container runs. */
export interface Attachment {
  join: NetworkJoin;
  network?: NetworkRecord;
  endpoint?: EndpointRecord;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const prefixLength = (cidr: string | undefined): number => (cidr ? Number(cidr.split('/')[1]) : 0);
const address = (cidr: string | undefined): string => (cidr ? cidr.split('/')[0]! : '');

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw badRequest(`${field} must be a list of strings`);
  return value as string[];
}

/** Docker's StrSlice (Cmd, CapAdd, CapDrop): a list of strings, or one string standing for a list of one. */
export function commandList(value: unknown, field: string): string[] | undefined {
  return typeof value === 'string' ? [value] : stringList(value, field);
}

function optionalBoolean(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw badRequest(`${field} must be true or false`);
  return value;
}

/** HostConfig.ConsoleSize: [rows, columns], Docker's [0, 0] or null for none. */
export function parseConsoleSize(value: unknown): { rows: number; columns: number } | undefined {
  if (value === undefined || value === null) return undefined;
  const valid = Array.isArray(value) && value.length === 2 && value.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff);
  if (!valid) throw badRequest('ConsoleSize must be [rows, columns], each a whole number from 0 to 65535');
  const [rows, columns] = value as [number, number];
  return rows > 0 && columns > 0 ? { rows, columns } : undefined;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string`);
  return value;
}

/**
 * Docker options netctl does not implement, with the flag that sets them (and the value Docker's
 * CLI sends for unset, when not an empty one): refused when set, never dropped.
 */
type Unsupported = readonly [field: string, flag: string, unset?: number];
const UNSUPPORTED_CONFIG: readonly Unsupported[] = [
  ['Volumes', '-v'], ['Entrypoint', '--entrypoint'], ['User', '-u'], ['Healthcheck', '--health-cmd'], ['StopSignal', '--stop-signal'],
  ['Domainname', '--domainname'],
];
const UNSUPPORTED_HOST_CONFIG: readonly Unsupported[] = [
  ['Binds', '-v'], ['Mounts', '--mount'], ['VolumesFrom', '--volumes-from'], ['Tmpfs', '--tmpfs'], ['ReadonlyRootfs', '--read-only'],
  ['Memory', '-m'], ['MemorySwap', '--memory-swap'], ['NanoCpus', '--cpus'], ['CpuShares', '-c'], ['CpusetCpus', '--cpuset-cpus'], ['PidsLimit', '--pids-limit'],
  ['Devices', '--device'], ['Ulimits', '--ulimit'], ['Sysctls', '--sysctl'], ['ExtraHosts', '--add-host'], ['Links', '--link'],
  ['PidMode', '--pid'], ['IpcMode', '--ipc'], ['UTSMode', '--uts'], ['UsernsMode', '--userns'], ['GroupAdd', '--group-add'],
  ['Init', '--init'], ['ShmSize', '--shm-size'], ['PublishAllPorts', '-P'],
  // Resource and cgroup settings: netctl has no cgroups of its own, so none of them would apply.
  ['MemoryReservation', '--memory-reservation'], ['KernelMemory', '--kernel-memory'], ['KernelMemoryTCP', '--kernel-memory-tcp'],
  ['MemorySwappiness', '--memory-swappiness', -1], ['OomKillDisable', '--oom-kill-disable'], ['OomScoreAdj', '--oom-score-adj'],
  ['CpuPeriod', '--cpu-period'], ['CpuQuota', '--cpu-quota'], ['CpuRealtimePeriod', '--cpu-rt-period'], ['CpuRealtimeRuntime', '--cpu-rt-runtime'],
  ['CpusetMems', '--cpuset-mems'], ['CpuCount', '--cpu-count'], ['CpuPercent', '--cpu-percent'],
  ['BlkioWeight', '--blkio-weight'], ['BlkioWeightDevice', '--blkio-weight-device'], ['BlkioDeviceReadBps', '--device-read-bps'],
  ['BlkioDeviceWriteBps', '--device-write-bps'], ['BlkioDeviceReadIOps', '--device-read-iops'], ['BlkioDeviceWriteIOps', '--device-write-iops'],
  ['IOMaximumBandwidth', '--io-maxbandwidth'], ['IOMaximumIOps', '--io-maxiops'],
  ['CgroupParent', '--cgroup-parent'], ['Cgroup', '--cgroup'], ['CgroupnsMode', '--cgroupns'], ['DeviceCgroupRules', '--device-cgroup-rule'],
  ['DeviceRequests', '--gpus'], ['Runtime', '--runtime'], ['StorageOpt', '--storage-opt'], ['Isolation', '--isolation'], ['VolumeDriver', '--volume-driver'],
];

/** netctl's one log driver (info's LoggingDriver): its own log file per container, read by `docker logs`. */
export const LOGGING_DRIVER = 'netctl';

/** Set: not null, false, 0, "" or empty. */
const isSet = (value: unknown): boolean =>
  value !== undefined && value !== null && value !== false && value !== 0 && value !== '' && !(Array.isArray(value) && value.length === 0) && !(isObject(value) && Object.keys(value).length === 0);

function refuseUnsupported(body: Record<string, unknown>, hostConfig: Record<string, unknown>): void {
  for (const [fields, prefix, table] of [[body, '', UNSUPPORTED_CONFIG], [hostConfig, 'HostConfig.', UNSUPPORTED_HOST_CONFIG]] as const) {
    const set = table.find(([field, , unset]) => isSet(fields[field]) && fields[field] !== unset);
    if (set) throw badRequest(`${prefix}${set[0]} (${set[1]}) is not supported by netctl: run the container without it`);
  }
  refuseOtherLogging(hostConfig['LogConfig']);
}

/** HostConfig.RestartPolicy's shape; its values are the launcher's to check, as dockerd's. */
function parseRestartPolicy(value: unknown): RestartPolicy | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw badRequest('HostConfig.RestartPolicy must be an object like {"Name": "on-failure", "MaximumRetryCount": 3}');
  const name = value['Name'] ?? '';
  const maximumRetryCount = value['MaximumRetryCount'] ?? 0;
  if (typeof name !== 'string') throw badRequest('HostConfig.RestartPolicy.Name must be a string: no, always, unless-stopped or on-failure');
  if (typeof maximumRetryCount !== 'number' || !Number.isSafeInteger(maximumRetryCount)) throw badRequest('HostConfig.RestartPolicy.MaximumRetryCount must be an integer');
  // Docker's "" is none, whatever the count.
  return name === '' ? undefined : { name: name as RestartPolicyName, maximumRetryCount };
}

/** LogConfig: empty (as docker-compose sends it) or netctl's own driver, without options. */
function refuseOtherLogging(logConfig: unknown): void {
  if (logConfig === undefined || logConfig === null) return;
  if (!isObject(logConfig)) throw badRequest('HostConfig.LogConfig must be an object like {"Type": "netctl"}');
  const type = logConfig['Type'] ?? '';
  if (type !== '' && type !== LOGGING_DRIVER) {
    throw badRequest(`HostConfig.LogConfig.Type ${JSON.stringify(type)} (--log-driver) is not supported by netctl: containers log to netctl's own log driver "${LOGGING_DRIVER}" (read with docker logs); run without it`);
  }
  if (isSet(logConfig['Config'])) throw badRequest(`HostConfig.LogConfig.Config (--log-opt) is not supported by netctl: the "${LOGGING_DRIVER}" log driver takes no options; run without them`);
}

/** An endpoint's IPAMConfig.LinkLocalIPs (--link-local-ip, docker-compose's link_local_ips): not implemented, so refused. */
export function refuseLinkLocalIps(ipam: Record<string, unknown>): void {
  if (isSet(ipam['LinkLocalIPs'])) throw badRequest('IPAMConfig.LinkLocalIPs (--link-local-ip) is not supported by netctl: give the container its addresses with --ip and --ip6');
}

/**
 * A create request: Image, Cmd, Env, WorkingDir, Hostname, StopTimeout, Tty, OpenStdin, StdinOnce, HostConfig
 * (NetworkMode, PortBindings, Dns*, CapAdd, CapDrop, Privileged, SecurityOpt, AutoRemove, RestartPolicy, ConsoleSize),
 * MacAddress and NetworkingConfig.EndpointsConfig (one network: its IPAMConfig and Aliases). `imageRoot` gives an
 * image's root directory (busybox when none is
 * named) or throws; netctl's own field Rootfs names a root directory instead.
 */
export function parseContainerCreate(body: unknown, name: string | undefined, imageRoot: (reference: string) => string): CreateRequest {
  if (!isObject(body)) throw badRequest('the request body must be a JSON object');
  const rootfs = optionalString(body['Rootfs'], 'Rootfs');
  const image = rootfs === undefined ? (optionalString(body['Image'], 'Image') ?? 'busybox') : undefined;
  const hostConfig = isObject(body['HostConfig']) ? body['HostConfig'] : {};
  refuseUnsupported(body, hostConfig);
  const endpoints = isObject(body['NetworkingConfig']) && isObject(body['NetworkingConfig']['EndpointsConfig']) ? body['NetworkingConfig']['EndpointsConfig'] : {};
  const endpointNames = Object.keys(endpoints);
  if (endpointNames.length > 1) throw badRequest('Container cannot be connected to network endpoints: give one network at create, connect the others afterwards');
  const network = optionalString(hostConfig['NetworkMode'], 'HostConfig.NetworkMode') ?? endpointNames[0];
  if (network?.startsWith('container:')) {
    throw badRequest(`HostConfig.NetworkMode "${network}" (--network container:, docker-compose's network_mode: service:) is not supported by netctl: a container cannot join another's network namespace; put both on a user-defined network instead`);
  }
  const endpoint = endpointNames[0] !== undefined ? endpoints[endpointNames[0]] : undefined;
  const ipam = isObject(endpoint) && isObject(endpoint['IPAMConfig']) ? endpoint['IPAMConfig'] : {};
  refuseLinkLocalIps(ipam);
  const ipv4 = optionalString(ipam['IPv4Address'], 'IPv4Address');
  const ipv6 = optionalString(ipam['IPv6Address'], 'IPv6Address');
  const aliases = isObject(endpoint) ? stringList(endpoint['Aliases'], 'Aliases') : undefined;
  // Config.MacAddress (API 1.41): the MAC of the endpoint on the network the container is created on.
  const mac = optionalString(body['MacAddress'], 'MacAddress');
  const hostname = optionalString(body['Hostname'], 'Hostname');
  const workdir = optionalString(body['WorkingDir'], 'WorkingDir');
  const env = stringList(body['Env'], 'Env');
  const labels = stringMap(body, 'Labels');
  const cmd = commandList(body['Cmd'], 'Cmd') ?? [];
  const ports = parsePortBindings(hostConfig['PortBindings']);
  const servers = stringList(hostConfig['Dns'], 'HostConfig.Dns') ?? [];
  const badServer = servers.find((ip) => net.isIP(ip) === 0);
  if (badServer !== undefined) throw badRequest(`invalid DNS server "${badServer}": give an IP address`);
  const search = stringList(hostConfig['DnsSearch'], 'HostConfig.DnsSearch') ?? [];
  const options = stringList(hostConfig['DnsOptions'], 'HostConfig.DnsOptions') ?? [];
  const restartPolicy = parseRestartPolicy(hostConfig['RestartPolicy']);
  const stopTimeout = body['StopTimeout'] ?? undefined;
  if (stopTimeout !== undefined && !Number.isSafeInteger(stopTimeout)) throw badRequest('StopTimeout must be a whole number of seconds (negative: no limit)');
  const tty = optionalBoolean(body['Tty'], 'Tty');
  const openStdin = optionalBoolean(body['OpenStdin'], 'OpenStdin');
  const stdinOnce = optionalBoolean(body['StdinOnce'], 'StdinOnce');
  const consoleSize = parseConsoleSize(hostConfig['ConsoleSize']);
  const autoRemove = hostConfig['AutoRemove'] ?? false;
  if (typeof autoRemove !== 'boolean') throw badRequest('HostConfig.AutoRemove must be true or false');
  const privileged = hostConfig['Privileged'] ?? false;
  if (typeof privileged !== 'boolean') throw badRequest('HostConfig.Privileged must be true or false');
  const security = {
    capAdd: commandList(hostConfig['CapAdd'], 'HostConfig.CapAdd') ?? [],
    capDrop: commandList(hostConfig['CapDrop'], 'HostConfig.CapDrop') ?? [],
    privileged,
    securityOpt: stringList(hostConfig['SecurityOpt'], 'HostConfig.SecurityOpt') ?? [],
  };
  return {
    security,
    dns: { ...(servers.length ? { servers } : {}), ...(search.length ? { search } : {}), ...(options.length ? { options } : {}) },
    ...(ports.length > 0 ? { ports } : {}),
    cmd,
    rootfs: rootfs ?? imageRoot(image!),
    ...(image !== undefined ? { image } : {}),
    ...(name ? { name } : {}),
    ...(hostname ? { hostname } : {}),
    ...(workdir ? { workdir } : {}),
    ...(env ? { env } : {}),
    ...(network && network !== 'default' ? { network } : { defaultMode: true as const }),
    ...(ipv4 ? { ipv4 } : {}),
    ...(ipv6 ? { ipv6 } : {}),
    ...(aliases ? { aliases } : {}),
    ...(mac ? { mac } : {}),
    ...(autoRemove ? { autoRemove } : {}),
    ...(typeof stopTimeout === 'number' ? { stopTimeout } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(restartPolicy ? { restartPolicy } : {}),
    ...(tty ? { tty } : {}),
    ...(openStdin ? { openStdin } : {}),
    ...(stdinOnce ? { stdinOnce } : {}),
    ...(tty && consoleSize ? { consoleSize } : {}),
  };
}

/** HostConfig.PortBindings: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}; an empty HostPort picks a free one. */
export function parsePortBindings(value: unknown): PortMapping[] {
  if (value === undefined || value === null) return [];
  if (!isObject(value)) throw badRequest('HostConfig.PortBindings must be an object like {"80/tcp": [{"HostPort": "8080"}]}');
  const mappings: PortMapping[] = [];
  for (const [key, bindings] of Object.entries(value)) {
    const match = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
    const containerPort = Number(match?.[1]);
    if (!match || containerPort < 1 || containerPort > 65535) throw badRequest(`invalid container port "${key}": use PORT or PORT/tcp|udp|sctp, with PORT from 1 to 65535`);
    for (const binding of Array.isArray(bindings) ? bindings : []) {
      const hostIp = isObject(binding) ? optionalString(binding['HostIp'], 'HostIp') : undefined;
      const hostPortText = isObject(binding) ? (optionalString(binding['HostPort'], 'HostPort') ?? '0') : '0';
      const hostPort = Number(hostPortText);
      if (!/^\d+$/.test(hostPortText) || hostPort > 65535) throw badRequest(`invalid host port "${hostPortText}" for ${key}: use a port from 1 to 65535, or none for a free one`);
      if (hostIp !== undefined && net.isIP(hostIp) !== 4) throw badRequest(`invalid host address "${hostIp}" for ${key}: use an IPv4 address`);
      mappings.push({ protocol: (match[2] ?? 'tcp') as PortMapping['protocol'], hostPort, containerPort, ...(hostIp !== undefined && hostIp !== '0.0.0.0' ? { hostIp } : {}) });
    }
  }
  return mappings;
}

/** NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}. */
function portsJson(ports: readonly PortMapping[]): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const json: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of ports) (json[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp ?? '0.0.0.0', HostPort: String(p.hostPort) });
  return json;
}

/** As Docker shows them: a container that does not run keeps its settings, with no endpoint, addresses or gateways. */
function networksJson(attachments: readonly Attachment[]): Record<string, unknown> {
  return Object.fromEntries(
    attachments.map(({ join, network, endpoint }) => [
      network?.name ?? join.network,
      {
        IPAMConfig: join.ipv4 || join.ipv6 || join.ipamConfigGiven ? { ...(join.ipv4 ? { IPv4Address: join.ipv4 } : {}), ...(join.ipv6 ? { IPv6Address: join.ipv6 } : {}) } : null,
        Links: null,
        Aliases: join.aliases.length > 0 ? join.aliases : null,
        // Empty until the container has joined the network once, as in Docker.
        NetworkID: join.networkId ?? '',
        EndpointID: endpoint?.id ?? '',
        Gateway: endpoint?.gateway4 ?? '',
        IPAddress: address(endpoint?.ipv4?.address),
        IPPrefixLen: prefixLength(endpoint?.ipv4?.address),
        IPv6Gateway: endpoint?.gateway6 ?? '',
        GlobalIPv6Address: address(endpoint?.ipv6?.address),
        GlobalIPv6PrefixLen: prefixLength(endpoint?.ipv6?.address),
        MacAddress: endpoint?.mac ?? '',
        DriverOpts: null,
      },
    ]),
  );
}

/**
 * NetworkSettings' older top-level fields, which dockerd still fills for the default `bridge`
 * network alone (`docker inspect -f '{{.NetworkSettings.IPAddress}}'`), empty otherwise.
 */
function defaultBridgeJson(attachments: readonly Attachment[]): Record<string, unknown> {
  const endpoint = attachments.find(({ network }) => network?.name === 'bridge' && network.predefined)?.endpoint;
  return {
    Bridge: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: endpoint?.id ?? '',
    Gateway: endpoint?.gateway4 ?? '',
    GlobalIPv6Address: address(endpoint?.ipv6?.address),
    GlobalIPv6PrefixLen: prefixLength(endpoint?.ipv6?.address),
    IPAddress: address(endpoint?.ipv4?.address),
    IPPrefixLen: prefixLength(endpoint?.ipv4?.address),
    IPv6Gateway: endpoint?.gateway6 ?? '',
    MacAddress: endpoint?.mac ?? '',
  };
}

/** HostConfig.NetworkMode as Docker shows it: "default" for a container created without one. */
const networkMode = (config: ContainerRecord['config']): string => (config.defaultMode ? 'default' : config.network);

function stateJson(container: ContainerRecord): Record<string, unknown> {
  const { state } = container;
  return {
    Status: dockerStatus(state),
    Running: isUp(state),
    Paused: false,
    Restarting: state.restarting ?? false,
    OOMKilled: false,
    Dead: false,
    Pid: state.pid ?? 0,
    ExitCode: state.exitCode ?? 0,
    Error: state.error ?? '',
    StartedAt: state.startedAt ?? '0001-01-01T00:00:00Z',
    FinishedAt: state.finishedAt ?? '0001-01-01T00:00:00Z',
  };
}

/** `imageId`: the ID of the container's image, as Docker's Image shows it (its name when unknown); `stateDir` holds its /etc files and log. */
export function containerInspectJson(container: ContainerRecord, sandbox: SandboxRecord | undefined, attachments: readonly Attachment[], stateDir: string, imageId?: string): Record<string, unknown> {
  const { config } = container;
  const image = config.image ?? 'busybox';
  const { security } = config;
  return {
    Id: container.id,
    Created: container.created,
    Path: config.cmd[0],
    Args: config.cmd.slice(1),
    State: stateJson(container),
    RestartCount: container.restartCount ?? 0,
    Image: imageId !== undefined ? `sha256:${imageId}` : image,
    Name: `/${config.name}`,
    ResolvConfPath: path.join(stateDir, 'resolv.conf'),
    HostnamePath: path.join(stateDir, 'hostname'),
    HostsPath: path.join(stateDir, 'hosts'),
    LogPath: path.join(stateDir, 'log'),
    Mounts: [],
    Config: {
      Hostname: config.hostname,
      Env: config.env,
      Cmd: config.cmd,
      WorkingDir: config.workdir,
      Image: image,
      Rootfs: config.rootfs,
      Labels: config.labels ?? {},
      // Docker's CLI reads these to know whether attach and logs are one raw stream.
      Tty: config.tty ?? false,
      OpenStdin: config.openStdin ?? false,
      StdinOnce: config.stdinOnce ?? false,
      ...(config.stopTimeout !== undefined ? { StopTimeout: config.stopTimeout } : {}),
      ...(config.mac ? { MacAddress: config.mac } : {}),
    },
    HostConfig: {
      NetworkMode: networkMode(config),
      // docker-compose shows no logs for a container without a log driver.
      LogConfig: { Type: LOGGING_DRIVER, Config: {} },
      AutoRemove: config.autoRemove ?? false,
      RestartPolicy: { Name: config.restartPolicy?.name ?? 'no', MaximumRetryCount: config.restartPolicy?.maximumRetryCount ?? 0 },
      ConsoleSize: config.consoleSize ? [config.consoleSize.rows, config.consoleSize.columns] : [0, 0],
      PortBindings: portsJson(config.ports),
      Dns: config.dns.servers ?? [],
      DnsSearch: config.dns.search ?? [],
      DnsOptions: config.dns.options ?? [],
      // Docker's null for none.
      CapAdd: security.capAdd.length > 0 ? security.capAdd : null,
      CapDrop: security.capDrop.length > 0 ? security.capDrop : null,
      Privileged: security.privileged,
      SecurityOpt: security.securityOpt.length > 0 ? security.securityOpt : null,
    },
    NetworkSettings: {
      SandboxID: sandbox?.id ?? '',
      SandboxKey: sandbox?.key ?? '',
      Ports: portsJson(container.state.ports ?? []),
      ...defaultBridgeJson(attachments),
      Networks: networksJson(attachments),
    },
  };
}

function ago(iso: string | undefined): string {
  const seconds = iso ? Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)) : 0;
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

/** Docker's human Status column: "Up 3 seconds", "Exited (0) 2 minutes ago", "Restarting (1) 2 seconds ago", "Created". */
export function statusText(container: ContainerRecord): string {
  const { state } = container;
  if (state.restarting) return `Restarting (${state.exitCode ?? 0}) ${ago(state.finishedAt)} ago`;
  if (state.status === 'running') return `Up ${ago(state.startedAt)}`;
  if (state.status === 'exited') return `Exited (${state.exitCode ?? 0}) ${ago(state.finishedAt)} ago`;
  return 'Created';
}

export function containerListJson(container: ContainerRecord, attachments: readonly Attachment[]): Record<string, unknown> {
  return {
    Id: container.id,
    Names: [`/${container.config.name}`],
    Image: container.config.image ?? 'busybox',
    Command: container.config.cmd.join(' '),
    Created: Math.floor(Date.parse(container.created) / 1000),
    State: dockerStatus(container.state),
    Status: statusText(container),
    Ports: (container.state.ports ?? []).map((p) => ({ IP: p.hostIp ?? '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol })),
    Labels: container.config.labels ?? {},
    HostConfig: { NetworkMode: networkMode(container.config) },
    NetworkSettings: { Networks: networksJson(attachments) },
  };
}
