// The minimal container launcher: a container is a sandbox (its network namespace, with its
// endpoints) while it runs, a state directory (its /etc files, its log, its exit code, its
// writable layer) and a shim that runs its first process. As in Docker, a container holds its
// networks only while it runs: start joins every network it is configured on, its end releases
// them. Creating is a transaction; a container's process outliving
// the daemon is found again, by PID and start time, when the daemon comes back, and so is one
// whose start the daemon did not live to record. The shim is watched: one that dies without
// recording the exit takes its container with it, and the container is marked exited.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../util/logger';
import { currentNamespacePath } from '../native/netns';
import { environmentEntries, type StreamingProcess } from '../native/process';
import type { PortMapping } from '../drivers/driver';
import type { Store } from '../store/types';
import type { EventSink } from '../events/bus';
import { Rollback } from '../util/rollback';
import { DEFAULT_SECURITY, heldCapabilities, noNewPrivileges, normalizeCapabilities, shimConfinement } from './confinement';
import { aliasesWithShortId, type ContainerConfig, type ContainerRecord, type NetworkJoin } from './container-record';
import { environmentOf, invalidEnvEntry } from './environment';
import { ContainerConflictError, InvalidContainerConfigError, NoSuchContainerError, NotConnectedError } from './errors';
import { writeEtcFiles, writeHosts } from './etc-files';
import { crashPoint } from '../util/crash-point';
import { isHostname, isResolverOption, isSearchDomain } from './host-names';
import { isAlive, type ProcessRef, readShimPids, startTicksOf, watchExit } from './process';
import { type ConsoleSize, execShim, type ShimConfinement, type ShimStdio, startShim } from './shim';
import { ControlChannel } from './control';
import { parseSignal } from './signals';
import { newId } from '../util/id';
import { invalidNameMessage, nameProblem } from '../util/names';
import { freeRandomName } from './random-name';
import { restartPolicyProblem, shouldRestart } from './restart-policy';
import { RestartTimers } from './restart-timers';
import { startFailureExitCode } from './start-failure';
import { MAC } from '../controller/mac';
import { SingleFlight } from '../util/single-flight';

export { ContainerConflictError, InvalidContainerConfigError, NoSuchContainerError, NotConnectedError } from './errors';

const CONTAINER_PREFIX = 'containers/';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The longest delay a timer takes (2^31 - 1 ms, 24.8 days); a longer stop timeout waits without one. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the launcher needs of the CNM core: sandboxes and endpoints. */
export interface Networking {
  createSandbox(options: { containerId?: string; owner?: string; dns?: string[] }): Promise<{ id: string; key: string }>;
  sandbox(id: string): { key: string };
  /** Every sandbox, with the container it was made for and who made it. */
  sandboxes(): Array<{ id: string; containerId?: string; owner?: string }>;
  /** The ports the sandbox's endpoints publish (a stopped container's must be none). */
  publishedPorts(sandboxId: string): PortMapping[];
  /** The sandbox's addresses on all its networks, plain. */
  addresses(sandboxId: string): string[];
  deleteSandbox(id: string): Promise<void>;
  publish(sandboxId: string, ports: readonly PortMapping[]): Promise<PortMapping[]>;
  /** A container's rename: the sandbox's endpoints (and so its DNS names) take the new name. */
  renameEndpoints(sandboxId: string, name: string): Promise<void>;
  connect(network: string, sandboxId: string, request: { name?: string; hostname?: string; ipv4?: string; ipv6?: string; mac?: string; aliases?: string[] }): Promise<{ ipv4?: { address: string }; ipv6?: { address: string } }>;
  disconnect(network: string, sandboxId: string): Promise<void>;
  /** A network by ID, name or ID prefix; throws Docker's 404 (`network X not found`) when there is none. */
  find(network: string): { id: string; name: string; driver: string; predefined: boolean; allocations: ReadonlyArray<{ v6: boolean; dynamic?: true }> };
  /** A sandbox's endpoints: what a store of an older netctl, which kept no network list per container, is read from. */
  endpoints(of: { sandboxId: string }): Array<{ networkId: string; aliases: string[]; requested?: { ipv4?: string; ipv6?: string } }>;
  /** Whether the network's containers resolve names through the embedded DNS. */
  servesNames(network: string): boolean;
}

export interface LauncherDeps {
  store: Store;
  networking: Networking;
  log: Logger;
  /** Durable per-container directories go under root/containers. */
  root: string;
  /** Where Docker's container events go. */
  events?: EventSink;
}

/** The network a container of the default mode joins; without it (--bridge none) such containers have loopback only. */
const DEFAULT_BRIDGE = 'bridge';

/** The owner the launcher's sandboxes are recorded with: an embedding engine's are not its to remove. */
const SANDBOX_OWNER = 'launcher';

/** Exit code of a container whose end went unrecorded (a reboot, a crash), as Docker shows it. */
const UNKNOWN_EXIT = 255;
/** Exit code of a container killed with SIGKILL (its shim died, or stop ran out of time). */
const KILLED_EXIT = 128 + 9;
/** How long a start the daemon did not see finish is waited for at load (the shim's own deadline). */
const ADOPT_START_MS = 20_000;

/** Docker's wait conditions: the current run's end (at once if none runs), the next run's end, removal. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

type Defaulted = 'name' | 'hostname' | 'workdir' | 'env' | 'aliases' | 'network' | 'ports' | 'dns' | 'security';
/** `network`, `ipv4`, `ipv6` and `aliases` give the container's first network. */
export type CreateRequest = Omit<ContainerConfig, Defaulted | 'networks'> & Partial<Pick<ContainerConfig, Defaulted>>;

export class Launcher {
  private readonly containers = new Map<string, ContainerRecord>();
  /** The same records by name: most requests name their container, and a scan grows with their number. */
  private readonly byName = new Map<string, ContainerRecord>();
  /** Waiters for each container's exit, resolved with its code. */
  private readonly exitWaiters = new Map<string, Array<(code: number) => void>>();
  /** Waiters for each container's removal, resolved with its last exit code. */
  private readonly removalWaiters = new Map<string, Array<(code: number) => void>>();
  private readonly removals = new SingleFlight();
  /** The shims of running containers, watched for their end. */
  private readonly watchers = new Map<string, { close(): void }>();
  private closed = false;
  /** Containers whose exit is a restart's stop. */
  private readonly restarting = new Set<string>();
  /** Restarts by policy waiting out their backoff. */
  private readonly restartTimers = new RestartTimers();
  /** Sandboxes of ended containers being deleted: a start waits for them, so a static address is free again. */
  private readonly releases = new Map<string, Promise<void>>();
  private readonly starts = new SingleFlight();
  /** The control channels of running containers with a pty or stdin, opened on first use. */
  private readonly controls = new Map<string, ControlChannel>();

