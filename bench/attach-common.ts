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

/**
 * One side of the comparison, attaching and detaching in rounds the harness asks for: each call
 * times the next `count` attachments (or detachments) and resolves with their ms.
 */
interface Contender {
  /** Attachments in all; a round makes a tenth of them. */
  count: number;
  attach(count: number): Promise<number[]>;
  detach(count: number): Promise<number[]>;
  /** Removes what it made; safe to call at any point. */
  close(): Promise<void>;
}

interface ApiRun {
  who: string;
  image: string;
  driver: AttachDriver;
  network: NetworkSpec;
  count: number;
  /**
   * The network the containers are made on and leave, untimed, so that each is a running
   * container with a sandbox and no network when it is connected: dockerd's `none` (it refuses to
   * connect a container still on it); netctl keeps a `none` container on none for its life, so its
   * containers start on a bridge network of their own (removed once they have left it).
   */
  startOn: 'none' | NetworkSpec;
}

/** The network netctl's containers start on (see ApiRun.startOn): a subnet no contender uses. */
const START_NETWORK: NetworkSpec = { IPAM: { Config: [{ Subnet: '10.99.0.0/16' }] } };

/** The first attachment must have done the real work; checked outside the timing. */
async function expectContainerAttached(daemon: BenchDaemon, name: string, run: ApiRun): Promise<void> {
  const inspect = JSON.parse(await ok(daemon, 'GET', `/containers/${name}/json`)) as { NetworkSettings: { SandboxKey: string } };
  expectAttached(inspect.NetworkSettings.SandboxKey, run.driver, run.who);
}

/** A daemon's containers, made with --network none running `sleep` (untimed), connected and disconnected through its Engine API. */
async function throughApi(daemon: BenchDaemon, run: ApiRun): Promise<Contender> {
  const names = Array.from({ length: run.count }, (_, i) => `bench${i}`);
  let attached = 0;
  let detached = 0;
  const startNetwork = run.startOn === 'none' ? 'none' : 'bench-start';
  const close = async (): Promise<void> => {
    for (const name of names) await call(daemon.socketPath, 'DELETE', `/v1.41/containers/${name}?force=1`);
    await call(daemon.socketPath, 'DELETE', '/v1.41/networks/bench');
    if (run.startOn !== 'none') await call(daemon.socketPath, 'DELETE', `/v1.41/networks/${startNetwork}`);
  };
  const timed = async (verb: 'connect' | 'disconnect', name: string): Promise<number> => {
    const start = process.hrtime.bigint();
    await ok(daemon, 'POST', `/networks/bench/${verb}`, { Container: name });
    return msSince(start);
  };
  try {
    await ok(daemon, 'POST', '/networks/create', { Name: 'bench', Driver: run.driver, ...run.network });
    if (run.startOn !== 'none') await ok(daemon, 'POST', '/networks/create', { Name: startNetwork, Driver: 'bridge', ...run.startOn });
    for (const name of names) {
      await ok(daemon, 'POST', `/containers/create?name=${name}`, { Image: run.image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: startNetwork } });
      await ok(daemon, 'POST', `/containers/${name}/start`);
      await ok(daemon, 'POST', `/networks/${startNetwork}/disconnect`, { Container: name });
    }
    if (run.startOn !== 'none') await ok(daemon, 'DELETE', `/networks/${startNetwork}`);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    count: run.count,
    attach: async (count) => {
      const times: number[] = [];
      for (const name of names.slice(attached, (attached += count))) {
        times.push(await timed('connect', name));
        if (name === names[0]) await expectContainerAttached(daemon, name, run);
      }
      return times;
    },
    detach: async (count) => {
      const times: number[] = [];
      for (const name of names.slice(detached, (detached += count))) times.push(await timed('disconnect', name));
      return times;
    },
    close,
  };
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
/** A round makes at most a few dozen calls of well under a second: one still going after this is hung. */
const PEER_ROUND_TIMEOUT_MS = 5 * 60_000;

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

