// The minimal container launcher: a container is a sandbox (its network namespace, with its
// endpoints), a state directory (its /etc files, its log, its exit code, its writable layer) and a
// shim that runs its first process. Creating is a transaction; a container's process outliving
// the daemon is found again, by PID and start time, when the daemon comes back.
import fs from 'node:fs';
import path from 'node:path';
import type pino from 'pino';
import { currentNamespacePath } from '../native/netns';
import { locateTool, spawnStreaming, type StreamingProcess } from '../native/process';
import type { PortMapping } from '../drivers/driver';
import type { Store } from '../store/types';
import { Rollback } from '../util/rollback';
import type { ContainerConfig, ContainerRecord } from './container-record';
import { environmentOf, invalidEnvEntry } from './environment';
import { writeEtcFiles, writeHosts } from './etc-files';
import { isAlive, startTicksOf } from './process';
import { startShim } from './shim';
import { newId } from '../util/id';

const CONTAINER_PREFIX = 'containers/';
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** The kernel's limit of a hostname (HOST_NAME_MAX). */
const MAX_HOSTNAME_BYTES = 64;
/** The longest delay a timer takes (2^31 - 1 ms, 24.8 days); a longer stop timeout waits without one. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the launcher needs of the CNM core: sandboxes and endpoints. */
export interface Networking {
  createSandbox(options: { containerId?: string; dns?: string[] }): Promise<{ id: string; key: string }>;
  sandbox(id: string): { key: string };
  deleteSandbox(id: string): Promise<void>;
  publish(sandboxId: string, ports: readonly PortMapping[]): Promise<PortMapping[]>;
  connect(network: string, sandboxId: string, request: { name?: string; hostname?: string; ipv4?: string; ipv6?: string; aliases?: string[] }): Promise<{ ipv4?: { address: string }; ipv6?: { address: string } }>;
  /** Whether the network's containers resolve names through the embedded DNS. */
  servesNames(network: string): boolean;
}

export interface LauncherDeps {
  store: Store;
  networking: Networking;
  log: pino.Logger;
  /** Durable per-container directories go under root/containers. */
  root: string;
}

/** 404: no such container. */
export class NoSuchContainerError extends Error {
  override readonly name = 'NoSuchContainerError';
}

/** 409: the request conflicts with the container's state or another container's name. */
export class ContainerConflictError extends Error {
  override readonly name = 'ContainerConflictError';
}

/** 400: the container's configuration is wrong. */
export class InvalidContainerConfigError extends Error {
  override readonly name = 'InvalidContainerConfigError';
}

type Defaulted = 'name' | 'hostname' | 'workdir' | 'env' | 'aliases' | 'network' | 'ports' | 'dns';
export type CreateRequest = Omit<ContainerConfig, Defaulted> & Partial<Pick<ContainerConfig, Defaulted>>;

export class Launcher {
  private readonly containers = new Map<string, ContainerRecord>();
  /** Waiters for each container's exit, resolved with its code. */
  private readonly exitWaiters = new Map<string, Array<(code: number) => void>>();
  private readonly watchers = new Map<string, fs.FSWatcher>();

  constructor(private readonly deps: LauncherDeps) {}

  /** Loads the stored containers; running ones are adopted again, or marked exited with their code. */
  async load(): Promise<void> {
    for (const entry of await this.deps.store.list(CONTAINER_PREFIX)) {
      const record = JSON.parse(entry.value.toString('utf8')) as ContainerRecord;
      // Records written before `--dns` was kept have no DNS settings: the host's, as then.
      record.config.dns ??= {};
      this.containers.set(record.id, record);
      if (record.state.status !== 'running') continue;
      if (record.state.pid !== undefined && record.state.startTicks !== undefined && isAlive(record.state.pid, record.state.startTicks)) {
        this.watchExit(record);
      } else {
        await this.markExited(record, this.readExitCode(record) ?? 255);
      }
    }
  }