  constructor(private readonly deps: LauncherDeps) {}

  /**
   * Loads the stored containers and repairs what a crash between two steps left: state
   * directories and sandboxes of no container (or not the container's own) are removed; a start
   * that was not recorded is adopted; running containers are watched again, or marked exited; a
   * stopped container's sandbox is released; one whose sandbox is gone (a reboot) gets a new one at
   * its next start.
   */
  async load(): Promise<void> {
    for (const entry of await this.deps.store.list(CONTAINER_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as ContainerRecord;
      // Records written before `--dns` was kept have no DNS settings: the host's, as then.
      record.config.dns ??= {};
      // Nor, before confinement, security options: Docker's defaults from their next start on.
      record.config.security ??= { ...DEFAULT_SECURITY };
      this.track(record);
      if (record.state.restarting) {
        // A backoff the last daemon did not see end: the policy decides again, at this start.
        delete record.state.restarting;
        await this.save(record);
      }
    }
    await this.removeOrphans();
    const sandboxes = new Set(this.deps.networking.sandboxes().map((s) => s.id));
    for (const record of this.containers.values()) {
      try {
        await this.repair(record, sandboxes);
      } catch (error) {
        this.deps.log.error({ err: error, container: record.id }, 'could not check the container after the restart');
      }
    }
    await this.restartAtDaemonStart();
  }

  /**
   * As dockerd at its start: containers that have run and whose policy says so are started
   * again (always even after a stop by the user, unless-stopped only if not), their restart count
   * reset. One whose start the daemon is adopting runs already.
   */
  private async restartAtDaemonStart(): Promise<void> {
    for (const record of [...this.containers.values()]) {
      const { state } = record;
      // Restarting already: a shim found dead at load had its exit, and its restart, decided.
      if (state.status === 'running' || state.restarting || state.startedAt === undefined || !record.config.restartPolicy) continue;
      const pids = readShimPids(this.stateDir(record.id));
      if (pids && isAlive(pids.shim.pid, pids.shim.startTicks)) continue;
      if (!shouldRestart(record.config.restartPolicy, { exitCode: state.exitCode ?? 0, restartCount: record.restartCount ?? 0, manuallyStopped: record.manuallyStopped ?? false })) continue;
      this.deps.log.info({ container: record.id, policy: record.config.restartPolicy.name }, 'starting the container again by its restart policy');
      await this.start(record.id).catch((error: unknown) => this.deps.log.error({ err: error, container: record.id }, 'could not start the container by its restart policy'));
    }
  }

  /**
   * State directories and sandboxes of containers that were never recorded (or whose removal
   * was), and sandboxes a container no longer names (a start or a release a crash cut short).
   */
  private async removeOrphans(): Promise<void> {
    const { log, networking } = this.deps;
    for (const sandbox of networking.sandboxes()) {
      const container = sandbox.containerId !== undefined ? this.containers.get(sandbox.containerId) : undefined;
      if (sandbox.owner !== SANDBOX_OWNER || (container !== undefined && container.sandboxId === sandbox.id)) continue;
      log.warn({ sandbox: sandbox.id, container: sandbox.containerId }, 'sandbox of no container (left by a crash): removing it');
      await networking.deleteSandbox(sandbox.id);
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(this.deps.root, 'containers'));
    } catch {
      // No container was ever made.
    }
    for (const name of names.filter((n) => /^[0-9a-f]{64}$/.test(n) && !this.containers.has(n))) {
      log.warn({ container: name }, 'state directory of no container (left by a crash): removing it');
      fs.rmSync(this.stateDir(name), { recursive: true, force: true });
    }
  }

  private async repair(record: ContainerRecord, sandboxes: ReadonlySet<string>): Promise<void> {
    if ((record.config as Partial<ContainerConfig>).networks === undefined) {
      record.config.networks = this.joinsOfOlderRecord(record, sandboxes);
      await this.save(record);
    }
    if (record.sandboxId !== undefined && !sandboxes.has(record.sandboxId)) {
      this.deps.log.warn({ container: record.id }, 'the container\'s network namespace is gone (a reboot?): it gets a new one when it starts');
      delete record.sandboxId;
      await this.save(record);
    }
    // A crash between a connect or disconnect and the hosts file leaves it one network behind.
    if (record.sandboxId !== undefined) this.updateHosts(record, this.deps.networking.addresses(record.sandboxId));
    if (record.state.status === 'running') {
      this.watchShim(record);
      return;
    }
    const pids = readShimPids(this.stateDir(record.id));
    if (pids && isAlive(pids.shim.pid, pids.shim.startTicks)) {
      // The daemon died while this container was starting: its shim lives on.
      void this.adopt(record, pids.shim);
      return;
    }
    const code = pids ? this.readExitCode(record) : undefined;
    if (code !== undefined && record.state.exitCode !== code) {
      // It was started, ran and exited while no daemon was there to record it.
      record.state = { ...record.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() };
      await this.save(record);
    }
    if (record.sandboxId !== undefined) {
      // Stopped with its network held (a crash, or an older netctl, which kept it until rm).
      await this.releaseNetwork(record);
      await this.save(record);
    }
    // It ended while no daemon was there to remove it.
    if (record.config.autoRemove && record.state.status === 'exited') await this.autoRemove(record);
  }

