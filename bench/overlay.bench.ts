// `npm run bench -- overlay`: netctl's overlay with daemons in test hosts on one underlay bridge,
// etcd in a test host of its own:
// - convergence: from `netctl run` returning on host A to the first answered ping from an existing
//   container on host B, median of 20 runs, at 3 and at 20 hosts (every host holding a container
//   on the network). B pings the new address every 2 ms from before the run, with its ARP
//   retransmit at the kernel's floor (10 ms) so the probe's own timer is not what is measured;
// - data plane: iperf3 TCP between containers on two hosts, against a VXLAN path built by hand
//   (a vxlan device with an address in each of two other test hosts, the overlay's MTU), rounds
//   alternating between the two;
// - daemon memory (VmRSS) at 20 hosts with 10 containers each.
// NETCTL_BENCH_OVERLAY_HOSTS (3,20), NETCTL_BENCH_OVERLAY_RUNS (20) shrink it for a quick look.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { inspect, interfaceWith, ok } from '../integration/helpers/containers';
import { type ClusterHost, startOverlayCluster } from '../integration/helpers/overlay-cluster';
import { createUnderlay, type Underlay, type UnderlayHost } from '../integration/helpers/underlay';
import { until } from '../test/helpers/until';
import { Cleanup } from './cleanup';
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

async function runContainer(host: ClusterHost, name: string): Promise<{ ip: string; sandbox: string }> {
  await ok(host.cli, ['run', '-d', '--name', name, '--network', NETWORK, 'sleep', '3600']);
  const info = await inspect(host.cli, name);
  return { ip: info.NetworkSettings.Networks[NETWORK]!.IPAddress, sandbox: info.NetworkSettings.SandboxKey };
}

/** The network on every host, and a resident container on each (so each is a member of the network). */
async function residents(hosts: ClusterHost[]): Promise<Array<{ ip: string; sandbox: string }>> {
  await ok(hosts[0]!.cli, ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', SUBNET, NETWORK]);
  await Promise.all(hosts.map(({ cli }) => until(`${NETWORK} listed`, async () => (await ok(cli, ['network', 'ls'])).includes(NETWORK), 60_000, 100)));
  const list: Array<{ ip: string; sandbox: string }> = [];
  for (let i = 0; i < hosts.length; i += 5) list.push(...(await Promise.all(hosts.slice(i, i + 5).map((host, j) => runContainer(host, `r${i + j}`)))));
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
async function convergence(cleanup: Cleanup, probe: { ip: string; sandbox: string }, others: ClusterHost[]): Promise<Convergence[]> {
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
    await ok(host.cli, ['run', '-d', '--name', `conv${k}`, '--network', NETWORK, '--ip', ip, 'sleep', '3600']);
    const returned = nowMs();
    const match = await reply;
    pinger.kill('SIGKILL');
    if (!match) throw new Error(`no answer from ${ip} (run on ${host.host.address}) within 30 s`);
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

/** Two test hosts joined by a vxlan device each (VNI 4242, UDP 4789, the given MTU): their overlay addresses. */
function handVxlan(underlay: Underlay, mtu: number): Array<{ host: UnderlayHost; ip: string }> {
  const pair = [underlay.addHost(), underlay.addHost()];
  return pair.map((host, i) => {
    const remote = pair[1 - i]!.address;
    const ip = `192.168.242.${i + 1}`;
    host.ns.run('ip', 'link', 'add', 'vx0', 'type', 'vxlan', 'id', '4242', 'dstport', '4789', 'local', host.address, 'remote', remote, 'dev', 'eth0');
    host.ns.run('ip', 'link', 'set', 'vx0', 'mtu', String(mtu), 'up');
    host.ns.run('ip', 'addr', 'add', `${ip}/24`, 'dev', 'vx0');
    return { host, ip };
  });
}

/** Short rounds, the two paths alternating: this VM's speed drifts within a minute (see Benchmarks). */
async function dataPlane(cleanup: Cleanup, underlay: Underlay, a: { ip: string; sandbox: string }, b: { ip: string; sandbox: string }): Promise<{ ours: number; hand: number; roundRatio: number; mtu: number }> {
  const mtu = (JSON.parse(inNetns(a.sandbox, 'ip', '-j', 'link', 'show', interfaceWith(a.sandbox, a.ip))) as Array<{ mtu: number }>)[0]!.mtu;
  const [h1, h2] = handVxlan(underlay, mtu);
  await until('the hand-built path answers', () => answers(h1!.host.ns.path, h2!.ip), 10_000, 100);
  const ours: number[] = [];
  const hand: number[] = [];
  for (let r = 0; r < IPERF_ROUNDS; r++) {
    ours.push(await iperf(cleanup, b.sandbox, a.sandbox, b.ip));
    hand.push(await iperf(cleanup, h2!.host.ns.path, h1!.host.ns.path, h2!.ip));
  }
  return { ours: median(ours), hand: median(hand), roundRatio: median(ours.map((o, r) => o / hand[r]!)), mtu };
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
      const containers = await residents(hosts);
      const [b, probe] = [hosts[1]!, containers[1]!];
      await until('the probe reaches every resident', () => containers.every((c, i) => i === 1 || answers(probe.sandbox, c.ip)), 60_000, 200);
      const samples = await convergence(cleanup, probe, hosts.filter((h) => h !== b));
      const afterReturn = samples.map((s) => Math.max(0, s.afterReturn));
      report(BENCH, `convergence, run returning on A to B's first answered ping (0 when answered first), at ${count} hosts, median of ${RUNS}${GOALS[count] ? ` (goal < ${GOALS[count]} ms)` : ''}`, median(afterReturn), 'ms', 'lower');
      report(BENCH, `convergence at ${count} hosts, worst of ${RUNS}`, Math.max(...afterReturn), 'ms', 'lower');
      report(BENCH, `runs at ${count} hosts answered on B before run returned on A`, samples.filter((s) => s.afterReturn <= 0).length, 'count', 'higher');
      report(BENCH, `B's first answered ping before run returned on A at ${count} hosts, median of ${RUNS}`, median(samples.map((s) => -s.afterReturn)), 'ms', 'higher');
      report(BENCH, `run started on A to B's first answered ping at ${count} hosts, median of ${RUNS}`, median(samples.map((s) => s.fromStart)), 'ms', 'lower');
      if (count === Math.min(...HOST_COUNTS)) {
        const { ours, hand, roundRatio, mtu } = await dataPlane(cleanup, underlay, containers[0]!, probe);
        report(BENCH, `iperf3 TCP between containers on two hosts, MTU ${mtu}, median of ${IPERF_ROUNDS} × ${IPERF_SECONDS} s`, ours / 1e9, 'Gbit/s', 'higher', { name: 'VXLAN devices made by hand, same MTU', value: hand / 1e9 });
        report(BENCH, `iperf3 over the overlay ÷ the hand-built path, median of the ${IPERF_ROUNDS} rounds' ratios (goal ≥ 0.95)`, roundRatio, 'ratio', 'higher');
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
