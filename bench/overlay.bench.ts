// `npm run bench -- overlay`: netctl's overlay with daemons in test hosts on one underlay bridge,
// etcd in a test host of its own:
// - convergence: from `netctl run` returning on host A to the first answered ping from an existing
//   container on host B, median of 20 runs, at 3 and at 20 hosts (every host holding a container
//   on the network). B pings the new address every 2 ms from before the run, with its ARP
//   retransmit at the kernel's floor (10 ms) so the probe's own timer is not what is measured;
//   at 3 hosts Docker swarm too (dockerds in test hosts of their own, swarm init/join);
// - data plane: iperf3 TCP between containers on two hosts, against VXLAN paths built by hand in
//   two other test hosts with the overlay's MTU (the overlay's own topology: veth, bridge, vxlan;
//   and a bare vxlan device with an address), rounds alternating between the three;
// - daemon memory (VmRSS) at 20 hosts with 10 containers each.
// NETCTL_BENCH_OVERLAY_HOSTS (3,20), NETCTL_BENCH_OVERLAY_RUNS (20) shrink it for a quick look.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { type Runner } from '../integration/helpers/cli';
import { inspect, interfaceWith, ok } from '../integration/helpers/containers';
import { startTestDockerd } from '../integration/helpers/dockerd';
import { type ClusterHost, startOverlayCluster } from '../integration/helpers/overlay-cluster';
import { createUnderlay, type Underlay } from '../integration/helpers/underlay';
import { until } from '../test/helpers/until';
import { Cleanup } from './cleanup';
import { benchNamespace, removeNamespace } from './namespaces';
import { median, report } from './report';

const BENCH = 'overlay';
const HOST_COUNTS = (process.env['NETCTL_BENCH_OVERLAY_HOSTS'] ?? '3,20').split(',').map(Number);
const RUNS = Number(process.env['NETCTL_BENCH_OVERLAY_RUNS'] ?? 20);
const CONTAINERS_PER_HOST = 10;
const IPERF_ROUNDS = 10;
const IPERF_SECONDS = 2;
const NETWORK = 'benchov';
const SUBNET = '10.220.0.0/16';
/** Where the measured containers' addresses come from: above any the residents are given. */
const measuredAddress = (k: number): string => `10.220.100.${k + 1}`;
const GOALS: Record<number, number> = { 3: 50, 20: 100 };
/** Docker swarm is measured at host counts up to this (a dockerd and its containerd per host). */
const SWARM_HOSTS_MAX = 3;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Wall-clock milliseconds with sub-millisecond precision, comparable with ping -D's timestamps. */
const nowMs = (): number => performance.timeOrigin + performance.now();