  /** A start the daemon did not see finish: running once its shim says the command runs. */
  private async adopt(record: ContainerRecord, shim: ProcessRef): Promise<void> {
    const deadline = Date.now() + ADOPT_START_MS;
    for (;;) {
      const command = readShimPids(this.stateDir(record.id))?.command;
      if (command) {
        const ports = record.sandboxId !== undefined ? this.deps.networking.publishedPorts(record.sandboxId) : [];
        record.state = { status: 'running', pid: command.pid, startTicks: command.startTicks, shimPid: shim.pid, shimStartTicks: shim.startTicks, startedAt: new Date().toISOString(), ...(ports.length > 0 ? { ports } : {}) };
        this.deps.log.warn({ container: record.id, pid: command.pid }, 'container started while the daemon was down: adopted it');
        await this.save(record);
        this.watchShim(record);
        return;
      }
      if (this.closed) return;
      if (!isAlive(shim.pid, shim.startTicks) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.deps.log.warn({ container: record.id }, 'a start the daemon did not see finish failed');
    await this.releaseNetwork(record);
    await this.save(record);
  }

  /**
   * The networks of a container recorded by an older netctl, which kept none per container: its
   * --network one, then those its sandbox was connected to afterwards.
   */
  private joinsOfOlderRecord(record: ContainerRecord, sandboxes: ReadonlySet<string>): NetworkJoin[] {
    const { config } = record;
    if (config.network === 'host' || config.network === 'none') return [];
    const endpoints = record.sandboxId !== undefined && sandboxes.has(record.sandboxId) ? this.deps.networking.endpoints({ sandboxId: record.sandboxId }) : [];
    const primaryId = this.findIfThere(config.network)?.id;
    const primary: NetworkJoin = { network: config.network, ...(primaryId !== undefined ? { networkId: primaryId } : {}), ...(config.ipv4 ? { ipv4: config.ipv4 } : {}), ...(config.ipv6 ? { ipv6: config.ipv6 } : {}), aliases: endpoints.find((e) => e.networkId === primaryId)?.aliases ?? config.aliases };
    // An endpoint on a network that failed to load is named by the network's ID.
    const connected = endpoints
      .filter((e) => e.networkId !== primaryId)
      .map((e): NetworkJoin => ({ network: this.findIfThere(e.networkId)?.name ?? e.networkId, networkId: e.networkId, ...(e.requested?.ipv4 ? { ipv4: e.requested.ipv4 } : {}), ...(e.requested?.ipv6 ? { ipv6: e.requested.ipv6 } : {}), aliases: e.aliases }));
    return [primary, ...connected];
  }

  /** Stops watching shims; containers keep running. */
  close(): void {
    this.closed = true;
    this.restartTimers.close();
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    for (const channel of this.controls.values()) channel.close();
    this.controls.clear();
  }

  /** Newest first, as `ps` lists them. */
  list(): ContainerRecord[] {
    return [...this.containers.values()].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  /** By full ID, exact name, or unique ID prefix, as Docker resolves a container. */
  find(reference: string): ContainerRecord {
    const byId = this.containers.get(reference);
    if (byId) return byId;
    const byName = this.byName.get(reference.startsWith('/') ? reference.slice(1) : reference);
    if (byName) return byName;
    const byPrefix = /^[0-9a-f]+$/.test(reference) ? [...this.containers.values()].filter((c) => c.id.startsWith(reference)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    throw new NoSuchContainerError(`No such container: ${reference}`);
  }

  private track(record: ContainerRecord): void {
    this.containers.set(record.id, record);
    this.byName.set(record.config.name, record);
  }

  private untrack(record: ContainerRecord): void {
    this.containers.delete(record.id);
    if (this.byName.get(record.config.name) === record) this.byName.delete(record.config.name);
  }

  stateDir(id: string): string {
    return path.join(this.deps.root, 'containers', id);
  }

  /** The state directory and record of a new container; it joins its network at start, as in Docker. */
  async create(request: CreateRequest): Promise<ContainerRecord> {
    const id = newId();
    const security = request.security ?? DEFAULT_SECURITY;
    const held = heldCapabilities();
    const config: ContainerConfig = {
      name: request.name ?? freeRandomName((name) => this.byName.has(name), id.slice(0, 12)),
      hostname: request.hostname ?? id.slice(0, 12),
      cmd: request.cmd,
      env: request.env?.some((kv) => kv.startsWith('PATH=')) ? request.env : [DEFAULT_PATH, ...(request.env ?? [])],
      // Cleaned as Docker cleans it: "/../etc" is "/etc", inside the container's root.
      workdir: path.posix.normalize(request.workdir ?? '/'),
      rootfs: request.rootfs,
      ...(request.image !== undefined ? { image: request.image } : {}),
      network: request.network ?? DEFAULT_BRIDGE,
      ...(request.defaultMode && request.network === undefined ? { defaultMode: true as const } : {}),
      aliases: request.aliases ?? [],
      ports: request.ports ?? [],
      dns: request.dns ?? {},
      security: { ...security, capAdd: normalizeCapabilities(security.capAdd, 'CapAdd', held), capDrop: normalizeCapabilities(security.capDrop, 'CapDrop', held) },
      ...(request.ipv4 !== undefined ? { ipv4: request.ipv4 } : {}),
      ...(request.ipv6 !== undefined ? { ipv6: request.ipv6 } : {}),
      ...(request.mac !== undefined ? { mac: request.mac } : {}),
      ...(request.autoRemove ? { autoRemove: true } : {}),
      ...(request.stopTimeout !== undefined ? { stopTimeout: request.stopTimeout } : {}),
      ...(request.labels && Object.keys(request.labels).length > 0 ? { labels: { ...request.labels } } : {}),
      ...(request.tty ? { tty: true } : {}),
      ...(request.openStdin ? { openStdin: true } : {}),
      ...(request.stdinOnce ? { stdinOnce: true } : {}),
      ...(request.tty && request.consoleSize ? { consoleSize: { ...request.consoleSize } } : {}),
      ...(request.restartPolicy ? { restartPolicy: { ...request.restartPolicy } } : {}),
      networks: [],
    };
    if (config.network !== 'host' && config.network !== 'none') {
      config.networks.push({ network: config.network, ...(config.ipv4 ? { ipv4: config.ipv4 } : {}), ...(config.ipv6 ? { ipv6: config.ipv6 } : {}), aliases: config.aliases });
    }
    this.validate(config);
    const record: ContainerRecord = { id, created: new Date().toISOString(), config, state: { status: 'created' } };
    // Listed at once: a second create with the same name now conflicts.
    this.track(record);
    const rollback = new Rollback();
    rollback.push('forgetting the container', () => this.untrack(record));
    try {
      const stateDir = this.stateDir(id);
      fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      rollback.push('removing the state directory', () => fs.rmSync(stateDir, { recursive: true, force: true }));
      crashPoint('container-create:state-dir-made');
      await this.save(record);
      this.emit(record, 'create');
      return record;
    } catch (error) {
      for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, container: id }, `rollback: ${failure.what} failed`);
      throw error;
    }
  }

  /**
   * At start: the container's sandbox, joined to every network it is configured on, and its /etc
   * files. A network joined before is that network still (by ID: Docker's `network ID not found`
   * when it is gone); each join records the network's ID and, on a network with names, the
   * short-ID alias, as Docker stores them.
   */
  private async attachNetwork(record: ContainerRecord, rollback: Rollback): Promise<void> {
    const { config } = record;
    const { networking } = this.deps;
    const addresses: string[] = [];
    let embeddedDns = false;
    const joined = new Map<NetworkJoin, NetworkJoin>();
    if (config.network !== 'host') {
      const sandbox = await networking.createSandbox({ containerId: record.id, owner: SANDBOX_OWNER, ...(config.dns.servers?.length ? { dns: config.dns.servers } : {}) });
      rollback.push('removing the sandbox', () => networking.deleteSandbox(sandbox.id));
      record.sandboxId = sandbox.id;
      rollback.push('forgetting the sandbox', () => delete record.sandboxId);
      // --mac-address is the interface's on the --network one, however often it was connected again (docker-compose does).
      const macNetworkId = config.mac ? this.findIfThere(config.network)?.id : undefined;
      for (const join of config.networks) {
        // The default bridge by its name, as dockerd (which makes it anew at every start); without
        // it (--bridge none) the container runs with loopback only, as dockerd's.
        const network = join.network === DEFAULT_BRIDGE ? this.findIfThere(DEFAULT_BRIDGE) : networking.find(join.networkId ?? join.network);
        if (!network) continue;
        refuseStaticAddress(network, join);
        const servesNames = networking.servesNames(network.id);
        embeddedDns ||= servesNames;
        const aliases = servesNames ? aliasesWithShortId(record.id, join.aliases) : join.aliases;
        const endpoint = await networking.connect(network.id, sandbox.id, { name: config.name, hostname: config.hostname, aliases, ...(join.ipv4 ? { ipv4: join.ipv4 } : {}), ...(join.ipv6 ? { ipv6: join.ipv6 } : {}), ...(network.id === macNetworkId ? { mac: config.mac } : {}) });
        for (const held of [endpoint.ipv4, endpoint.ipv6]) if (held) addresses.push(held.address.split('/')[0]!);
        joined.set(join, { ...join, networkId: network.id, aliases });
      }
      crashPoint('container-start:networked');
    }
    writeEtcFiles(this.stateDir(record.id), { hostname: config.hostname, addresses }, embeddedDns, config.dns);
    // A connect meanwhile (to the sandbox, live) has added its own join: kept.
    record.config = { ...record.config, networks: record.config.networks.map((join) => joined.get(join) ?? join) };
  }

  /**
   * A stopped container holds no network, as in Docker: its sandbox goes, with its endpoints,
   * addresses, interfaces and published ports. The next start makes a new one.
   */
  private releaseNetwork(record: ContainerRecord): Promise<void> {
    const sandboxId = record.sandboxId;
    if (sandboxId === undefined) return Promise.resolve();
    // Forgotten at once: a removal meanwhile does not delete it again, a start makes a new one.
    delete record.sandboxId;
    const release = this.deps.networking
      .deleteSandbox(sandboxId)
      .catch((error: unknown) => this.deps.log.error({ err: error, container: record.id, sandbox: sandboxId }, 'could not release the stopped container\'s network (the next daemon start removes its sandbox)'))
      .finally(() => {
        if (this.releases.get(record.id) === release) this.releases.delete(record.id);
      });
    this.releases.set(record.id, release);
    return release;
  }

  /**
   * Starts the container's process; a created or exited container may be started. Two starts at
   * once are one. A start by the user (not `byPolicy`) resets the restart count and backoff; a
   * pending restart is left to run.
   */
  start(reference: string, byPolicy = false): Promise<void> {
    const record = this.find(reference);
    // Each would make a sandbox and join the networks.
    return this.starts.run(record.id, () => this.startRecord(record, byPolicy));
  }

  private async startRecord(record: ContainerRecord, byPolicy: boolean): Promise<void> {
    if (record.state.status === 'running' || (record.state.restarting && !byPolicy)) return;
    if (!byPolicy) this.resetRestarts(record);
    const stateDir = this.stateDir(record.id);
    // What a shim of an earlier run left would be taken for this run's after a crash.
    for (const file of ['exit', 'pids']) fs.rmSync(path.join(stateDir, file), { force: true });
    const { config } = record;
    let ports: PortMapping[] = [];
    await this.releases.get(record.id);
    try {
      if (record.sandboxId === undefined) {
        const rollback = new Rollback();
        try {
          await this.attachNetwork(record, rollback);
          await this.save(record);
        } catch (error) {
          for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, container: record.id }, `rollback: ${failure.what} failed`);
          throw error;
        }
      }
      if (config.ports.length > 0) {
        if (!record.sandboxId || config.network === 'none') throw new InvalidContainerConfigError(`publishing ports needs a network; the container runs with --network ${config.network}`);
        ports = await this.deps.networking.publish(record.sandboxId, config.ports);
        crashPoint('container-start:ports-published');
      }
      const { pid, shimPid } = await startShim({
        stateDir,
        netns: record.sandboxId ? this.deps.networking.sandbox(record.sandboxId).key : currentNamespacePath(),
        rootfs: config.rootfs,
        hostname: config.hostname,
        workdir: config.workdir,
        cmd: config.cmd,
        env: environmentEntries(environmentOf(config.env)),
        confinement: this.confinementOf(config),
        ...stdioOf(config),
      });
      crashPoint('container-start:shim-started');
      record.state = { status: 'running', pid, startTicks: startTicksOf(pid) ?? 0, shimPid, shimStartTicks: startTicksOf(shimPid) ?? 0, startedAt: new Date().toISOString(), ...(ports.length > 0 ? { ports } : {}) };
      this.watchShim(record);
      await this.save(record);
      this.emit(record, 'start');
    } catch (error) {
      // Nothing half-done: a container that does not run holds no network.
      await this.releaseNetwork(record);
      const message = (error as Error).message;
      const code = startFailureExitCode(message);
      // As dockerd: a command that cannot run sets its code; other failures keep an earlier non-zero one.
      const exitCode = code === 128 && record.state.exitCode ? record.state.exitCode : code;
      record.state = { ...record.state, status: record.state.status === 'created' ? 'created' : 'exited', exitCode, error: message };
      await this.save(record);
      // As Docker: the CLI of `run --rm` waits for the removal after a failed start.
      if (config.autoRemove) await this.autoRemove(record);
      throw error;
    }
  }

