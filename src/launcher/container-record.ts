// A container as the launcher stores it (key `containers/<id>` in the local store).
import type { PortMapping } from '../drivers/driver';
import type { SecurityConfig } from './confinement';
import type { DnsSettings } from './etc-files';
import type { RestartPolicy } from './restart-policy';

export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerConfig {
  name: string;
  hostname: string;
  cmd: string[];
  /** KEY=VALUE, as Docker's Env. */
  env: string[];
  workdir: string;
  /** The root directory the container runs in (the busybox root unless --rootfs). */
  rootfs: string;
  /** The image as the create named it, whose root `rootfs` is; none with a --rootfs of the user's (shown as busybox, as before images). */
  image?: string;
  /** Network mode: a network's name or ID, or "host" or "none". */
  network: string;
  /** Created without a mode (or "default"): shown as "default", as Docker does; it joins the default bridge. */
  defaultMode?: true;
  /** `--ip`, `--ip6` and `--network-alias` as the create gave them; `networks` holds what the container joins. */
  ipv4?: string;
  ipv6?: string;
  /** `--mac-address`: the MAC of its endpoint on `network`. */
  mac?: string;
  aliases: string[];
  /** `-p`: published while the container runs; a host port 0 is chosen at start. */
  ports: PortMapping[];
  /** `--dns`, `--dns-search`, `--dns-option`. */
  dns: DnsSettings;
  /** `--cap-add`, `--cap-drop`, `--privileged`, `--security-opt`. */
  security: SecurityConfig;
  /** `--rm`: removed once it has exited, or when its start fails (Docker's AutoRemove). */
  autoRemove?: boolean;
  /** `--stop-timeout`: seconds a stop waits before the kill when the stop names none (10 when unset). */
  stopTimeout?: number;
  /** `--label`: Docker's Config.Labels, for `docker ps -f label=...`. */
  labels?: Record<string, string>;
  /** `--restart`: none when absent. */
  restartPolicy?: RestartPolicy;
  /** `-t`: stdio is a pty, logged and attached as one raw stream (Docker's Tty). */
  tty?: boolean;
  /** `-i`: stdin stays open for attached clients (Docker's OpenStdin). */
  openStdin?: boolean;
  /** The end of an attached client's stdin closes the container's (Docker's StdinOnce). */
  stdinOnce?: boolean;
  /** The pty's size at start (Docker's HostConfig.ConsoleSize). */
  consoleSize?: { rows: number; columns: number };
  /**
   * Every network the container joins at each start: its --network one (none with host or none),
   * then those added by `network connect`; a disconnect takes one away.
   */
  networks: NetworkJoin[];
}

/** A network as the container is configured on it (Docker's EndpointSettings without the run's values). */
export interface NetworkJoin {
  /** The network as the user named it: its key in NetworkSettings.Networks until it has been joined. */
  network: string;
  /** Set at the first join: later starts join this network only, as Docker's NetworkID (a same-named new one is another network). */
  networkId?: string;
  ipv4?: string;
  ipv6?: string;
  /** With the short ID once joined (or connected) on a network with names, as Docker stores them. */
  aliases: string[];
  /** The connect carried an IPAMConfig (Docker's CLI sends one each time): inspect shows it, `{}` when it fixed no address, as dockerd echoes it. */
  ipamConfigGiven?: true;
}

export interface ContainerState {
  status: ContainerStatus;
  /** The container's first process as the host sees it, while running. */
  pid?: number;
  /** /proc/PID/stat start time (clock ticks since boot): a PID alone may be reused. */
  startTicks?: number;
  /** The container's shim, which records its exit: its end without one means it was killed. */
  shimPid?: number;
  shimStartTicks?: number;
  exitCode?: number;
  startedAt?: string;
  finishedAt?: string;
  /** Why the last start failed, as Docker's State.Error. */
  error?: string;
  /** The ports as published while running (host ports resolved). */
  ports?: PortMapping[];
  /** Exited, and its restart policy starts it again after a backoff (Docker's Restarting). */
  restarting?: boolean;
}

export interface ContainerRecord {
  id: string;
  created: string;
  config: ContainerConfig;
  /** The sandbox the container's network namespace is, while it runs (a start makes it, the end releases it); none with --network host. */
  sandboxId?: string;
  state: ContainerState;
  /** Restarts by its policy since the user last started it (Docker's RestartCount). */
  restartCount?: number;
  /** Stopped or killed by the user since its last start: its policy restarts it no more (always does at the daemon's start). */
  manuallyStopped?: boolean;
}

/** Docker's State.Status: a container waiting to be restarted by its policy is "restarting". */
export function dockerStatus(state: ContainerState): ContainerStatus | 'restarting' {
  return state.restarting ? 'restarting' : state.status;
}

/** Docker's State.Running, which holds while a restart is pending too. */
export function isUp(state: ContainerState): boolean {
  return state.status === 'running' || state.restarting === true;
}

/** On networks with names (user-defined ones), Docker answers a container's short ID as one more alias. */
export function aliasesWithShortId(containerId: string, aliases: readonly string[]): string[] {
  const short = containerId.slice(0, 12);
  return aliases.includes(short) ? [...aliases] : [...aliases, short];
}