/** A peer (the CNI plugin or netavark) driven by attach-peer.js in a test host of its own, a round per command. */
async function peerInHost(kind: 'cni' | 'netavark', setup: AttachSetup): Promise<Contender> {
  const host = testHost(kind, setup);
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), `nctl-${kind}-`));
  const child = spawn('nsenter', [`--net=/run/netns/${host}`, process.execPath, path.join(__dirname, 'attach-peer.js'), kind, setup.driver, workdir], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  livePeers.set(child, workdir);
  let out = '';
  let err = '';
  let waiting: { resolve(line: string): void; reject(error: Error): void } | undefined;
  const failure = (why: string): Error => new Error(`${kind} runner ${why}: ${err}`);
  const deliver = (): void => {
    const end = out.indexOf('\n');
    if (end < 0 || !waiting) return;
    waiting.resolve(out.slice(0, end));
    waiting = undefined;
    out = out.slice(end + 1);
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    deliver();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString('utf8')).slice(-4000)));
  // A runner that died makes writes fail with EPIPE: its exit is what gets reported.
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => {
    // 'error' (nsenter could not start) may come without 'close': whichever is first settles.
    const done = (code: number | null): void => {
      waiting?.reject(failure(`exited ${code}`));
      waiting = undefined;
      resolve(code);
    };
    child.once('error', () => done(null));
    child.once('close', done);
  });
  /** The runner's next line: its answer to `command`, or (none) that it has started. */
  const answer = async (command?: string): Promise<Record<string, number[]>> => {
    if (child.exitCode !== null || child.signalCode !== null) throw failure('is gone');
    const reply = new Promise<string>((resolve, reject) => (waiting = { resolve, reject }));
    deliver();
    if (command !== undefined) child.stdin!.write(`${command}\n`);
    const timer = setTimeout(() => {
      err += `\nno answer to "${command ?? 'start'}" after ${PEER_ROUND_TIMEOUT_MS / 60_000} minutes: killed`;
      killGroup(child);
    }, PEER_ROUND_TIMEOUT_MS);
    try {
      return JSON.parse(await reply) as Record<string, number[]>;
    } finally {
      clearTimeout(timer);
    }
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    child.stdin!.end();
    const timer = setTimeout(() => killGroup(child), PEER_ROUND_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    livePeers.delete(child);
    removeNamespace(host);
    removeWorkdir(workdir);
    if (code !== 0) throw failure(`exited ${code}`);
  };
  // Started (Node's start takes a core for a while) before any contender is timed.
  try {
    await answer();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return {
    count: setup.peerCount,
    attach: async (count) => (await answer(`attach ${count}`))['attach']!,
    detach: async (count) => (await answer(`detach ${count}`))['detach']!,
    close,
  };
}

/**
 * Rounds in which every contender makes a tenth of its attachments (then of its detachments) in
 * turn: the machine's speed drifts by tens of percent within minutes here, and measuring netctl,
 * then each peer, one after another, put that drift into the ratios. Interleaved, the ratios
 * compare work done in the same stretches of time. `attached` runs between the two phases.
 */
const ROUNDS = 10;

async function inRounds(contenders: Contender[], attached: () => void): Promise<Timings[]> {
  const timings: Timings[] = contenders.map(() => ({ attach: [], detach: [] }));
  for (const phase of ['attach', 'detach'] as const) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, contender] of contenders.entries()) timings[i]![phase].push(...(await contender[phase](contender.count / ROUNDS)));
    }
    if (phase === 'attach') attached();
  }
  return timings;
}

/**
 * netctl, the CNI plugin and netavark, each in its own test host, measured in interleaved rounds;
 * then dockerd. Docker's containers (a containerd shim each) keep ~10% of a core busy while they
 * sit idle, which would slow the other contenders' rounds; its figures are an order of magnitude
 * beyond the rest, so measuring it apart changes no conclusion.
 */
