// GET /info: what Docker's `docker info` and docker-compose read, filled with what netctl has.
// Fields for what netctl does not do (registries, swarm, runtimes' commits, cgroup limits) carry
// Docker's values for "none" or "off".
import fs from 'node:fs';
import os from 'node:os';
import type { Controller } from '../controller';
import type { ImageStore } from '../images';
import type { Launcher } from '../launcher';
import { LOGGING_DRIVER } from './container-json';

export interface EngineInfo {
  /** Docker's engine ID: stable across restarts (kept under the root). */
  id: string;
  root: string;
  version: string;
  /** Live GET /events streams. */
  eventListeners(): number;
}

const readText = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** /etc/os-release's KEY="value". */
const osRelease = (key: string): string | undefined => new RegExp(`^${key}="?([^"\\n]*)"?$`, 'm').exec(readText('/etc/os-release') ?? '')?.[1];
const NONE_COMMIT = { ID: '', Expected: '' };

export function infoJson(engine: EngineInfo, controller: Controller, launcher: Launcher, images: ImageStore): Record<string, unknown> {
  const containers = launcher.list();
  const running = containers.filter((c) => c.state.status === 'running').length;
  return {
    ID: engine.id,
    Containers: containers.length,
    ContainersRunning: running,
    ContainersPaused: 0,
    ContainersStopped: containers.length - running,
    Images: images.list().length,
    // Roots are directories; each container writes to an overlay of its own over its image's.
    Driver: 'netctl',
    DriverStatus: [['Image roots', 'directories'], ['Container layers', 'overlay']],
    Plugins: { Volume: [], Network: controller.driverTypes().sort(), Authorization: null, Log: [] },
    MemoryLimit: false,
    SwapLimit: false,
    KernelMemory: false,
    KernelMemoryTCP: false,
    CpuCfsPeriod: false,
    CpuCfsQuota: false,
    CPUShares: false,
    CPUSet: false,
    PidsLimit: false,
    // The namespace the daemon runs in: its networks' forwarding.
    IPv4Forwarding: readText('/proc/sys/net/ipv4/ip_forward')?.trim() === '1',
    BridgeNfIptables: readText('/proc/sys/net/bridge/bridge-nf-call-iptables')?.trim() === '1',
    BridgeNfIp6tables: readText('/proc/sys/net/bridge/bridge-nf-call-ip6tables')?.trim() === '1',
    Debug: false,
    NFd: fs.readdirSync('/proc/self/fd').length,
    OomKillDisable: false,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: LOGGING_DRIVER,
    CgroupDriver: 'none',
    CgroupVersion: fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1',
    NEventsListener: engine.eventListeners(),
    KernelVersion: os.release(),
    OperatingSystem: osRelease('PRETTY_NAME') ?? 'Linux',
    OSVersion: osRelease('VERSION_ID') ?? '',
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: '',
    RegistryConfig: { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: [] },
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: engine.root,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: engine.version,
    Runtimes: { 'netctl-shim': { path: 'netctl-shim' } },
    DefaultRuntime: 'netctl-shim',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    // Containers outlive the daemon and are taken up again when it starts.
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: NONE_COMMIT,
    RuncCommit: NONE_COMMIT,
    InitCommit: NONE_COMMIT,
    SecurityOptions: ['name=seccomp,profile=default'],
    Warnings: null,
  };
}