const inNetns = (netnsPath: string, ...command: string[]): string => execFileSync('nsenter', [`--net=${netnsPath}`, ...command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function spawnIn(cleanup: Cleanup, netnsPath: string, command: string[]): ChildProcess {
  const child = spawn('nsenter', [`--net=${netnsPath}`, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.teardown(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  return child;
}

/** Resolves with the first line of the child's stdout matching `pattern` (undefined if it ends first or `ms` passes). */
function firstLine(child: ChildProcess, pattern: RegExp, ms: number): Promise<RegExpMatchArray | undefined> {
  return new Promise((resolve) => {
    const lines = readline.createInterface({ input: child.stdout! });
    // resolve before close: close() emits 'close' at once, which settles with undefined.
    const done = (match: RegExpMatchArray | undefined): void => {
      resolve(match);
      clearTimeout(timer);
      lines.close();
    };
    const timer = setTimeout(() => done(undefined), ms);
    lines.on('line', (line) => {
      const match = pattern.exec(line);
      if (match) done(match);
    });
    lines.on('close', () => done(undefined));
  });
}

/** A host as convergence() drives it: its engine's CLI, the image argument `run` needs (none for netctl), its address. */
interface Engine {
  cli: Runner;
  image: string[];
  address: string;
}

const netctlEngine = (host: ClusterHost): Engine => ({ cli: host.cli, image: [], address: host.host.address });

type Resident = { ip: string; sandbox: string };

async function runContainer(engine: Engine, name: string): Promise<Resident> {
  await ok(engine.cli, ['run', '-d', '--name', name, '--network', NETWORK, ...engine.image, 'sleep', '3600']);
  const info = await inspect(engine.cli, name);
  return { ip: info.NetworkSettings.Networks[NETWORK]!.IPAddress, sandbox: info.NetworkSettings.SandboxKey };
}

/** A resident container on each host (so each is a member of the network), a few hosts at a time. */
async function residents(engines: Engine[]): Promise<Resident[]> {
  const list: Resident[] = [];
  for (let i = 0; i < engines.length; i += 5) list.push(...(await Promise.all(engines.slice(i, i + 5).map((engine, j) => runContainer(engine, `r${i + j}`)))));
  return list;
}

const answers = (sandbox: string, ip: string): boolean => {
  try {
    inNetns(sandbox, 'ping', '-n', '-c', '1', '-W', '1', ip);
    return true;
  } catch {
    return false;
  }
};

interface Convergence {
  /** From `netctl run` returning to the first answered ping; negative when the answer came first. */
  afterReturn: number;
  /** From `netctl run` being started (the CLI's own start included) to the first answered ping. */
  fromStart: number;
}

/** One sample per run: a container run on a host other than B, pinged by B's probe from before the run. */
async function convergence(cleanup: Cleanup, probe: { ip: string; sandbox: string }, others: Engine[]): Promise<Convergence[]> {
  // The probe retries ARP at the kernel's floor instead of once a second.
  inNetns(probe.sandbox, 'sysctl', '-q', '-w', `net.ipv4.neigh.${interfaceWith(probe.sandbox, probe.ip)}.retrans_time_ms=10`);
  const samples: Convergence[] = [];
  for (let k = 0; k < RUNS; k++) {
    const host = others[k % others.length]!;
    const ip = measuredAddress(k);
    const pinger = spawnIn(cleanup, probe.sandbox, ['stdbuf', '-oL', 'ping', '-n', '-D', '-i', '0.002', ip]);
    const reply = firstLine(pinger, /^\[(\d+\.\d+)\] \d+ bytes from/, 30_000);
    await sleep(20);
    const started = nowMs();
    await ok(host.cli, ['run', '-d', '--name', `conv${k}`, '--network', NETWORK, '--ip', ip, ...host.image, 'sleep', '3600']);
    const returned = nowMs();
    const match = await reply;
    pinger.kill('SIGKILL');
    if (!match) throw new Error(`no answer from ${ip} (run on ${host.address}) within 30 s`);
    const answered = Number(match[1]) * 1000;
    samples.push({ afterReturn: answered - returned, fromStart: answered - started });
    await ok(host.cli, ['rm', '-f', `conv${k}`]);
  }
  return samples;
}

/** iperf3 TCP from `client`'s namespace to a one-off server in `server`'s, on `ip`: received bits/s. */
async function iperf(cleanup: Cleanup, server: string, client: string, ip: string): Promise<number> {
  const daemon = spawnIn(cleanup, server, ['stdbuf', '-oL', 'iperf3', '-s', '-1', '-B', ip]);
  if (!(await firstLine(daemon, /Server listening/, 10_000))) throw new Error(`iperf3 server on ${ip} did not start`);
  const out = inNetns(client, 'iperf3', '-c', ip, '-t', String(IPERF_SECONDS), '-J');
  daemon.kill('SIGKILL');
  return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
}

/** B is the second host: once its resident reaches every other, the runs happen on the other hosts. */
async function convergenceAtB(cleanup: Cleanup, engines: Engine[], residentsOf: Resident[], waitMs: number): Promise<Convergence[]> {
  const probe = residentsOf[1]!;
  await until('the probe reaches every resident', () => residentsOf.every((c, i) => i === 1 || answers(probe.sandbox, c.ip)), waitMs, 200);
  return convergence(cleanup, probe, engines.filter((_, i) => i !== 1));
}

interface HandPaths {
  /** A container namespace behind a veth, a bridge and a vxlan device, as netctl's overlay builds it: [namespace path, address]. */
  container: Array<[string, string]>;
  /** An address on the vxlan device itself: no veth, no bridge. */
  bare: Array<[string, string]>;
}

/**
 * Two test hosts joined by hand (VNI 4242 and 4243, UDP 4789, the given MTU, learning off): the
 * overlay's own topology, a container's veth on a bridge with the vxlan device, and a bare vxlan
 * device with an address, the floor any overlay that gives containers their own namespace sits on.
 */
function handVxlan(cleanup: Cleanup, underlay: Underlay, mtu: number): HandPaths {
  const pair = [underlay.addHost(), underlay.addHost()];
  const paths: HandPaths = { container: [], bare: [] };
  pair.forEach((host, i) => {
    const remote = pair[1 - i]!.address;
    const vxlan = (name: string, vni: string): void => {
      host.ns.run('ip', 'link', 'add', name, 'type', 'vxlan', 'id', vni, 'dstport', '4789', 'local', host.address, 'remote', remote, 'dev', 'eth0', 'nolearning');
      host.ns.run('ip', 'link', 'set', name, 'mtu', String(mtu));
    };
    vxlan('vxb', '4242');
    host.ns.run('ip', 'link', 'set', 'vxb', 'up');
    host.ns.run('ip', 'addr', 'add', `192.168.242.${i + 1}/24`, 'dev', 'vxb');
    paths.bare.push([host.ns.path, `192.168.242.${i + 1}`]);
    const container = benchNamespace('ovhand');
    cleanup.teardown(() => removeNamespace(container));
    vxlan('vxc', '4243');
    host.ns.run('ip', 'link', 'add', 'brc', 'type', 'bridge');
    host.ns.run('ip', 'link', 'set', 'vxc', 'master', 'brc', 'up');
    host.ns.run('ip', 'link', 'add', 'vc', 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(mtu), 'netns', container);
    host.ns.run('ip', 'link', 'set', 'vc', 'master', 'brc', 'up');
    host.ns.run('ip', 'link', 'set', 'brc', 'up');
    const path = `/run/netns/${container}`;
    inNetns(path, 'ip', 'addr', 'add', `192.168.243.${i + 1}/24`, 'dev', 'eth0');
    inNetns(path, 'ip', 'link', 'set', 'eth0', 'up');
    paths.container.push([path, `192.168.243.${i + 1}`]);
  });
  return paths;
}

interface DataPlane {
  mtu: number;
  ours: number;
  container: number;
  bare: number;
  /** Medians of the rounds' ratios: ours ÷ the same topology by hand, ours ÷ the bare vxlan device. */
  toContainer: number;
  toBare: number;
}

/** Short rounds, the three paths alternating: this VM's speed drifts within a minute (see Benchmarks). */
async function dataPlane(cleanup: Cleanup, underlay: Underlay, a: { ip: string; sandbox: string }, b: { ip: string; sandbox: string }): Promise<DataPlane> {
  const mtu = (JSON.parse(inNetns(a.sandbox, 'ip', '-j', 'link', 'show', interfaceWith(a.sandbox, a.ip))) as Array<{ mtu: number }>)[0]!.mtu;
  const hand = handVxlan(cleanup, underlay, mtu);
  for (const [[from], [, ip]] of [hand.container, hand.bare]) await until('the hand-built path answers', () => answers(from!, ip!), 10_000, 100);
  const ours: number[] = [];
  const container: number[] = [];
  const bare: number[] = [];
  const [[c1], [c2, c2ip]] = hand.container;
  const [[b1], [b2, b2ip]] = hand.bare;
  for (let r = 0; r < IPERF_ROUNDS; r++) {
    ours.push(await iperf(cleanup, b.sandbox, a.sandbox, b.ip));
    container.push(await iperf(cleanup, c2!, c1!, c2ip!));
    bare.push(await iperf(cleanup, b2!, b1!, b2ip!));
  }
  return {
    mtu,
    ours: median(ours),
    container: median(container),
    bare: median(bare),
    toContainer: median(ours.map((o, r) => o / container[r]!)),
    toBare: median(ours.map((o, r) => o / bare[r]!)),
  };
}

/**
 * Docker's overlay, the same measure: `count` dockerds in swarm mode in test hosts of their own on
 * the underlay (the first one the manager), an attachable overlay with a resident container on each.
 */
async function swarmConvergence(cleanup: Cleanup, underlay: Underlay, count: number): Promise<Convergence[]> {
  const engines: Engine[] = [];
  for (let i = 0; i < count; i++) {
    const host = underlay.addHost();
    const dockerd = await startTestDockerd(cleanup, host.ns.name);
    engines.push({ cli: dockerd.cli, image: [dockerd.image], address: host.address });
  }
  const [manager, ...workers] = engines;
  await ok(manager!.cli, ['swarm', 'init', '--advertise-addr', manager!.address]);
  const token = (await ok(manager!.cli, ['swarm', 'join-token', '-q', 'worker'])).trim();
  for (const worker of workers) await ok(worker.cli, ['swarm', 'join', '--token', token, '--advertise-addr', worker.address, `${manager!.address}:2377`]);
  await ok(manager!.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', SUBNET, NETWORK]);
  return convergenceAtB(cleanup, engines, await residents(engines), 120_000);
}

/** Every daemon's VmRSS in MiB once each host has CONTAINERS_PER_HOST containers on the network. */
async function memory(hosts: ClusterHost[]): Promise<number[]> {
  for (let i = 0; i < hosts.length; i += 5) {
    await Promise.all(
      hosts.slice(i, i + 5).map(async (host, j) => {
        for (let c = 1; c < CONTAINERS_PER_HOST; c++) await ok(host.cli, ['run', '-d', '--name', `m${i + j}-${c}`, '--network', NETWORK, 'sleep', '3600']);
      }),
    );
  }
  // Let gossip and the peers' programming settle before reading.
  await sleep(5_000);
  return hosts.map(({ daemon }) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${daemon.process.pid}/status`, 'utf8'))?.[1]) / 1024);
}

export async function run(): Promise<void> {
  if (!fs.existsSync('/usr/bin/iperf3')) throw new Error('iperf3 is missing: run scripts/setup.sh (it installs the iperf3 package)');
  if (!fs.existsSync('/usr/bin/ping')) throw new Error('ping is missing: run scripts/setup.sh (it installs iputils-ping)');
  for (const count of HOST_COUNTS) {
    const cleanup = new Cleanup();
    try {
      const underlay = createUnderlay(cleanup);
      const hosts = await startOverlayCluster(cleanup, `ob${count}`, count, ['--log-level', 'warn'], underlay);
      await ok(hosts[0]!.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', SUBNET, NETWORK]);
      await Promise.all(hosts.map(({ cli }) => until(`${NETWORK} listed`, async () => (await ok(cli, ['network', 'ls'])).includes(NETWORK), 60_000, 100)));
      const engines = hosts.map(netctlEngine);
      const containers = await residents(engines);
      const probe = containers[1]!;
      const samples = await convergenceAtB(cleanup, engines, containers, 60_000);
      const afterReturn = samples.map((s) => Math.max(0, s.afterReturn));
      // Docker swarm in the same run where the host count is small enough for this machine to hold its dockerds.
      const swarm = count <= SWARM_HOSTS_MAX ? await swarmConvergence(cleanup, underlay, count) : undefined;
      const swarmPeer = (value: (samples: Convergence[]) => number): { name: string; value: number } | undefined => (swarm ? { name: `Docker swarm (dockerd ${count} hosts)`, value: value(swarm) } : undefined);
      report(BENCH, `convergence, run returning on A to B's first answered ping (0 when answered first), at ${count} hosts, median of ${RUNS}${GOALS[count] ? ` (goal < ${GOALS[count]} ms)` : ''}`, median(afterReturn), 'ms', 'lower', swarmPeer((s) => median(s.map((x) => Math.max(0, x.afterReturn)))));
      report(BENCH, `convergence at ${count} hosts, worst of ${RUNS}`, Math.max(...afterReturn), 'ms', 'lower', swarmPeer((s) => Math.max(...s.map((x) => Math.max(0, x.afterReturn)))));
      report(BENCH, `runs at ${count} hosts answered on B before run returned on A`, samples.filter((s) => s.afterReturn <= 0).length, 'count', 'higher', swarmPeer((s) => s.filter((x) => x.afterReturn <= 0).length));
      report(BENCH, `B's first answered ping before run returned on A at ${count} hosts, median of ${RUNS}`, median(samples.map((s) => -s.afterReturn)), 'ms', 'higher');
      report(BENCH, `run started on A to B's first answered ping at ${count} hosts, median of ${RUNS}`, median(samples.map((s) => s.fromStart)), 'ms', 'lower', swarmPeer((s) => median(s.map((x) => x.fromStart))));
      if (count === Math.min(...HOST_COUNTS)) {
        const plane = await dataPlane(cleanup, underlay, containers[0]!, probe);
        const what = `iperf3 TCP between containers on two hosts, MTU ${plane.mtu}, median of ${IPERF_ROUNDS} × ${IPERF_SECONDS} s`;
        report(BENCH, what, plane.ours / 1e9, 'Gbit/s', 'higher', { name: 'the same topology by hand (veth, bridge, vxlan)', value: plane.container / 1e9 });
        report(BENCH, `${what}, against a bare vxlan device`, plane.ours / 1e9, 'Gbit/s', 'higher', { name: 'a vxlan device with the address on it, by hand', value: plane.bare / 1e9 });
        report(BENCH, `iperf3 over the overlay ÷ the same topology by hand, median of the ${IPERF_ROUNDS} rounds' ratios (goal ≥ 0.95)`, plane.toContainer, 'ratio', 'higher');
        report(BENCH, `iperf3 over the overlay ÷ a bare vxlan device, median of the ${IPERF_ROUNDS} rounds' ratios`, plane.toBare, 'ratio', 'higher');
      }
      if (count === Math.max(...HOST_COUNTS)) {
        const rss = await memory(hosts);
        report(BENCH, `daemon RSS at ${count} hosts with ${CONTAINERS_PER_HOST} containers each, largest (goal < 90 MiB)`, Math.max(...rss), 'MiB', 'lower');
        report(BENCH, `daemon RSS at ${count} hosts with ${CONTAINERS_PER_HOST} containers each, median`, median(rss), 'MiB', 'lower');
      }
    } finally {
      await cleanup.run();
    }
  }
}
