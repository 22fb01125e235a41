// A container as the launcher stores it (key `containers/<id>` in the local store).
import type { PortMapping } from '../drivers/driver';
import type { SecurityConfig } from './confinement';
import type { DnsSettings } from './etc-files';

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
  ipv4?: string;
  ipv6?: string;
  aliases: string[];
  /** `-p`: published while the container runs; a host port 0 is chosen at start. */
  ports: PortMapping[];
  /** `--dns`, `--dns-search`, `--dns-option`. */
  dns: DnsSettings;
  /** `--cap-add`, `--cap-drop`, `--privileged`, `--security-opt`. */
  security: SecurityConfig;
  /** `--rm`: removed once it has exited, or when its start fails (Docker's AutoRemove). */
  autoRemove?: boolean;
  /** `--label`: Docker's Config.Labels, for `docker ps -f label=...`. */
  labels?: Record<string, string>;
  /** `-t`: stdio is a pty, logged and attached as one raw stream (Docker's Tty). */
  tty?: boolean;
  /** `-i`: stdin stays open for attached clients (Docker's OpenStdin). */
  openStdin?: boolean;
  /** The end of an attached client's stdin closes the container's (Docker's StdinOnce). */
  stdinOnce?: boolean;
  /** The pty's size at start (Docker's HostConfig.ConsoleSize). */
  consoleSize?: { rows: number; columns: number };
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
}

export interface ContainerRecord {
  id: string;
  created: string;
  config: ContainerConfig;
  /** The sandbox the container's network namespace is; none with --network host. */
  sandboxId?: string;
  state: ContainerState;
}

/** On networks with names (user-defined ones), Docker answers a container's short ID as one more alias. */
export function aliasesWithShortId(containerId: string, aliases: readonly string[]): string[] {
  const short = containerId.slice(0, 12);
  return aliases.includes(short) ? [...aliases] : [...aliases, short];
}