export async function measureAttach(setup: AttachSetup): Promise<AttachResults> {
  for (const count of [setup.ourCount, setup.peerCount]) if (count % ROUNDS !== 0) throw new Error(`attachment counts must be multiples of ${ROUNDS}: ${count}`);
  const hosts: string[] = [];
  const daemons: BenchDaemon[] = [];
  const contenders: Contender[] = [];
  const start = async (role: string, launch: (host: string) => Promise<BenchDaemon>): Promise<BenchDaemon> => {
    const host = testHost(role, setup);
    hosts.push(host);
    const daemon = await launch(host);
    daemons.push(daemon);
    return daemon;
  };
  try {
    // The peers' runners start first (each a Node start that takes a core for a while): netctl's
    // first round then follows its containers' creation, as a container's connect does in use,
    // not a pause the harness made. Pauses are measured on their own (firstOfRounds).
    contenders.push(await peerInHost('cni', setup));
    contenders.push(await peerInHost('netavark', setup));
    const netctl = await start('netctl', startNetctl);
    contenders.unshift(await throughApi(netctl, { who: 'netctl', image: 'busybox', driver: setup.driver, network: setup.ourNetwork, count: setup.ourCount, startOn: START_NETWORK }));
    let ourRss = 0;
    const [ours, cni, netavark] = (await inRounds(contenders, () => (ourRss = ownRss(netctl.pid)))) as [Timings, Timings, Timings];
    for (const contender of contenders.splice(0)) await contender.close();
    const docker = await start('docker', startDockerd);
    contenders.push(await throughApi(docker, { who: 'dockerd', image: importBusybox(docker), driver: setup.driver, network: setup.dockerNetwork, count: setup.peerCount, startOn: 'none' }));
    let dockerRss = 0;
    const [theirs] = (await inRounds(contenders, () => (dockerRss = ownRss(docker.pid)))) as [Timings];
    return { ours: { ...ours, rss: ourRss }, cni, netavark, docker: { ...theirs, rss: dockerRss }, processStart: processStartMs() };
  } finally {
    for (const contender of contenders) await contender.close().catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
    for (const daemon of daemons) await daemon.stop();
    for (const host of hosts) removeNamespace(host);
  }
}

export const first10 = (samples: number[]): number => median(samples.slice(0, 10));
/**
 * The first attachment of each round but the first: made after the contender sat idle while the
 * others had their turn (netctl's first round follows its containers' creation instead).
 */
const firstOfRounds = (samples: number[]): number => median(samples.filter((_, i) => i > 0 && i % (samples.length / ROUNDS) === 0));
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
  // A daemon idle for a while answers its next request slower (cold caches; on a VM, a halted
  // vCPU woken first), while a process per call pays its start every time anyway. A container
  // started now and then meets the daemon in that state. dockerd runs apart: it has no idle rounds.
  for (const peer of peers.slice(0, 2)) report(bench, 'attach median, the first of rounds 2-10 (after ~0.5 s idle)', firstOfRounds(ours.attach), 'ms', 'lower', { name: peer.name, value: firstOfRounds(peer.timings.attach) });
  // Our last peerCount detaches: the ones made with as many endpoints left as the peers had.
  for (const peer of peers) report(bench, `detach median, ${peerCount} endpoints`, median(ours.detach.slice(-peerCount)), 'ms', 'lower', { name: peer.name, value: median(peer.timings.detach) });
  report(bench, 'starting a process on this machine (posix_spawn of /bin/true, median of 20): each CNI and netavark call pays it at least once', results.processStart, 'ms', 'lower');
}

/** The daemons' own RSS with all their endpoints attached: ours with ourCount, dockerd with peerCount. */
export function reportRss(setup: AttachSetup, results: AttachResults): void {
  report(setup.bench, `daemon RSS with ${setup.ourCount} endpoints (daemon process alone)`, results.ours.rss!, 'MiB', 'lower', { name: `dockerd with ${setup.peerCount} (dockerd process alone)`, value: results.docker.rss! });
}
