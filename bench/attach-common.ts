// What the attach benchmarks share (`attach`: a bridge network; `macvlan`): containers connected
// and disconnected through a daemon's Engine API (netctl, dockerd), the CNI plugin and netavark
// run by attach-peer.js, each in its own test host, and the figures against those peers.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { native } from '../src/native/addon';
import { type BenchDaemon, importBusybox, startDockerd, startNetctl } from './daemons';
import { call, ok } from './http';
import { type AttachDriver, expectAttached } from './links';
import { benchNamespace, removeNamespace } from './namespaces';
import { median, msSince, report } from './report';

export interface Timings {
  attach: number[];
  detach: number[];
  /** Daemon RSS (the daemon process alone) with every endpoint attached, in MiB. */
  rss?: number;
}

/** The body of POST /networks/create but its name and driver. */
export interface NetworkSpec {
  Options?: Record<string, string>;
  IPAM: { Config: Array<{ Subnet: string; Gateway?: string }> };
}

export interface AttachSetup {
  /** The `bench` field of every figure. */
  bench: string;
  /** How the test hosts' names start. */
  hostPrefix: string;
  driver: AttachDriver;
  /** Attachments made by netctl, and by each peer. */
  ourCount: number;
  peerCount: number;
  /** The networks netctl and dockerd connect containers to (CNI's and netavark's are attach-peer.js's). */
  ourNetwork: NetworkSpec;
  dockerNetwork: NetworkSpec;
  /** Readies a test host before its daemon or peer runs there (untimed), such as giving it a macvlan parent. */
  prepareHost?: (host: string) => void;
  peerNames: { cni: string; netavark: string; docker: string };
}

export interface AttachResults {
  ours: Timings;
  cni: Timings;
  netavark: Timings;
  docker: Timings;
  /** Median ms to start and reap /bin/true on this machine: the least a process per call costs. */
  processStart: number;
}

/**
 * What starting a process costs here, as the peers are started (posix_spawn). It differs between
 * machines far more than netctl's own work does (3 ms on a busy VM, 0.8 ms where peers.md was
 * measured), so the peers' figures, and the ratios, are read against it.
 */
function processStartMs(): number {
  const samples: number[] = [];
  const devNull = fs.openSync('/dev/null', 'r+');
  try {
    for (let i = 0; i < 20; i++) {
      const start = process.hrtime.bigint();
      const status = native().spawnAndWait('/bin/true', ['/bin/true'], devNull, devNull, devNull);
      samples.push(msSince(start));
      if (status !== 0) throw new Error(`/bin/true exited ${status}`);
    }
  } finally {
    fs.closeSync(devNull);
  }
  return median(samples);
}

const ownRss = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

interface ApiRun {
  who: string;
  image: string;
  driver: AttachDriver;
  network: NetworkSpec;
  count: number;
  /** Docker refuses to connect a container still on `none`: it leaves it first, untimed. */
  leaveNone?: boolean;
}

/** The first attachment must have done the real work; checked outside the timing. */
async function expectContainerAttached(daemon: BenchDaemon, name: string, run: ApiRun): Promise<void> {
  const inspect = JSON.parse(await ok(daemon, 'GET', `/containers/${name}/json`)) as { NetworkSettings: { SandboxKey: string } };
  expectAttached(inspect.NetworkSettings.SandboxKey, run.driver, run.who);
}