  /**
   * Docker's network connect: a running container joins the network at once; any other is
   * configured to join it at its next start (a connect again replaces that), as Docker does.
   */
  async connect(reference: string, networkReference: string, settings: Omit<NetworkJoin, 'network' | 'networkId'>): Promise<void> {
    const record = this.find(reference);
    const { networking } = this.deps;
    const network = networking.find(networkReference);
    refuseStaticAddress(network, settings);
    const aliases = networking.servesNames(network.id) ? aliasesWithShortId(record.id, settings.aliases) : settings.aliases;
    const join: NetworkJoin = { network: network.name, ...(settings.ipv4 ? { ipv4: settings.ipv4 } : {}), ...(settings.ipv6 ? { ipv6: settings.ipv6 } : {}), aliases, ...(settings.ipamConfigGiven ? { ipamConfigGiven: true } : {}) };
    const sandboxId = record.sandboxId;
    if (sandboxId !== undefined) {
      await networking.connect(network.id, sandboxId, { name: record.config.name, aliases, ...(join.ipv4 ? { ipv4: join.ipv4 } : {}), ...(join.ipv6 ? { ipv6: join.ipv6 } : {}) });
      join.networkId = network.id;
      this.updateHosts(record, networking.addresses(sandboxId));
    } else {
      this.validateJoin(join);
    }
    record.config = { ...record.config, networks: [...record.config.networks.filter((j) => !this.isJoinOf(j, network)), join] };
    await this.save(record);
  }