  /** Stops watching exit files; containers keep running. */
  close(): void {
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  /** Newest first, as `ps` lists them. */
  list(): ContainerRecord[] {
    return [...this.containers.values()].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  /** By full ID, exact name, or unique ID prefix, as Docker resolves a container. */
  find(reference: string): ContainerRecord {
    const byId = this.containers.get(reference);
    if (byId) return byId;
    const byName = this.named(reference.startsWith('/') ? reference.slice(1) : reference);
    if (byName) return byName;
    const byPrefix = /^[0-9a-f]+$/.test(reference) ? [...this.containers.values()].filter((c) => c.id.startsWith(reference)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    throw new NoSuchContainerError(`No such container: ${reference}`);
  }

  private named(name: string): ContainerRecord | undefined {
    for (const container of this.containers.values()) if (container.config.name === name) return container;
    return undefined;
  }

  stateDir(id: string): string {
    return path.join(this.deps.root, 'containers', id);
  }

  /** The sandbox, endpoints, /etc files and record of a new container; nothing runs yet. */
  async create(request: CreateRequest): Promise<ContainerRecord> {
    const id = newId();
    const config: ContainerConfig = {
      name: request.name ?? `netctl_${id.slice(0, 8)}`,
      hostname: request.hostname ?? id.slice(0, 12),
      cmd: request.cmd,
      env: request.env?.some((kv) => kv.startsWith('PATH=')) ? request.env : [DEFAULT_PATH, ...(request.env ?? [])],
      // Cleaned as Docker cleans it: "/../etc" is "/etc", inside the container's root.
      workdir: path.posix.normalize(request.workdir ?? '/'),
      rootfs: request.rootfs,
      network: request.network ?? 'bridge',
      aliases: request.aliases ?? [],
      ports: request.ports ?? [],
      dns: request.dns ?? {},
      ...(request.ipv4 !== undefined ? { ipv4: request.ipv4 } : {}),
      ...(request.ipv6 !== undefined ? { ipv6: request.ipv6 } : {}),
    };
    this.validate(config);
    const record: ContainerRecord = { id, created: new Date().toISOString(), config, state: { status: 'created' } };
    // Listed at once: a second create with the same name now conflicts.
    this.containers.set(id, record);
    const rollback = new Rollback();
    rollback.push('forgetting the container', () => this.containers.delete(id));
    try {
      const stateDir = this.stateDir(id);
      fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      rollback.push('removing the state directory', () => fs.rmSync(stateDir, { recursive: true, force: true }));
      const addresses: string[] = [];
      let embeddedDns = false;
      if (config.network !== 'host') {
        const sandbox = await this.deps.networking.createSandbox({ containerId: id, ...(config.dns.servers?.length ? { dns: config.dns.servers } : {}) });
        rollback.push('removing the sandbox', () => this.deps.networking.deleteSandbox(sandbox.id));
        record.sandboxId = sandbox.id;
        if (config.network !== 'none') {
          const endpoint = await this.deps.networking.connect(config.network, sandbox.id, { name: config.name, hostname: config.hostname, aliases: config.aliases, ...(config.ipv4 ? { ipv4: config.ipv4 } : {}), ...(config.ipv6 ? { ipv6: config.ipv6 } : {}) });
          embeddedDns = this.deps.networking.servesNames(config.network);
          for (const held of [endpoint.ipv4, endpoint.ipv6]) if (held) addresses.push(held.address.split('/')[0]!);
        }
      }
      writeEtcFiles(stateDir, { hostname: config.hostname, addresses }, embeddedDns, config.dns);
      await this.save(record);
      return record;
    } catch (error) {
      for (const failure of await rollback.run()) this.deps.log.error({ err: failure.error, container: id }, `rollback: ${failure.what} failed`);
      throw error;
    }
  }

  /** Starts the container's process; a created or exited container may be started. */
  async start(reference: string): Promise<void> {
    const record = this.find(reference);
    if (record.state.status === 'running') return;
    const stateDir = this.stateDir(record.id);
    fs.rmSync(path.join(stateDir, 'exit'), { force: true });
    const { config } = record;
    let ports: PortMapping[] = [];
    try {
      if (config.ports.length > 0) {
        if (!record.sandboxId || config.network === 'none') throw new InvalidContainerConfigError(`publishing ports needs a network; the container runs with --network ${config.network}`);
        ports = await this.deps.networking.publish(record.sandboxId, config.ports);
      }
      const pid = await startShim({
        stateDir,
        netns: record.sandboxId ? this.deps.networking.sandbox(record.sandboxId).key : currentNamespacePath(),
        rootfs: config.rootfs,
        hostname: config.hostname,
        workdir: config.workdir,
        cmd: config.cmd,
      }, environmentOf(config.env));
      record.state = { status: 'running', pid, startTicks: startTicksOf(pid) ?? 0, startedAt: new Date().toISOString(), ...(ports.length > 0 ? { ports } : {}) };
      this.watchExit(record);
      await this.save(record);
    } catch (error) {
      if (ports.length > 0) await this.withdrawPorts(record);
      record.state = { ...record.state, status: record.state.status === 'created' ? 'created' : 'exited', error: (error as Error).message };
      await this.save(record);
      throw error;
    }
  }

  /** After a connect or disconnect: /etc/hosts lists the container's addresses (plain) on every network it is on. */
  updateHosts(reference: string, addresses: readonly string[]): void {
    const record = this.find(reference);
    writeHosts(this.stateDir(record.id), { hostname: record.config.hostname, addresses: [...addresses] });
  }

  /**
   * SIGTERM, then SIGKILL after `timeoutSeconds`; a negative timeout (as Docker's -1) never
   * kills. Resolves once the process has exited.
   */
  async stop(reference: string, timeoutSeconds = 10): Promise<void> {
    const record = this.find(reference);
    if (record.state.status !== 'running') return;
    const exited = this.wait(record.id);
    this.signal(record, 'SIGTERM');
    const delayMs = timeoutSeconds * 1000;
    const timer = delayMs >= 0 && delayMs <= MAX_TIMER_MS ? setTimeout(() => this.signal(record, 'SIGKILL'), delayMs) : undefined;
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a signal (a name, or a number such as a real-time signal's) to the container's process. */
  async kill(reference: string, signal: NodeJS.Signals | number = 'SIGKILL'): Promise<void> {
    const record = this.find(reference);
    if (record.state.status !== 'running') throw new ContainerConflictError(`Container ${record.id} is not running`);
    this.signal(record, signal);
  }

  /** Resolves with the exit code once the container is not running (at once if it is not). */
  wait(reference: string): Promise<number> {
    const record = this.find(reference);
    if (record.state.status !== 'running') return Promise.resolve(record.state.exitCode ?? 0);
    return new Promise((resolve) => {
      const waiters = this.exitWaiters.get(record.id) ?? [];
      waiters.push(resolve);
      this.exitWaiters.set(record.id, waiters);
    });
  }

  /** Removes a stopped container (a running one only with `force`, which kills it first). */
  async remove(reference: string, force = false): Promise<void> {
    const record = this.find(reference);
    if (record.state.status === 'running') {
      if (!force) throw new ContainerConflictError(`You cannot remove a running container ${record.id}. Stop the container before attempting removal or force remove`);
      const exited = this.wait(record.id);
      this.signal(record, 'SIGKILL');
      await exited;
    }
    if (record.sandboxId) await this.deps.networking.deleteSandbox(record.sandboxId);
    fs.rmSync(this.stateDir(record.id), { recursive: true, force: true });
    await this.deps.store.delete(CONTAINER_PREFIX + record.id);
    this.containers.delete(record.id);
  }

  /**
   * Runs a command in all of a running container's namespaces, passing its output on as it
   * comes (1 = stdout, 2 = stderr); resolves with its exit code.
   */
  async exec(reference: string, cmd: string[], onOutput: (stream: 1 | 2, chunk: Buffer) => void): Promise<number> {
    const record = this.find(reference);
    if (record.state.status !== 'running') throw new ContainerConflictError(`Container ${record.id} is not running`);
    if (cmd.length === 0) throw new InvalidContainerConfigError('No exec command specified');
    const pid = String(record.state.pid);
    const args = ['--target', pid, '--mount', '--uts', '--ipc', '--net', '--pid', `--root=/proc/${pid}/root`, `--wd=/proc/${pid}/root${record.config.workdir}`, ...cmd];
    // posix_spawn (the addon), not child_process, which would fork the whole daemon for each exec.
    let child: StreamingProcess;
    try {
      child = await spawnStreaming(locateTool('nsenter', 'util-linux'), ['nsenter', ...args], { env: environmentOf(record.config.env) });
    } catch {
      return 126;
    }
    child.stdout.on('data', (chunk: Buffer) => onOutput(1, chunk));
    child.stderr.on('data', (chunk: Buffer) => onOutput(2, chunk));
    return child.exited;
  }

  private validate(config: ContainerConfig): void {
    if (config.cmd.length === 0) throw new InvalidContainerConfigError('No command specified: give the command after --');
    const badEnv = config.env.map(invalidEnvEntry).find((reason) => reason !== undefined);
    if (badEnv) throw new InvalidContainerConfigError(badEnv);
    // They become C strings of the shim's argv: a NUL would cut them short.
    const argv: Array<[string, string]> = [...config.cmd.map((arg): [string, string] => ['command argument', arg]), ['hostname', config.hostname], ['working directory', config.workdir], ['rootfs', config.rootfs]];
    const cut = argv.find(([, value]) => value.includes('\0'));
    if (cut) throw new InvalidContainerConfigError(`the ${cut[0]} ${JSON.stringify(cut[1])} holds a NUL character, which a process cannot be given`);
    if (Buffer.byteLength(config.hostname) > MAX_HOSTNAME_BYTES) throw new InvalidContainerConfigError(`the hostname "${config.hostname.slice(0, MAX_HOSTNAME_BYTES)}…" is longer than ${MAX_HOSTNAME_BYTES} bytes, the kernel's limit`);
    if (!NAME.test(config.name)) throw new InvalidContainerConfigError(`Invalid container name (${config.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const holder = this.named(config.name);
    if (holder) throw new ContainerConflictError(`Conflict. The container name "/${config.name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    let isDir = false;
    try {
      isDir = fs.statSync(config.rootfs).isDirectory();
    } catch {
      // Reported below.
    }
    if (!isDir) throw new InvalidContainerConfigError(`rootfs ${config.rootfs} is not a directory: give a directory holding the container's root file system`);
    if (!config.workdir.startsWith('/')) throw new InvalidContainerConfigError(`the working directory "${config.workdir}" is invalid, it needs to be an absolute path`);
    if ((config.network === 'host' || config.network === 'none') && (config.ipv4 || config.ipv6 || config.aliases.length > 0)) {
      throw new InvalidContainerConfigError(`--ip, --ip6 and --network-alias need a network the container joins; "${config.network}" has none`);
    }
  }

  private signal(record: ContainerRecord, signal: NodeJS.Signals | number): void {
    const { pid, startTicks } = record.state;
    // Never signal a PID that now belongs to another process.
    if (pid === undefined || startTicks === undefined || !isAlive(pid, startTicks)) return;
    try {
      process.kill(pid, signal);
    } catch {
      // It exited in between.
    }
  }

  /** Watches the state directory for the exit file the shim writes. */
  private watchExit(record: ContainerRecord): void {
    const stateDir = this.stateDir(record.id);
    const check = (): void => {
      const code = this.readExitCode(record);
      if (code === undefined) return;
      this.watchers.get(record.id)?.close();
      this.watchers.delete(record.id);
      void this.markExited(record, code);
    };
    // The directory also holds the log and the /etc files: only the exit file is worth a read.
    this.watchers.set(record.id, fs.watch(stateDir, (_event, file) => (file === null || file === 'exit') && check()));
    // It may have exited before the watch began.
    check();
  }

  private readExitCode(record: ContainerRecord): number | undefined {
    try {
      const code = Number(fs.readFileSync(path.join(this.stateDir(record.id), 'exit'), 'utf8').trim());
      return Number.isInteger(code) ? code : undefined;
    } catch {
      return undefined;
    }
  }

  /** A stopped container's ports are free for others, as in Docker. */
  private async withdrawPorts(record: ContainerRecord): Promise<void> {
    if (!record.sandboxId) return;
    await this.deps.networking.publish(record.sandboxId, []).catch((error: unknown) => this.deps.log.error({ err: error, container: record.id }, 'could not withdraw published ports'));
  }

  private async markExited(record: ContainerRecord, code: number): Promise<void> {
    if (record.state.status !== 'running') return;
    record.state = { ...record.state, status: 'exited', exitCode: code, finishedAt: new Date().toISOString() };
    delete record.state.pid;
    delete record.state.startTicks;
    if (record.state.ports) {
      delete record.state.ports;
      await this.withdrawPorts(record);
    }
    await this.save(record).catch((error: unknown) => this.deps.log.error({ err: error, container: record.id }, 'could not record the exit'));
    for (const resolve of this.exitWaiters.get(record.id) ?? []) resolve(code);
    this.exitWaiters.delete(record.id);
  }

  private async save(record: ContainerRecord): Promise<void> {
    if (!this.containers.has(record.id)) return;
    await this.deps.store.put(CONTAINER_PREFIX + record.id, Buffer.from(JSON.stringify(record)));
  }
}