/** Containers with --network none running `sleep`, then each connected and disconnected, timed. */
async function throughApi(daemon: BenchDaemon, run: ApiRun): Promise<Timings> {
  const names = Array.from({ length: run.count }, (_, i) => `bench${i}`);
  const timings: Timings = { attach: [], detach: [] };
  try {
    await ok(daemon, 'POST', '/networks/create', { Name: 'bench', Driver: run.driver, ...run.network });
    // Containers outlive a daemon (netctl finds them again): made inside the try, so the finally removes them.
    for (const name of names) {
      await ok(daemon, 'POST', `/containers/create?name=${name}`, { Image: run.image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
      await ok(daemon, 'POST', `/containers/${name}/start`);
      if (run.leaveNone) await ok(daemon, 'POST', '/networks/none/disconnect', { Container: name });
    }
    for (const name of names) {
      const start = process.hrtime.bigint();
      await ok(daemon, 'POST', '/networks/bench/connect', { Container: name });
      timings.attach.push(msSince(start));
      if (timings.attach.length === 1) await expectContainerAttached(daemon, name, run);
    }
    timings.rss = ownRss(daemon.pid);
    for (const name of names) {
      const start = process.hrtime.bigint();
      await ok(daemon, 'POST', '/networks/bench/disconnect', { Container: name });
      timings.detach.push(msSince(start));
    }
  } finally {
    for (const name of names) await call(daemon.socketPath, 'DELETE', `/v1.41/containers/${name}?force=1`);
    await call(daemon.socketPath, 'DELETE', '/v1.41/networks/bench');
  }
  return timings;
}

/** A test host, readied by the setup; removed again if that fails. */
function testHost(role: string, setup: AttachSetup): string {
  const host = benchNamespace(`${setup.hostPrefix}-${role}`);
  try {
    setup.prepareHost?.(host);
  } catch (error) {
    removeNamespace(host);
    throw error;
  }
  return host;
}

/**
 * Peer runners still going and their workdirs: a failure or Ctrl-C in the bench ends and removes
 * them. Each runner leads a process group of its own, so killing the group also ends a peer
 * process it is waiting for (it waits without a timeout of its own).
 */
const livePeers = new Map<ChildProcess, string>();
const killGroup = (child: ChildProcess): void => {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
};
process.once('exit', () => {
  for (const [child, workdir] of livePeers) {
    killGroup(child);
    removeWorkdir(workdir);
  }
});
/** A runner makes at most a few hundred calls of well under a second: one still going after this is hung. */
const PEER_RUN_TIMEOUT_MS = 10 * 60_000;

/**
 * A runner killed before its own cleanup leaves its namespaces mounted under its workdir; they are
 * unmounted first, or they would keep their links alive (and rm would fail on them).
 */
function removeWorkdir(workdir: string): void {
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((line) => line.split(' ')[1]);
  for (const mount of mounts.filter((m): m is string => m !== undefined && (m === workdir || m.startsWith(`${workdir}/`))).reverse()) {
    spawnSync('umount', ['-l', mount]);
  }
  fs.rmSync(workdir, { recursive: true, force: true });
}

function peerInHost(kind: 'cni' | 'netavark', setup: AttachSetup): Promise<Timings> {
  const host = testHost(kind, setup);
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), `nctl-${kind}-`));
  const child = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, path.join(__dirname, 'attach-peer.js'), kind, setup.driver, String(setup.peerCount), workdir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  livePeers.set(child, workdir);
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const timer = setTimeout(() => {
    err += `\nstill running after ${PEER_RUN_TIMEOUT_MS / 60_000} minutes: killed`;
    killGroup(child);
  }, PEER_RUN_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    // 'error' (nsenter could not start) may come without 'close': whichever is first settles.
    const finish = (failure: Error | undefined): void => {
      if (!livePeers.delete(child)) return;
      clearTimeout(timer);
      removeNamespace(host);
      removeWorkdir(workdir);
      if (failure) reject(failure);
      else resolve(JSON.parse(out) as Timings);
    };
    child.once('error', (error) => finish(error));
    child.once('close', (code) => finish(code === 0 ? undefined : new Error(`${kind} runner exited ${code}: ${err}`)));
  });
}

/** netctl, then the CNI plugin, netavark and dockerd, one after another, each in its own test host. */
export async function measureAttach(setup: AttachSetup): Promise<AttachResults> {
  const netctlHost = testHost('netctl', setup);
  let dockerHost: string | undefined;
  let netctl: BenchDaemon | undefined;
  let docker: BenchDaemon | undefined;
  try {
    dockerHost = testHost('docker', setup);
    netctl = await startNetctl(netctlHost);
    const ours = await throughApi(netctl, { who: 'netctl', image: 'busybox', driver: setup.driver, network: setup.ourNetwork, count: setup.ourCount });
    const cni = await peerInHost('cni', setup);
    const netavark = await peerInHost('netavark', setup);
    docker = await startDockerd(dockerHost);
    const theirs = await throughApi(docker, { who: 'dockerd', image: importBusybox(docker), driver: setup.driver, network: setup.dockerNetwork, count: setup.peerCount, leaveNone: true });
    return { ours, cni, netavark, docker: theirs, processStart: processStartMs() };
  } finally {
    await netctl?.stop();
    await docker?.stop();
    removeNamespace(netctlHost);
    if (dockerHost !== undefined) removeNamespace(dockerHost);
  }
}

export const first10 = (samples: number[]): number => median(samples.slice(0, 10));
export const last10 = (samples: number[]): number => median(samples.slice(-10));

/** Our attach (first 10, and the first peerCount) and detach medians against each peer's. */
export function reportAgainstPeers(setup: AttachSetup, results: AttachResults): void {
  const { bench, peerCount, peerNames } = setup;
  const { ours } = results;
  const peers = [
    { name: peerNames.cni, timings: results.cni },
    { name: peerNames.netavark, timings: results.netavark },
    { name: peerNames.docker, timings: results.docker },
  ];
  for (const peer of peers) report(bench, 'attach median, first 10', first10(ours.attach), 'ms', 'lower', { name: peer.name, value: first10(peer.timings.attach) });
  for (const peer of peers) report(bench, `attach median, attachments 1-${peerCount}`, median(ours.attach.slice(0, peerCount)), 'ms', 'lower', { name: peer.name, value: median(peer.timings.attach) });
  // Our last peerCount detaches: the ones made with as many endpoints left as the peers had.
  for (const peer of peers) report(bench, `detach median, ${peerCount} endpoints`, median(ours.detach.slice(-peerCount)), 'ms', 'lower', { name: peer.name, value: median(peer.timings.detach) });
  report(bench, 'starting a process on this machine (posix_spawn of /bin/true, median of 20): each CNI and netavark call pays it at least once', results.processStart, 'ms', 'lower');
}

/** The daemons' own RSS with all their endpoints attached: ours with ourCount, dockerd with peerCount. */
export function reportRss(setup: AttachSetup, results: AttachResults): void {
  report(setup.bench, `daemon RSS with ${setup.ourCount} endpoints (daemon process alone)`, results.ours.rss!, 'MiB', 'lower', { name: `dockerd with ${setup.peerCount} (dockerd process alone)`, value: results.docker.rss! });
}