  /**
   * Docker's network disconnect: a running container leaves the network at once; any container
   * is no longer configured on it. A stopped container may leave a network that is gone (named as
   * it was), so that it can start again.
   */
  async disconnect(reference: string, networkReference: string): Promise<void> {
    const record = this.find(reference);
    const { networking } = this.deps;
    let network: { id: string; name: string } | undefined;
    try {
      network = networking.find(networkReference);
    } catch (error) {
      if (record.sandboxId !== undefined || !record.config.networks.some((j) => j.network === networkReference || j.networkId === networkReference)) throw error;
    }
    const isIt = (join: NetworkJoin): boolean => (network ? this.isJoinOf(join, network) : join.network === networkReference || join.networkId === networkReference);
    const sandboxId = record.sandboxId;
    if (sandboxId !== undefined && network) {
      await networking.disconnect(network.id, sandboxId);
      this.updateHosts(record, networking.addresses(sandboxId));
    } else if (!record.config.networks.some(isIt)) {
      throw new NotConnectedError(`container ${record.id} is not connected to the network ${network?.name ?? networkReference}`);
    }
    record.config = { ...record.config, networks: record.config.networks.filter((j) => !isIt(j)) };
    await this.save(record);
  }

  /** The network, or none when it is gone (or the reference is ambiguous: the start says so). */
  private findIfThere(reference: string): ReturnType<Networking['find']> | undefined {
    try {
      return this.deps.networking.find(reference);
    } catch {
      return undefined;
    }
  }

  /** Whether a join is of this network: the one joined before, or, never joined, the one its name finds now. */
  private isJoinOf(join: NetworkJoin, network: { id: string }): boolean {
    if (join.networkId !== undefined) return join.networkId === network.id;
    return this.findIfThere(join.network)?.id === network.id;
  }

  /** /etc/hosts lists the container's addresses (plain) on every network it is on. */
  private updateHosts(record: ContainerRecord, addresses: readonly string[]): void {
    writeHosts(this.stateDir(record.id), { hostname: record.config.hostname, addresses: [...addresses] });
  }

  /**
   * SIGTERM, then SIGKILL after `timeoutSeconds` (the container's --stop-timeout, else 10); a
   * negative timeout (as Docker's -1) never kills. Resolves once the process has exited.
   */
  async stop(reference: string, timeoutSeconds?: number): Promise<void> {
    const record = this.find(reference);
    if (record.state.restarting) {
      record.manuallyStopped = true;
      await this.cancelRestart(record);
      this.emit(record, 'stop');
      return;
    }
    if (record.state.status !== 'running') return;
    record.manuallyStopped = true;
    const exited = this.wait(record.id);
    this.signal(record, 'SIGTERM');
    const delayMs = (timeoutSeconds ?? record.config.stopTimeout ?? 10) * 1000;
    const timer = delayMs >= 0 && delayMs <= MAX_TIMER_MS ? setTimeout(() => this.signal(record, 'SIGKILL'), delayMs) : undefined;
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
    this.emit(record, 'stop');
  }

  /** Docker's restart: a stop (as `stop`, if it runs), then a start, which joins its networks again (its static addresses with them). */
  async restart(reference: string, timeoutSeconds?: number): Promise<void> {
    const record = this.find(reference);
    // A --rm container is not removed by the stop of a restart, as dockerd keeps it.
    this.restarting.add(record.id);
    try {
      await this.stop(record.id, timeoutSeconds);
    } finally {
      this.restarting.delete(record.id);
    }
    await this.start(record.id);
    this.emit(record, 'restart');
  }

  /**
   * Docker's rename: the new name is checked as at create; the container's endpoints take it, so
   * peers on user-defined networks resolve it (and no longer the old one). Hostname and /etc/hosts
   * stay, as in Docker.
   */
  async rename(reference: string, name: string): Promise<void> {
    const record = this.find(reference);
    const wanted = name.startsWith('/') ? name.slice(1) : name;
    if (wanted === '') throw new InvalidContainerConfigError('Neither old nor new names may be empty');
    if (wanted === record.config.name) throw new InvalidContainerConfigError('Renaming a container with the same name as its current name');
    try {
      this.validateName(wanted);
    } catch (error) {
      // dockerd's wording for a rename: the name with its slash, after what failed.
      (error as Error).message = `Error when allocating new name: ${(error as Error).message.replace(`(${wanted})`, `(/${wanted})`)}`;
      throw error;
    }
    const old = record.config.name;
    // Held from now on: a create or rename meanwhile finds the name taken.
    this.byName.set(wanted, record);
    try {
      if (record.sandboxId !== undefined) await this.deps.networking.renameEndpoints(record.sandboxId, wanted);
    } catch (error) {
      this.byName.delete(wanted);
      throw error;
    }
    this.byName.delete(old);
    record.config = { ...record.config, name: wanted };
    await this.save(record);
    this.emit(record, 'rename', { oldName: `/${old}` });
  }

  /** Sends a signal (a name, or a number such as a real-time signal's) to the container's process. */
  async kill(reference: string, signal: NodeJS.Signals | number = 'SIGKILL'): Promise<void> {
    const record = this.find(reference);
    // As dockerd: a kill during a restart's backoff ends the restarts.
    if (record.state.status !== 'running' && !record.state.restarting) throw new ContainerConflictError(`Container ${record.id} is not running`);
    record.manuallyStopped = true;
    if (record.state.restarting) return this.cancelRestart(record);
    this.signal(record, signal);
  }

  /**
   * Resolves with the exit code: once the container is not running (at once if it is not), at
   * the end of its next run, or once it is removed. Removal ends every wait.
   */
  wait(reference: string, condition: WaitCondition = 'not-running'): Promise<number> {
    const record = this.find(reference);
    if (condition === 'not-running' && record.state.status !== 'running' && !record.state.restarting) return Promise.resolve(record.state.exitCode ?? 0);
    return new Promise((resolve) => {
      const waiters = condition === 'removed' ? this.removalWaiters : this.exitWaiters;
      waiters.set(record.id, [...(waiters.get(record.id) ?? []), resolve]);
    });
  }

  /**
   * Removes a stopped container (a running one only with `force`, which kills it first, and its
   * end releases its network): its record, then its state directory, so a crash between two steps
   * leaves either a container that rm removes again or a directory of no container that the next
   * start removes.
   */
  remove(reference: string, force = false): Promise<void> {
    const record = this.find(reference);
    // A --rm container's own removal may meet an `rm -f`: one removal, both wait for it.
    return this.removals.run(record.id, () => this.removeRecord(record, force));
  }

  private async removeRecord(record: ContainerRecord, force: boolean): Promise<void> {
    if (record.state.restarting) {
      if (!force) throw new ContainerConflictError(`You cannot remove a restarting container ${record.id}. Stop the container before attempting removal or force remove`);
      await this.cancelRestart(record);
    }
    if (record.state.status === 'running') {
      if (!force) throw new ContainerConflictError(`You cannot remove a running container ${record.id}. Stop the container before attempting removal or force remove`);
      record.manuallyStopped = true;
      const exited = this.wait(record.id);
      this.signal(record, 'SIGKILL');
      await exited;
      crashPoint('container-rm:process-gone');
    }
    // Only a start under way holds one now.
    await this.releaseNetwork(record);
    await this.deps.store.delete(CONTAINER_PREFIX + record.id);
    this.untrack(record);
    crashPoint('container-rm:record-deleted');
    fs.rmSync(this.stateDir(record.id), { recursive: true, force: true });
    this.restartTimers.forget(record.id);
    this.emit(record, 'destroy');
    const code = record.state.exitCode ?? 0;
    for (const resolve of [...(this.exitWaiters.get(record.id) ?? []), ...(this.removalWaiters.get(record.id) ?? [])]) resolve(code);
    this.exitWaiters.delete(record.id);
    this.removalWaiters.delete(record.id);
  }

  /** A --rm container's end: removed, and a failure to remove it logged (it stays for `rm`). */
  private async autoRemove(record: ContainerRecord): Promise<void> {
    if (!this.containers.has(record.id)) return;
    await this.remove(record.id, true).catch((error: unknown) => this.deps.log.error({ err: error, container: record.id }, 'could not remove the --rm container'));
  }

  /** Removes every stopped container the filter keeps; resolves with their IDs (Docker's ContainersDeleted). */
  async prune(keep: (record: ContainerRecord) => boolean): Promise<string[]> {
    const pruned: string[] = [];
    for (const record of this.list().filter((c) => c.state.status !== 'running' && keep(c))) {
      try {
        await this.remove(record.id);
        pruned.push(record.id);
      } catch (error) {
        // Started (or removed) since it was listed: not one to prune.
        if (!(error instanceof ContainerConflictError || error instanceof NoSuchContainerError)) throw error;
      }
    }
    return pruned;
  }

  /**
   * The channel to a running container's stdin and pty; undefined while it does not run (or
   * runs without -t and -i).
   */
  control(reference: string): ControlChannel | undefined {
    const record = this.find(reference);
    if (record.state.status !== 'running' || !(record.config.tty || record.config.openStdin)) return undefined;
    let channel = this.controls.get(record.id);
    if (!channel) {
      try {
        channel = ControlChannel.ofContainer(path.join(this.stateDir(record.id), 'control'));
      } catch (error) {
        // Its shim has just ended (ENXIO: no reader), or predates the channel.
        this.deps.log.warn({ err: error, container: record.id }, 'cannot reach the container\'s stdin');
        return undefined;
      }
      this.controls.set(record.id, channel);
    }
    return channel;
  }

  /** Docker's resize: the pty's new size; a container without one takes it and nothing changes. */
  resize(reference: string, size: ConsoleSize): void {
    const record = this.find(reference);
    if (record.state.status !== 'running') throw new ContainerConflictError(`Container ${record.id} is not running`);
    if (record.config.tty) this.control(record.id)?.resize(size.rows, size.columns);
  }

  /**
   * Runs a command in a running container's namespaces and root, with its environment and
   * confined as its first process (as Docker's exec), passing its output on as it comes
   * (1 = stdout, 2 = stderr; a pty's all on 1); resolves with its exit code. With a pty or
   * stdin, `onControl` is handed the channel to them once the command runs.
   */
  /** `env` is added to the container's (a later entry wins, a bare KEY unsets), `workdir` replaces its working directory, as dockerd's exec. */
  async exec(reference: string, cmd: string[], onOutput: (stream: 1 | 2, chunk: Buffer) => void, stdio: ShimStdio & { onControl?: (channel: ControlChannel) => void; env?: readonly string[]; workdir?: string } = {}): Promise<number> {
    const record = this.find(reference);
    const { config, state } = record;
    if (state.restarting) throw new ContainerConflictError(`Container ${record.id} is restarting, wait until the container is running`);
    if (state.status !== 'running' || state.pid === undefined || state.startTicks === undefined) throw new ContainerConflictError(`Container ${record.id} is not running`);
    if (cmd.length === 0) throw new InvalidContainerConfigError('No exec command specified');
    checkExecSettings(stdio);
    const workdir = stdio.workdir === undefined ? config.workdir : path.posix.normalize(stdio.workdir);
    let child: StreamingProcess;
    try {
      const { tty, openStdin, size } = stdio;
      child = await execShim({ stateDir: this.stateDir(record.id), pid: state.pid, startTicks: state.startTicks, workdir, cmd, env: environmentEntries(environmentOf([...config.env, ...(stdio.env ?? [])])), confinement: this.confinementOf(config), tty, openStdin, size });
    } catch {
      return 126;
    }
    const control = child.stdin && new ControlChannel(child.stdin);
    if (control) stdio.onControl?.(control);
    child.stdout.on('data', (chunk: Buffer) => onOutput(1, chunk));
    child.stderr.on('data', (chunk: Buffer) => onOutput(2, chunk));
    try {
      return await child.exited;
    } finally {
      control?.close();
    }
  }

  /** How the shim confines the container's processes; built seccomp filters are kept under the root. */
  private confinementOf(config: ContainerConfig): ShimConfinement {
    return { ...shimConfinement(config.security), seccompCache: this.seccompCache() };
  }

  /** A root-only directory: a filter a container could write there would be loaded into the next one. */
  private seccompCache(): string {
    const dir = path.join(this.deps.root, 'seccomp');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  private validate(config: ContainerConfig): void {
    if (config.cmd.length === 0) throw new InvalidContainerConfigError('No command specified: give the command after --');
    const badEnv = config.env.map(invalidEnvEntry).find((reason) => reason !== undefined);
    if (badEnv) throw new InvalidContainerConfigError(badEnv);
    // They become C strings of the shim's argv: a NUL would cut them short.
    const argv: Array<[string, string]> = [...config.cmd.map((arg): [string, string] => ['command argument', arg]), ['working directory', config.workdir], ['rootfs', config.rootfs]];
    const cut = argv.find(([, value]) => value.includes('\0'));
    if (cut) throw new InvalidContainerConfigError(`the ${cut[0]} ${JSON.stringify(cut[1])} holds a NUL character, which a process cannot be given`);
    this.validateName(config.name);
    let isDir = false;
    try {
      isDir = fs.statSync(config.rootfs).isDirectory();
    } catch {
      // Reported below.
    }
    if (!isDir) throw new InvalidContainerConfigError(`rootfs ${config.rootfs} is not a directory: give a directory holding the container's root file system`);
    if (!config.workdir.startsWith('/')) throw new InvalidContainerConfigError(`the working directory "${config.workdir}" is invalid, it needs to be an absolute path`);
    if (!isHostname(config.hostname)) {
      throw new InvalidContainerConfigError(`invalid hostname ${JSON.stringify(config.hostname)}: use letters, digits and hyphens (RFC 1123), in labels of at most 63 characters joined by dots, 64 characters in all`);
    }
    const badDomain = config.dns.search?.find((domain) => !isSearchDomain(domain));
    if (badDomain !== undefined) throw new InvalidContainerConfigError(`invalid DNS search domain ${JSON.stringify(badDomain)}: use a domain name (letters, digits and hyphens in labels joined by dots)`);
    const badOption = config.dns.options?.find((option) => !isResolverOption(option));
    if (badOption !== undefined) throw new InvalidContainerConfigError(`invalid DNS option ${JSON.stringify(badOption)}: one resolv.conf option (such as ndots:2) per entry, without spaces`);
    // Throws for a security option netctl does not implement.
    noNewPrivileges(config.security.securityOpt);
    const policy = config.restartPolicy;
    if (policy && policy.name !== 'no' && config.autoRemove) throw new InvalidContainerConfigError("can't create 'AutoRemove' container with restart policy");
    const policyProblem = policy && restartPolicyProblem(policy.name, policy.maximumRetryCount);
    if (policyProblem) throw new InvalidContainerConfigError(policyProblem);
    if ((config.network === 'host' || config.network === 'none') && (config.ipv4 || config.ipv6 || config.mac || config.aliases.length > 0)) {
      throw new InvalidContainerConfigError(`--ip, --ip6, --mac-address and --network-alias need a network the container joins; "${config.network}" has none`);
    }
    // The network is looked up at start, as dockerd's: a 404 at create is taken by Docker's CLI for a missing image.
    for (const join of config.networks) this.validateJoin(join);
    if (config.mac !== undefined && !MAC.test(config.mac)) throw new InvalidContainerConfigError(`invalid MAC address "${config.mac}": use six hex pairs like 02:42:ac:11:00:02`);
    const named = config.networks[0] && this.findIfThere(config.networks[0].network);
    if (named?.driver === 'host' || named?.driver === 'null') {
      throw new InvalidContainerConfigError(`network ${named.name} (driver ${named.driver}) has no interface to give a sandbox: a container is on it only by running with --network ${named.name}`);
    }
  }

  /** What can be checked of a join before the start: the addresses' form and the aliases (names the DNS answers). */
  private validateJoin(join: NetworkJoin): void {
    for (const [family, ip, version] of [['IPv4', join.ipv4, 4], ['IPv6', join.ipv6, 6]] as const) {
      if (ip !== undefined && net.isIP(ip) !== version) throw new InvalidContainerConfigError(`invalid ${family} address "${ip}"`);
    }
    for (const alias of join.aliases) {
      const problem = nameProblem(alias);
      if (problem) throw new InvalidContainerConfigError(invalidNameMessage('network alias', alias, problem));
    }
  }

  /** A name for a new container or a rename: well-formed and free. */
  private validateName(name: string): void {
    const problem = nameProblem(name);
    // Docker's message for the characters; Docker has no limit on the length.
    if (problem === 'characters') throw new InvalidContainerConfigError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (problem) throw new InvalidContainerConfigError(invalidNameMessage('container name', name, problem));
    const holder = this.byName.get(name);
    if (holder) throw new ContainerConflictError(`Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }

  private signal(record: ContainerRecord, signal: NodeJS.Signals | number): void {
    const { pid, startTicks } = record.state;
    // Never signal a PID that now belongs to another process.
    if (pid === undefined || startTicks === undefined || !isAlive(pid, startTicks)) return;
    this.emit(record, 'kill', { signal: String(typeof signal === 'number' ? signal : parseSignal(signal)) });
    try {
      process.kill(pid, signal);
    } catch {
      // It exited in between.
    }
  }

  /**
   * Watches a running container's shim, which exits once it has recorded the container's exit
   * code. Records written before shims were watched name only the container's process.
   */
  private watchShim(record: ContainerRecord): void {
    const { pid, startTicks, shimPid, shimStartTicks } = record.state;
    const watched = shimPid !== undefined && shimStartTicks !== undefined ? { pid: shimPid, startTicks: shimStartTicks } : pid !== undefined && startTicks !== undefined ? { pid, startTicks } : undefined;
    const ended = (seen: boolean): void => {
      this.watchers.delete(record.id);
      void this.shimEnded(record, seen).catch((error: unknown) => this.deps.log.error({ err: error, container: record.id }, 'could not record the container\'s exit'));
    };
    const watch = watched && watchExit(watched, () => ended(true));
    if (watch) this.watchers.set(record.id, watch);
    else ended(false);
  }

  /**
   * The shim is gone: it recorded the exit code, or it was killed first. Its container dies with
   * it (the shim asks the kernel for that); one that outlived it all the same is killed here. An
   * end the daemon saw is a kill (137, as Docker reports a container whose shim died); one that
   * came while no daemon watched (a reboot, say) is unknown (255, as Docker shows it).
   */
  private async shimEnded(record: ContainerRecord, seen: boolean): Promise<void> {
    const code = this.readExitCode(record);
    if (code !== undefined) return this.markExited(record, code);
    const { pid, startTicks } = record.state;
    const survivor = pid !== undefined && startTicks !== undefined && isAlive(pid, startTicks);
    if (survivor) {
      this.signal(record, 'SIGKILL');
      await new Promise<void>((resolve) => watchExit({ pid, startTicks }, resolve) ?? resolve());
    }
    this.deps.log.warn({ container: record.id, pid }, survivor ? 'the container\'s shim died without recording its exit: killed the container' : 'the container ended without its exit being recorded');
    await this.markExited(record, survivor || seen ? KILLED_EXIT : UNKNOWN_EXIT);
  }

  private readExitCode(record: ContainerRecord): number | undefined {
    try {
      const code = Number(fs.readFileSync(path.join(this.stateDir(record.id), 'exit'), 'utf8').trim());
      return Number.isInteger(code) ? code : undefined;
    } catch {
      return undefined;
    }
  }

  private async markExited(record: ContainerRecord, code: number): Promise<void> {
    if (record.state.status !== 'running') return;
    this.controls.get(record.id)?.close();
    this.controls.delete(record.id);
    const finishedAt = new Date();
    const restart = !record.manuallyStopped && shouldRestart(record.config.restartPolicy, { exitCode: code, restartCount: record.restartCount ?? 0, manuallyStopped: false });
    record.state = { ...record.state, status: 'exited', exitCode: code, finishedAt: finishedAt.toISOString(), ...(restart ? { restarting: true } : {}) };
    if (restart) record.restartCount = (record.restartCount ?? 0) + 1;
    delete record.state.pid;
    delete record.state.startTicks;
    delete record.state.shimPid;
    delete record.state.shimStartTicks;
    delete record.state.ports;
    // Forgets the sandbox at once; deleted while the exit is recorded, and before any waiter hears of it.
    const released = this.releaseNetwork(record);
    await this.save(record).catch((error: unknown) => this.deps.log.error({ err: error, container: record.id }, 'could not record the exit'));
    this.emit(record, 'die', { exitCode: String(code) });
    await released;
    this.resolveExitWaiters(record.id, code);
    if (restart) {
      const ranMs = finishedAt.getTime() - Date.parse(record.state.startedAt ?? finishedAt.toISOString());
      this.restartTimers.schedule(record.id, ranMs, () => void this.restartByPolicy(record));
    } else if (record.config.autoRemove && !this.restarting.has(record.id)) await this.autoRemove(record);
  }

  private resolveExitWaiters(id: string, code: number): void {
    for (const resolve of this.exitWaiters.get(id) ?? []) resolve(code);
    this.exitWaiters.delete(id);
  }

  /** A backoff's end: the container starts again, or stays exited if that fails (as dockerd, which tries no more). */
  private async restartByPolicy(record: ContainerRecord): Promise<void> {
    if (!record.state.restarting || !this.containers.has(record.id) || this.closed) return;
    try {
      await this.start(record.id, true);
    } catch (error) {
      this.deps.log.error({ err: error, container: record.id }, 'could not restart the container by its policy');
      // Called from a timer: nothing above would catch a failure to record it.
      if (record.state.restarting) await this.cancelRestart(record).catch((failure: unknown) => this.deps.log.error({ err: failure, container: record.id }, 'could not record the end of its restarts'));
    }
  }

  /** Ends a pending restart: the container is exited, and waiters for that are answered. */
  private async cancelRestart(record: ContainerRecord): Promise<void> {
    this.restartTimers.cancel(record.id);
    delete record.state.restarting;
    try {
      await this.save(record);
    } finally {
      this.resolveExitWaiters(record.id, record.state.exitCode ?? 0);
    }
  }

  /** A start by the user: the policy counts its restarts and backoff from zero again. */
  private resetRestarts(record: ContainerRecord): void {
    this.restartTimers.forget(record.id);
    delete record.restartCount;
    delete record.manuallyStopped;
  }

  /** A container event, with Docker's attributes: the container's labels, image and name. */
  private emit(record: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.deps.events?.publish('container', action, record.id, { ...record.config.labels, image: record.config.image ?? 'busybox', name: record.config.name, ...extra });
  }

  private async save(record: ContainerRecord): Promise<void> {
    if (!this.containers.has(record.id)) return;
    await this.deps.store.put(CONTAINER_PREFIX + record.id, Buffer.from(JSON.stringify(record)));
  }
}

/**
 * dockerd's rules: a static address only on a user-defined network (the default bridge's subnet is
 * the daemon's to change), and only in a family whose subnet the user gave at network create;
 * checked at each start and connect, as dockerd checks them.
 */
function refuseStaticAddress(network: ReturnType<Networking['find']>, join: { ipv4?: string; ipv6?: string }): void {
  if (network.predefined && (join.ipv4 || join.ipv6)) throw new InvalidContainerConfigError('user specified IP address is supported on user defined networks only');
  const userSubnet = (v6: boolean): boolean => network.allocations.some((a) => a.v6 === v6 && a.dynamic !== true);
  if ((join.ipv4 && !userSubnet(false)) || (join.ipv6 && !userSubnet(true))) {
    throw new InvalidContainerConfigError('user specified IP address is supported only when connecting to networks with user configured subnets');
  }
}

/** An exec's Env entries and WorkingDir (absolute), checked as a container's are at create. */
export function checkExecSettings(settings: { env?: readonly string[]; workdir?: string }): void {
  const badEnv = (settings.env ?? []).map(invalidEnvEntry).find((reason) => reason !== undefined);
  if (badEnv) throw new InvalidContainerConfigError(badEnv);
  const { workdir } = settings;
  if (workdir !== undefined && (!workdir.startsWith('/') || workdir.includes('\0'))) throw new InvalidContainerConfigError(`the working directory ${JSON.stringify(workdir)} is invalid, it needs to be an absolute path`);
}

/** How the shim gives the container its stdio: a pty with -t, stdin open with -i. */
function stdioOf(config: ContainerConfig): ShimStdio {
  return { tty: config.tty === true, openStdin: config.openStdin === true, ...(config.consoleSize ? { size: config.consoleSize } : {}) };
}
